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
from dataclasses import dataclass, field
from typing import Any, Mapping

from torch import nn

from blocks import Constructor
from blocks.library import modules as helpers
from studio.compile import Network, compile_networks
from studio.compile.naming import Namer
from studio.graph import Graph
from studio.graph.groups import Definition

from .errors import ExportError
from .source_text import check_parses, checked_node_id, doc_text, identifier, is_identifier, literal, reserved_names


# ---- constructor calls -------------------------------------------------------

def render(call: Constructor, names: Mapping[Any, str] | None = None) -> str:
    """``call`` as source, e.g. ``nn.Conv2d(1, 6, kernel_size=5)``: keyword arguments equal to the
    constructor's own default are left out, except those ``call.shown`` names.

    ``names`` puts a name in place of a value: slot ``i`` (the i-th positional argument) or a
    keyword's name -> an ``__init__`` argument of the class the call is written in."""
    names = names or {}
    defaults = {
        name: p.default for name, p in inspect.signature(call.cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    parts = [names.get(i) or _lit(a) for i, a in enumerate(call.args)]
    for key, value in call.kwargs.items():
        if key in names:
            parts.append(f"{identifier(key, 'parameter')}={names[key]}")
        elif key in call.shown or key not in defaults or not _same(defaults[key], value):
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
    """The pieces of an exported file: class names by network key, helper source, class sources
    (one class per definition used, or per variant of it, before the network classes)."""

    def __init__(self, graph: Graph, taken: set[str] | frozenset[str] = frozenset()) -> None:
        """``taken``: more names the file around the classes defines (a script's functions)."""
        self.networks = compile_networks(graph)
        reserved = reserved_names(taken, _helper_names(), FILE_NAMES)
        self.names = class_names(graph, list(self.networks), reserved)
        used_helpers: list[str] = []
        self.groups = _Groups(graph, self.networks, reserved | set(self.names.values()), used_helpers)
        self.classes = {key: _class_source(graph, key, net, self.names[key], self.groups, used_helpers)
                        for key, net in self.networks.items()}
        self.helpers, self.needs_math = helper_source(used_helpers) if used_helpers else ("", False)

    def imports(self) -> list[str]:
        return (["import math", ""] if self.needs_math else []) + ["import torch", "from torch import nn"]

    def body(self) -> str:
        """Helper modules, group classes and network classes, without imports."""
        parts = []
        if self.helpers:
            parts.append("# ---- modules torch.nn lacks (from Studio's block library) ----\n\n\n" + self.helpers)
        parts.extend(self.groups.sources)
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
        "Needs only torch. Classes: " + ", ".join([*src.groups.names, *src.names.values()]) + ".",
        "Each class's state_dict has the same keys as the Studio-compiled module, so",
        "weights trained in Studio load with ``model.load_state_dict(...)``.",
        "GRAPH_NAME is the name of the graph it was exported from.",
        '"""',
        "",
    ]
    text = ("\n".join(header + src.imports()) + f"\n\nGRAPH_NAME = {literal(graph.name)}\n\n\n"
            + src.body() + "\n")
    return check_parses(text, "exported.py")


def _class_source(graph: Graph, key: str, net: Network, name: str, groups: "_Groups",
                  used_helpers: list[str]) -> str:
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
    lines.extend(groups.module_lines(graph, net, {}, used_helpers))
    lines.append("")
    lines.extend("    " + line for line in forward_source(net).splitlines())
    return "\n".join(lines)


# ---- groups: one class per definition ---------------------------------------------------

@dataclass(eq=False)
class _Use:
    """One instance of a definition in the graph (at any depth): its inside, its compiled module,
    its exposed parameters' values, and, once its class is made, that class and its arguments."""

    definition: Definition
    inside: Graph
    net: Network
    values: dict[str, Any]
    cls: str = ""
    args: dict[str, Any] = field(default_factory=dict)


def _call(graph: Graph, node_id: str) -> Constructor:
    node = graph.node(node_id)
    if node.spec.constructor is None:
        raise ExportError(f"{node_id}: block {node.block} compiles to plain calls and has no module")
    shapes = {p: s for p, s in graph.shapes.inputs(node_id).items() if s is not None}
    return node.spec.constructor(shapes, node.params)


def _positional_name(cls: type, index: int) -> str:
    params = [p for p in inspect.signature(cls.__init__).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][1:]  # without self
    return params[index].name if index < len(params) else f"arg{index}"


class _Groups:
    """The classes of a graph's definitions.

    Every instance of a definition is compiled from its own inside, which may differ from
    another instance's in constructor arguments (``in_channels`` 64 or 128). The class takes
    as ``__init__`` arguments exactly the values that differ between its instances (named after
    the exposed parameter whose value they equal in every instance, else ``<node>_<argument>``)
    and writes the values they share as literals. Instances whose insides compile to different
    code or module types (a definition whose ``forward`` depends on a shape) get a class each:
    ``BasicBlock``, ``BasicBlock2``. Classes come dependency-first."""

    def __init__(self, graph: Graph, networks: Mapping[str, Network], taken: set[str],
                 used_helpers: list[str]) -> None:
        self.uses: dict[str, list[_Use]] = {}
        self.at: dict[tuple[int, str], _Use] = {}  # (id(graph), node id) -> the instance there
        self._keep: list[Graph] = []  # the walked graphs stay alive, so their ids stay theirs
        self.used_helpers = used_helpers
        for net in networks.values():
            self._walk(graph, net)
        self.sources: list[str] = []
        self.names: list[str] = []
        library = graph.library
        self._definitions = set(library.definitions) if library is not None else set()
        self._taken = set(taken)
        self._reserved_args = reserved_names(taken, self._definitions, {"self"})
        if library is not None:
            for name in library.order():  # a definition after those it uses
                if name in self.uses:
                    self._classes(name)

    def _walk(self, graph: Graph, net: Network) -> None:
        for node_id, attr in net.node_to_attr.items():
            node = graph.node(node_id)
            if not node.is_group:
                continue
            definition, inside = _call(graph, node_id).args
            values = {e.name: node.params.get(e.name, e.default) for e in definition.exposed}
            use = _Use(definition, inside, net.get_submodule(attr), values)
            self.uses.setdefault(definition.name, []).append(use)
            self.at[(id(graph), node_id)] = use
            self._keep.append(inside)
            self._walk(inside, use.net)

    def _class_name(self, wanted: str, variant: int) -> str:
        if variant:
            k = variant + 1
            while f"{wanted}{k}" in self._taken or f"{wanted}{k}" in self._definitions:
                k += 1
            wanted = f"{wanted}{k}"
        name = wanted if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", wanted) else "Group"  # a keyword gets a _
        while name in self._taken or not is_identifier(name):
            name += "_"
        self._taken.add(name)
        return identifier(name, "class name")

    def _slots(self, use: _Use) -> tuple[tuple, dict[tuple[str, Any], Any], dict[tuple[str, Any], str]]:
        """What fixes the class of an instance (its code and module types), its constructor values
        by (node, argument), and each argument's name."""
        structure: list[Any] = [forward_source(use.net)]
        slots: dict[tuple[str, Any], Any] = {}
        arg_names: dict[tuple[str, Any], str] = {}
        for node_id in use.net.node_to_attr:
            inner = self.at.get((id(use.inside), node_id))
            if inner is not None:
                structure.append((node_id, inner.cls, tuple(inner.args)))
                for key, value in inner.args.items():
                    slots[(node_id, key)] = value
                    arg_names[(node_id, key)] = key
                continue
            call = _call(use.inside, node_id)
            structure.append((node_id, call.cls, len(call.args), tuple(call.kwargs), tuple(call.shown)))
            for i, value in enumerate(call.args):
                slots[(node_id, i)] = value
                arg_names[(node_id, i)] = _positional_name(call.cls, i)
            for key, value in call.kwargs.items():
                slots[(node_id, key)] = value
                arg_names[(node_id, key)] = key
        return tuple(structure), slots, arg_names

    def _classes(self, name: str) -> None:
        uses = self.uses[name]
        variants: dict[tuple, list[_Use]] = {}
        slots_of: dict[int, dict] = {}
        names_of: dict[int, dict] = {}
        for use in uses:
            structure, slots_of[id(use)], names_of[id(use)] = self._slots(use)
            variants.setdefault(structure, []).append(use)
        for k, members in enumerate(variants.values()):
            self._variant(self._class_name(name, k), members, slots_of, names_of[id(members[0])])

    def _variant(self, cls: str, members: list[_Use], slots_of: dict[int, dict], arg_names: dict) -> None:
        first = members[0]
        definition = first.definition
        slots = slots_of[id(first)]
        varying = [s for s in slots if len({_lit(slots_of[id(u)][s]) for u in members}) > 1]
        namer = Namer(self._reserved_args)
        by_source: dict[Any, str] = {}  # an exposed parameter or a slot -> its __init__ argument
        arg_of: dict[tuple[str, Any], str] = {}
        for slot in varying:
            # slots equal in every instance share one argument (conv1 and a shortcut's in_channels)
            source: Any = tuple(_lit(slots_of[id(u)][slot]) for u in members)
            wanted = f"{slot[0]}_{arg_names[slot]}"
            for e in definition.exposed:
                if is_identifier(e.name) and all(_lit(u.values[e.name]) == _lit(slots_of[id(u)][slot])
                                                 for u in members):
                    source, wanted = ("exposed", e.name), e.name
                    break
            if source not in by_source:
                by_source[source] = identifier(namer.claim(wanted), f"{cls}: argument")
            arg_of[slot] = by_source[source]
        for use in members:
            use.cls = cls
            use.args = {}
            for slot, arg in arg_of.items():
                use.args.setdefault(arg, slots_of[id(use)][slot])
        names_by_node: dict[str, dict[Any, str]] = {}
        for (node_id, key), arg in arg_of.items():
            names_by_node.setdefault(node_id, {})[key] = arg
        count = sum(1 for n in first.inside.nodes if not first.inside.node(n).spec.is_input)
        doc = doc_text(definition.description, fallback=f"The group {definition.name} ({count} blocks).")
        args = "".join(f", {a}" for a in by_source.values())
        lines = [
            f"class {cls}(nn.Module):",
            f'    """{doc}"""',
            "",
            f"    def __init__(self{args}) -> None:",
            "        super().__init__()",
        ]
        lines.extend(self.module_lines(first.inside, first.net, names_by_node, self.used_helpers))
        lines.append("")
        lines.extend("    " + line for line in forward_source(first.net).splitlines())
        self.sources.append("\n".join(lines))
        self.names.append(cls)

    def module_lines(self, graph: Graph, net: Network, names_by_node: Mapping[str, Mapping[Any, str]],
                     used_helpers: list[str]) -> list[str]:
        """The ``__init__`` lines that make each submodule of ``net`` (compiled from ``graph``);
        ``names_by_node`` puts the class's arguments in place of values."""
        lines = []
        for node_id, attr in net.node_to_attr.items():
            names = names_by_node.get(node_id, {})
            use = self.at.get((id(graph), node_id))
            if use is not None:
                args = ", ".join(f"{identifier(k, 'argument')}={names.get(k) or _lit(v)}" for k, v in use.args.items())
                expr = f"{use.cls}({args})"
            else:
                module = net.get_submodule(attr)
                if type(module).__module__ == helpers.__name__ and type(module).__name__ not in used_helpers:
                    used_helpers.append(type(module).__name__)
                expr = render(_call(graph, node_id), names)
            attr = identifier(attr, f"node {node_id!r}: attribute")
            if _mangled(attr):
                lines.append(f"        setattr(self, {literal(attr)}, {expr})")
            else:
                lines.append(f"        self.{attr} = {expr}")
        return lines
