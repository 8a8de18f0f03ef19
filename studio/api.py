"""The public Python API: load and save graph files, check and compile graphs.

    import studio
    graph = studio.load("examples/lenet5.json")
    problems = studio.validate(graph)      # [] when it can compile
    findings = studio.check(graph)         # the doctor: errors and warnings, each with its fixes
    model = studio.compile(graph)          # a torch.nn.Module (torch.fx code)
    studio.save(graph, "copy.json")

Each piece is imported when first used, so ``import studio`` costs nothing
and never brings in Qt.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from studio.graph import Graph, validate

if TYPE_CHECKING:
    from torch import nn

__all__ = ["Graph", "apply_fix", "check", "compile", "compile_networks", "load", "save", "validate"]


def load(path: str | os.PathLike) -> Graph:
    """Read a graph file; a bad file raises ``studio.files.GraphFileError`` naming the file and JSON path."""
    from studio.files import load as load_file

    return load_file(path)


def save(graph: Graph, path: str | os.PathLike) -> None:
    """Write ``graph`` to ``path`` (through a temporary file, so a failed save loses nothing)."""
    from studio.files import save as save_file

    save_file(graph, path)


def compile(graph: Graph) -> "nn.Module":  # noqa: A001 - the public name mirrors torch.compile
    """The graph as a ``torch.nn.Module``; raises ``InvalidGraphError`` listing every problem."""
    from studio.compile.compiler import compile_graph

    return compile_graph(graph)


def compile_networks(graph: Graph) -> dict:
    """Each separate network of the graph as its own module, keyed by its first Input's id."""
    from studio.compile.compiler import compile_networks as compile_parts

    return compile_parts(graph)


def check(graph: Graph, dataset=None) -> list:
    """The network doctor's findings (``studio.graph.Problem``): the graph's errors, with fixes where
    one is known, and its warnings (docs/checks.md); with a loaded ``dataset``, whether it fits."""
    from studio.doctor.lints import diagnose

    return diagnose(graph, dataset)


def apply_fix(graph: Graph, fix) -> None:
    """Apply one of a finding's ``fixes`` to ``graph``; a fix that no longer applies raises
    ``studio.graph.fixes.FixError`` and changes nothing."""
    from studio.graph.fixes import apply_fix as apply

    apply(graph, fix)
