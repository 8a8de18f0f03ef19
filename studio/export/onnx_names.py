"""The user's node ids inside an ONNX file, and the node behind an exporter's error.

The exporter names initializers by module path (``conv1.weight``) and records
each ONNX node's module path in its metadata (``pkg.torch.onnx.name_scopes``).
A compiled network keeps a submodule per node with weights; blocks that compile
to plain calls (``add``, ``flatten``) have none, so before export each such call
is wrapped in a small module named after its value. Every ONNX node then knows
its graph node, and is renamed after it.
"""

from __future__ import annotations

import ast
import re
import traceback
from collections import defaultdict

import torch
from torch import fx, nn

from studio.compile import Network

SCOPES = "pkg.torch.onnx.name_scopes"
# names a wrapper's attribute cannot take: what a GraphModule already is or has
_RESERVED = frozenset(dir(fx.GraphModule)) | frozenset(vars(nn.Module()))


class _Call(nn.Module):
    """One plain call of the compiled code (a function or a tensor method), as a module."""

    def __init__(self, target, method: bool) -> None:
        super().__init__()
        self.target = target
        self.method = method

    def forward(self, *args, **kwargs):
        if self.method:
            if self.target == "squeeze" and _keeps_dimension(args, kwargs):
                return args[0]  # torch leaves a dimension other than 1 as it is; ONNX's Squeeze would refuse it
            return getattr(args[0], self.target)(*args[1:], **kwargs)
        return self.target(*args, **kwargs)


def _keeps_dimension(args, kwargs) -> bool:
    """A ``squeeze(dim)`` whose dimension has a known size other than 1 (the free batch is not known)."""
    dim = args[1] if len(args) > 1 else kwargs.get("dim")
    if not isinstance(dim, int) or not isinstance(args[0], torch.Tensor):
        return False
    size = args[0].shape[dim]
    return isinstance(size, int) and size != 1


class _AdaptiveMaxPool2d(nn.Module):
    """``nn.AdaptiveMaxPool2d`` in operations the ONNX exporter has: a plain max pool where the output
    divides the input, else the max of each of torch's windows (rows, then columns: a window is a
    rectangle), the input's height and width being fixed."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2], x.shape[-1]
        size = self.output_size if isinstance(self.output_size, (tuple, list)) else (self.output_size,) * 2
        oh, ow = (h if size[0] is None else size[0]), (w if size[1] is None else size[1])
        if h % oh == 0 and w % ow == 0:
            return nn.functional.max_pool2d(x, (h // oh, w // ow))
        x = torch.cat([x[..., (i * h) // oh:-((-(i + 1) * h) // oh), :].amax(dim=-2, keepdim=True)
                       for i in range(oh)], dim=-2)
        return torch.cat([x[..., (j * w) // ow:-((-(j + 1) * w) // ow)].amax(dim=-1, keepdim=True)
                          for j in range(ow)], dim=-1)


def _exportable(module):
    """``module``, or an equal one in operations the exporter can translate."""
    if isinstance(module, nn.AdaptiveMaxPool2d) and not module.return_indices:
        return _AdaptiveMaxPool2d(module.output_size)
    return module


class Traceable:
    """``net`` with its plain calls wrapped, and which attribute belongs to which node id.

    A group's submodule is wrapped the same way, inside: its attributes are owned by
    ``group.node`` paths (``layer1_0.conv1``, ``layer1_0.add``)."""

    def __init__(self, net: Network) -> None:
        self.owners: dict[str, str] = {}  # module path -> node id (``group.node`` inside a group)
        self.module = _wrapped(net, self.owners, "", "", "Network")
        self.module.eval()
        self._by_identity = {id(m): path for path, m in self.module.named_modules() if path in self.owners}

    def owner_of_error(self, exc: BaseException, program: torch.export.ExportedProgram | None = None) -> str | None:
        """The node id behind an exporter's failure, where it can be told: the innermost of the
        network's submodules on the traceback, else a graph node the message names (``%name``)."""
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            found = None
            for frame, _ in traceback.walk_tb(current.__traceback__):
                attr = self._by_identity.get(id(frame.f_locals.get("self")))
                if attr is not None:
                    found = attr
            if found is not None:
                return self.owners.get(found)
            current = current.__cause__ or current.__context__
        text = _chain_text(exc)
        if program is not None:
            nodes = {n.name: n for n in program.graph.nodes}
            for name in re.findall(r"%([A-Za-z_][A-Za-z0-9_]*)", text):
                stack = nodes[name].meta.get("nn_module_stack") if name in nodes else None
                for path, _ in reversed(list((stack or {}).values())):  # the innermost first
                    owner = _owner_of_path(_path(path), self.owners)
                    if owner is not None:
                        return owner
        return None


