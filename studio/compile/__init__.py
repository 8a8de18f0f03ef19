"""The compiler: a graph document becomes plain ``torch.fx`` code over named submodules.

``studio.compile(graph)`` is the public spelling. Importing this package sets
the attribute ``studio.compile`` to the package itself, which would hide that
function; so the package is made callable and calling it compiles a graph.
"""

from __future__ import annotations

import sys
import types

from .compiler import compile_graph, compile_networks
from .network import Network, Networks

__all__ = ["Network", "Networks", "compile_graph", "compile_networks"]


class _CompilePackage(types.ModuleType):
    def __call__(self, graph):
        """Compile ``graph``; see ``compile_graph``."""
        return compile_graph(graph)


sys.modules[__name__].__class__ = _CompilePackage
