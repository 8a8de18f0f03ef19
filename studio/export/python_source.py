"""A graph as a standalone, readable PyTorch source file.

The file imports only ``torch``: the few modules torch.nn lacks (``LSTMLayer``,
``GCNConv``, ...) are copied in from ``blocks.library.modules`` by their source.
Each network becomes one ``nn.Module`` class whose ``__init__`` creates one
attribute per node with explicit constructor arguments, and whose ``forward``
is the compiled ``torch.fx`` code (the same attribute and value names, so a
state dict of the compiled module loads into it unchanged).

Each attribute's constructor call is the block's own ``Constructor`` (the one
the compiler makes), fed by the node's inferred input shapes and its
parameters, written out by ``render``; arguments equal to the constructor's
own default are left out.

Text from the graph file reaches the source only through ``source_text``:
values as literals, names as checked identifiers, the graph's name in a
``GRAPH_NAME`` constant (and in the docstring only when it reads literally
there).
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from torch import nn

from blocks import Constructor
from blocks.library import modules as helpers
from studio.compile import Network, compile_networks
from studio.graph import Graph

from .errors import ExportError
from .source_text import check_parses, checked_node_id, doc_text, identifier, literal, reserved_names


# ---- constructor calls -------------------------------------------------------

def render(call: Constructor) -> str:
    """``call`` as source, e.g. ``nn.Conv2d(1, 6, kernel_size=5)``: keyword arguments equal to the
    constructor's own default are left out, except those ``call.shown`` names."""
    defaults = {
        name: p.default for name, p in inspect.signature(call.cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    parts = [_lit(a) for a in call.args]
    for key, value in call.kwargs.items():
        if key in call.shown or key not in defaults or not _same(defaults[key], value):
            parts.append(f"{identifier(key, 'parameter')}={_lit(value)}")
    return f"{_class_in_source(call.cls)}({', '.join(parts)})"


def _class_in_source(cls: type) -> str:
    """How the exported file names ``cls``: ``nn.X`` for torch.nn, the bare name for a copied helper."""
    name = identifier(cls.__name__, "module class")
    if getattr(nn, name, None) is cls:
        return f"nn.{name}"
    if getattr(helpers, name, None) is cls:
        return name
    raise ExportError(f"module class {cls.__module__}.{cls.__qualname__} is neither in torch.nn "
                      "nor in the block library's modules")


def _same(default: Any, value: Any) -> bool:
    return type(default) is type(value) and default == value or (
        isinstance(default, (int, float)) and not isinstance(default, bool)
        and isinstance(value, (int, float)) and not isinstance(value, bool) and default == value)


def _lit(value: Any) -> str:
    if isinstance(value, list):
        value = tuple(value)
    return literal(value)


def constructor(graph: Graph, node_id: str) -> str:
    """The Python expression that builds ``node_id``'s module, e.g. ``nn.Conv2d(1, 6, kernel_size=5)``:
    the block's own constructor, the one the compiler makes."""
    node = graph.node(node_id)
    if node.spec.constructor is None:
        raise ExportError(f"{node_id}: block {node.block} compiles to plain calls and has no module")
    shapes = {p: s for p, s in graph.shapes.inputs(node_id).items() if s is not None}
    return render(node.spec.constructor(shapes, node.params))


# ---- helper classes copied from blocks/library/modules.py -----------------------

def _helper_names() -> dict[str, Any]:
    """Module-level names of the helpers module that were defined there (not imported)."""
    out = {}
    for name, value in vars(helpers).items():
        if name.startswith("__"):
            continue
        if inspect.isclass(value) or inspect.isfunction(value):
            if getattr(value, "__module__", None) == helpers.__name__:
                out[name] = value
        elif isinstance(value, (tuple, str, int, float)):
            out[name] = value
    return out


def helper_source(class_names: list[str]) -> tuple[str, bool]:
    """Source of the named helper classes and every helper they use, in the helpers' file order.

    Returns (source, needs ``import math``).
    """
    names = _helper_names()
    needed: set[str] = set()
    todo = list(class_names)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        value = names[name]
        if inspect.isclass(value) or inspect.isfunction(value):
            src = inspect.getsource(value)
            for word in set(re.findall(r"\b[A-Za-z_]\w*\b", src)):
                if word in names and word != name:
                    todo.append(word)
    order = [n for n in names if n in needed]  # vars() keeps definition order
    chunks = []
    for name in order:
        value = names[name]
        if inspect.isclass(value) or inspect.isfunction(value):
            chunks.append(inspect.getsource(value).rstrip())
        else:
            chunks.append(f"{name} = {value!r}")
    source = "\n\n\n".join(chunks)
    return source, bool(re.search(r"\bmath\.", source))


# ---- forward -------------------------------------------------------------------

_FREE = re.compile(r";\s+(?:\w+ = )+None\s*$")


def forward_source(net: Network) -> str:
    """The compiled ``forward``, without the lines that only free memory."""
    code = net.graph.python_code(root_module="self")
    # fx lists every global it might need; only those the code names matter
    used = set(re.findall(r"\b[A-Za-z_]\w*\b", code.src))
    unknown = {g for g in code.globals if g in used} - {"torch", "inf", "nan", "self"}
    if unknown:
        raise ExportError(f"the compiled code needs names the exported file does not have: {sorted(unknown)}")
    lines = []
    for line in code.src.strip("\n").splitlines():
        if not line.strip():
            continue
        line = _FREE.sub("", line)
        if line.strip() in ("", "pass"):
            continue
        lines.append(line.rstrip())
    return _SELF_ATTR.sub(_self_attr, "\n".join(lines))


_SELF_ATTR = re.compile(r"\bself\.([A-Za-z_][A-Za-z0-9_]*)")


def _mangled(name: str) -> bool:
    """Whether Python renames ``name`` inside a class body (``__x`` becomes ``_Class__x``)."""
    return name.startswith("__") and not name.endswith("__")


def _self_attr(match: re.Match) -> str:
    # a submodule named __x (a node id such as __init__ gives __init___1) is reached by its string,
    # so its state_dict key stays the compiled module's
    name = match.group(1)
    return f"getattr(self, {literal(name)})" if _mangled(name) else match.group(0)


# ---- the file --------------------------------------------------------------------

def class_name(text: str, fallback: str = "Network", taken: set[str] | frozenset[str] = frozenset()) -> str:
    """``"LeNet-5 digits"`` -> ``LeNet5Digits``; a name that is no identifier falls back.

    A name in ``taken`` (a keyword, a builtin, a name the file defines: ``None``,
    ``Exception``, ``LSTMLayer``) gets ``Network`` appended."""
    words = re.findall(r"[A-Za-z0-9]+", text)
    name = "".join(w[:1].upper() + w[1:] for w in words)
    if not name or not name.isidentifier():
        name = fallback
    while name in taken:
        name += "Network"
    return name


def class_names(graph: Graph, keys: list[str], taken: set[str] | frozenset[str] = frozenset()) -> dict[str, str]:
    """The class each network becomes: the graph's name for one network, ``<Key>Network`` for several."""
    if len(keys) == 1:
        return {keys[0]: identifier(class_name(graph.name, taken=taken), "class name")}
    out: dict[str, str] = {}
    for key in keys:
        name = class_name(key, "Part") + "Network"
        while name in out.values() or name in taken:
            name += "_"
        out[key] = identifier(name, "class name")
    return out


# Names an exported file binds besides its classes.
FILE_NAMES = frozenset({"math", "torch", "nn", "GRAPH_NAME"})


class ModelSource:
    """The pieces of an exported file: class names by network key, helper source, class sources."""

    def __init__(self, graph: Graph, taken: set[str] | frozenset[str] = frozenset()) -> None:
        """``taken``: more names the file around the classes defines (a script's functions)."""
        self.networks = compile_networks(graph)
        self.names = class_names(graph, list(self.networks), reserved_names(taken, _helper_names(), FILE_NAMES))
        used_helpers: list[str] = []
        self.classes = {key: _class_source(graph, key, net, self.names[key], used_helpers)
                        for key, net in self.networks.items()}
        self.helpers, self.needs_math = helper_source(used_helpers) if used_helpers else ("", False)

    def imports(self) -> list[str]:
        return (["import math", ""] if self.needs_math else []) + ["import torch", "from torch import nn"]

    def body(self) -> str:
        """Helper modules and network classes, without imports."""
        parts = []
        if self.helpers:
            parts.append("# ---- modules torch.nn lacks (from Studio's block library) ----\n\n\n" + self.helpers)
        parts.extend(self.classes.values())
        return "\n\n\n".join(parts)


def export_python(graph: Graph) -> str:
    """The graph as one standalone PyTorch source file (a class per network).

    Raises ``InvalidGraphError`` for an invalid graph, ``ExportError`` for a
    module the file cannot name.
    """
    src = ModelSource(graph)
    # the name in the docstring only where it reads literally; GRAPH_NAME always holds it exactly
    title = doc_text(graph.name, fallback="A network")
    header = [
        f'"""{title}: exported from Studio as plain PyTorch.',
        "",
        "Needs only torch. Classes: " + ", ".join(src.names.values()) + ".",
        "Each class's state_dict has the same keys as the Studio-compiled module, so",
        "weights trained in Studio load with ``model.load_state_dict(...)``.",
        "GRAPH_NAME is the name of the graph it was exported from.",
        '"""',
        "",
    ]
    text = ("\n".join(header + src.imports()) + f"\n\nGRAPH_NAME = {literal(graph.name)}\n\n\n"
            + src.body() + "\n")
    return check_parses(text, "exported.py")


def _class_source(graph: Graph, key: str, net: Network, name: str, used_helpers: list[str]) -> str:
    inputs = []
    for input_id in net.input_nodes:
        p = graph.node(input_id).params
        shape = ", ".join(str(int(d)) for d in p["shape"])
        kind = " integer token ids" if p.get("dtype") == "long" else ""
        inputs.append(f"{checked_node_id(input_id)} [B, {shape}]{kind}")
    outputs = []
    for node_id, port in net.output_nodes:
        shape = graph.shapes.output(node_id, port)
        outputs.append(f"[B, {', '.join(str(int(d)) for d in shape)}]" if shape is not None else "?")
    lines = [
        f"class {name}(nn.Module):",
        f'    """Inputs: {"; ".join(inputs)}. Returns {", ".join(outputs)}."""',
        "",
        "    def __init__(self) -> None:",
        "        super().__init__()",
    ]
    for nid, attr in net.node_to_attr.items():
        module = net.get_submodule(attr)
        if type(module).__module__ == helpers.__name__ and type(module).__name__ not in used_helpers:
            used_helpers.append(type(module).__name__)
        attr = identifier(attr, f"node {nid!r}: attribute")
        if _mangled(attr):
            lines.append(f"        setattr(self, {literal(attr)}, {constructor(graph, nid)})")
        else:
            lines.append(f"        self.{attr} = {constructor(graph, nid)}")
    lines.append("")
    lines.extend("    " + line for line in forward_source(net).splitlines())
    return "\n".join(lines)