def _wrapped(net: Network, owners: dict[str, str], attr_prefix: str, id_prefix: str,
             class_name: str) -> fx.GraphModule:
    """A copy of ``net`` whose plain calls are modules named after their values, groups wrapped too."""
    for node_id, attr in net.node_to_attr.items():
        owners[attr_prefix + attr] = id_prefix + node_id
    graph = fx.Graph()
    out = graph.graph_copy(net.graph, {})
    graph.output(out)
    # what the code reaches by name (submodules, constants), then the wrappers
    modules: dict[str, object] = {}
    for node in graph.nodes:
        if node.op not in ("call_module", "get_attr"):
            continue
        value = _attribute(net, node.target)
        if node.op == "call_module" and isinstance(value, Network):  # a group: its own calls named inside it
            owner = owners.get(attr_prefix + node.target, id_prefix + node.target)
            value = _wrapped(value, owners, f"{attr_prefix}{node.target}.", f"{owner}.", type(value).__name__)
        modules[node.target] = _exportable(value)
    taken = set(dict(net.named_children())) | {name.split(".")[0] for name in modules} | _RESERVED
    for node in list(graph.nodes):
        node_id = node.meta.get("node_id")
        if node.op not in ("call_function", "call_method") or node_id is None:
            continue
        attr = _free(node.name, taken)
        taken.add(attr)
        modules[attr] = _Call(node.target, node.op == "call_method")
        owners[attr_prefix + attr] = id_prefix + node_id
        with graph.inserting_before(node):
            call = graph.call_module(attr, node.args, node.kwargs)
        call.meta.update(node.meta)
        node.replace_all_uses_with(call)
        graph.erase_node(node)
    graph.lint()
    return fx.GraphModule(modules, graph, class_name=class_name)


def _owner_of_path(path: str, owners: dict[str, str]) -> str | None:
    """The node id of the innermost module on ``path`` that has one (``layer1_0.conv1.weight``)."""
    while path:
        owner = owners.get(path)
        if owner is not None:
            return owner
        path = path.rpartition(".")[0]
    return None


def rename(model, owners: dict[str, str]) -> None:
    """ONNX nodes and initializers renamed after the node ids they came from (``owners``: top-level
    module attribute -> node id). A node made of several ONNX nodes names each ``id/OpType``."""
    nodes = list(model.graph)
    groups: dict[str, list] = defaultdict(list)
    for node in nodes:
        owner = _owner(node, owners)
        if owner is not None:
            groups[owner].append(node)
    kept = {node.name for node in nodes if _owner(node, owners) is None}
    for owner, members in groups.items():
        by_type: dict[str, int] = defaultdict(int)
        for node in members:
            by_type[node.op_type] += 1
        seen: dict[str, int] = defaultdict(int)
        for node in members:
            if len(members) == 1:
                wanted = owner
            elif by_type[node.op_type] == 1:
                wanted = f"{owner}/{node.op_type}"
            else:
                seen[node.op_type] += 1
                wanted = f"{owner}/{node.op_type}_{seen[node.op_type]}"
            node.name = _free(wanted, kept)
            kept.add(node.name)
    for name, value in list(model.graph.initializers.items()):
        head = name.rpartition(".")[0]
        while head and head not in owners:
            head = head.rpartition(".")[0]
        owner = owners.get(head) if head else None
        if owner is not None and owner != head:
            wanted = f"{owner}{name[len(head):]}"
            if wanted not in model.graph.initializers:
                value.name = wanted


def _owner(node, owners: dict[str, str]) -> str | None:
    """The node id an ONNX node computes; ``conv1+bn1`` where the exporter folded one node into
    another (a batch norm into the convolution whose weights it takes)."""
    scope = _top_scope(node)
    owner = _owner_of_path(scope, owners) if scope else None
    if owner is None:
        return None
    folded = []
    for value in node.inputs:
        if value is not None and value.is_initializer() and value.name:
            other = _owner_of_path(value.name.rpartition(".")[0], owners)
            if other is not None and other != owner and other not in folded:
                folded.append(other)
    return "+".join([*folded, owner])


def name_batch(model, name: str = "batch") -> None:
    """The free batch dimension called ``name`` wherever it appears (torch calls it ``s0``, ``s40``)."""
    from onnx_ir import Shape, SymbolicDim

    first = model.graph.inputs[0].shape if model.graph.inputs else None
    if first is None or len(first) == 0 or not isinstance(first[0], SymbolicDim) or first[0].value is None:
        return
    symbol = first[0].value
    values = [*model.graph.inputs, *model.graph.outputs, *(v for node in model.graph for v in node.outputs)]
    for value in values:
        shape = value.shape
        if shape is None or not any(isinstance(d, SymbolicDim) and d.value == symbol for d in shape):
            continue
        value.shape = Shape([SymbolicDim(name) if isinstance(d, SymbolicDim) and d.value == symbol else d
                             for d in shape])


def _attribute(module: nn.Module, path: str):
    for part in path.split("."):
        module = getattr(module, part)
    return module


def _top_scope(node) -> str | None:
    raw = node.metadata_props.get(SCOPES)
    if not raw:
        return None
    try:
        scopes = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return None
    return scopes[1] if isinstance(scopes, list) and len(scopes) > 1 else None


def _path(path: str) -> str:
    # nn_module_stack paths read like "L['self'].conv1" (strict) or "conv1" (non-strict)
    return re.sub(r"^L\['self'\]\.?", "", path)


def _free(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    i = 1
    while f"{name}_{i}" in taken:
        i += 1
    return f"{name}_{i}"


def _chain_text(exc: BaseException) -> str:
    parts, seen, current = [], set(), exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(str(current))
        current = current.__cause__ or current.__context__
    return "\n".join(parts)
