"""The traced fx graph, walked node by node into a Studio graph.

Each ``call_module`` with a block becomes that block (``modules.describe``);
each ``call_function`` / ``call_method`` with one becomes it (``functions``).
Blocks are added as the walk reaches them, so every block's shapes are
inferred at once and a block that refuses its input, or whose inferred sizes
differ from the module's own, is refused there, naming the node and module.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import blocks
from blocks import ParamError
from torch import fx, nn

from studio.graph import Graph, NodeIdError

from .errors import ImportRefused
from .modules import describe as describe_module
from .tracing import library_kind
from .values import Items, Opaque, Port, Seq, States, describe

_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Parameters a block may lack: dropped when the module has torch's default, else refused.
_OPTIONAL = {"track_running_stats": True, "cross": False, "causal": False, "bias": True}


@dataclass
class Built:
    graph: Graph
    module_of: dict[str, str] = field(default_factory=dict)  # node id -> module path (nodes with weights)
    outputs: list[str] = field(default_factory=list)  # node ids in the order forward returns them
    scales: dict[str, float] = field(default_factory=dict)  # node id -> constant folded into its weights
    origin: dict[str, str] = field(default_factory=dict)  # node id -> the fx node it came from


class Builder:
    def __init__(self, gm: fx.GraphModule, shapes: Sequence[tuple[int, ...]], dtypes: Sequence[str],
                 name: str) -> None:
        self.gm = gm
        self.shapes = list(shapes)
        self.dtypes = list(dtypes)
        self.class_name = name
        self.graph = Graph(name)
        self.values: dict[fx.Node, Any] = {}
        self.module_of: dict[str, str] = {}
        self.called: dict[str, str] = {}  # module path -> node id, for modules with weights
        self.use: dict[str, str] = {}  # recurrent node -> "sequence" or "last"
        self.bidirectional: dict[str, bool] = {}
        self.outputs: list[str] = []
        self.scales: dict[str, float] = {}
        self.origin: dict[str, str] = {}

    # ---- messages -------------------------------------------------------------
    def where(self, node: fx.Node) -> str:
        if node.op == "call_module":
            return str(node.target)
        stack = node.meta.get("nn_module_stack") or {}
        path = next(reversed(stack), None) if stack else None
        return f"called in {path}" if path else f"called in {self.class_name}.forward"

    def refuse(self, node: fx.Node, why: str) -> ImportRefused:
        if node.op == "call_module":
            kind = type(self.gm.get_submodule(str(node.target))).__name__
            return ImportRefused(f"node {node.name!r}: module {node.target} ({kind}) {why}")
        return ImportRefused(f"node {node.name!r}: {target_text(node)} ({self.where(node)}) {why}")

    def no_block(self, node: fx.Node, detail: str = "") -> ImportRefused:
        return self.refuse(node, "has no block" + (f": {detail}" if detail else ""))

    # ---- values ---------------------------------------------------------------
    def arg(self, value: Any) -> Any:
        return fx.node.map_aggregate(value, lambda a: self.values[a] if isinstance(a, fx.Node) else a)

    def port(self, value: Any, node: fx.Node) -> Port:
        """``value`` as a block's output port, or refused naming ``node``, which takes it."""
        if isinstance(value, Port):
            return value
        if isinstance(value, Seq):
            self.decide(value.node, "sequence", node)
            return Port(value.node)
        raise self.refuse(node, f"takes {describe(value)}, which no block gives as a tensor")

    def shape(self, port: Port) -> tuple[int, ...]:
        shape = self.graph.shapes.output(port.node, port.port)
        assert shape is not None  # every block is checked as it is added
        return shape

    def decide(self, node_id: str, use: str, node: fx.Node) -> None:
        """A recurrent block's ``output``, from how the forward uses torch's (output, state)."""
        before = self.use.get(node_id)
        if before is None:
            self.use[node_id] = use
            if use == "last":
                self.graph.set_params(node_id, {"output": "last"})
        elif before != use:
            raise self.refuse(node, f"uses both the whole sequence and the final state of {node_id}; "
                                    "its block gives one of them (output 'sequence' or 'last')")

    # ---- adding blocks ----------------------------------------------------------
    def new_id(self, wanted: str) -> str:
        base = wanted if _ID.fullmatch(wanted) else "_" + re.sub(r"\W", "_", wanted)
        candidate, n = base, 0
        while candidate in self.graph:
            n += 1
            candidate = f"{base}_{n}"
        return candidate

    def add(self, node: fx.Node, block: str, params: dict[str, Any], inputs: Sequence[tuple[str, Any]],
            wanted: str | None = None, check=None) -> str:
        """A block for ``node`` wired to ``inputs`` ((port, value)), its shapes checked; returns its id."""
        if not blocks.registry.exists(block):
            raise self.no_block(node, f"block {block} is not in this Studio")
        spec = blocks.get(block)
        declared = {p.name for p in spec.params}
        for key in [k for k in params if k not in declared]:
            if key in _OPTIONAL and params[key] == _OPTIONAL[key]:
                del params[key]
            else:
                raise self.refuse(node, f"sets {key}={params[key]!r}, which block {block} does not take")
        ports = [(name, self.port(value, node)) for name, value in inputs]
        node_id = self.new_id(wanted or node.name)
        try:
            self.graph.add_node(block, params, id=node_id)
        except (ParamError, NodeIdError) as exc:
            raise self.refuse(node, f"becomes {block}, which refuses it: {exc}") from None
        self.origin[node_id] = node.name
        for name, src in ports:
            self.graph.connect(src.node, src.port, node_id, name)
        problem = self.graph.shapes.error(node_id)
        if problem is not None:
            raise self.refuse(node, f"becomes block {block} {node_id!r}, which refuses its input: "
                                    f"{problem.port + ': ' if problem.port else ''}{problem.message}")
        if check is not None:
            mismatch = check({k: v for k, v in self.graph.shapes.inputs(node_id).items() if v is not None})
            if mismatch:
                raise ImportRefused(f"node {node_id!r}: {mismatch}")
        return node_id

    # ---- the walk ---------------------------------------------------------------
    def build(self) -> Built:
        from .functions import handle

        placeholders = [n for n in self.gm.graph.nodes if n.op == "placeholder"]
        # arguments past the given shapes were traced with their defaults: unused, they are no input
        extra = placeholders[len(self.shapes):]
        if all(not n.users for n in extra):
            placeholders = placeholders[:len(self.shapes)]
            for n in extra:
                self.gm.graph.erase_node(n)
        if len(placeholders) != len(self.shapes):
            names = ", ".join(str(n.target) for n in placeholders)
            raise ImportRefused(f"{self.class_name}.forward takes {len(placeholders)} input(s) ({names}); "
                                f"give one --input-shape for each")
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                self._input(node, placeholders.index(node))
            elif node.op == "get_attr":
                raise ImportRefused(
                    f"node {node.name!r}: self.{node.target} ({self.where(node)}) is a tensor the forward uses "
                    "outside any layer, which has no block")
            elif node.op == "call_module":
                self.values[node] = self._module(node)
            elif node.op in ("call_function", "call_method"):
                self.values[node] = handle(self, node)
            elif node.op == "output":
                self._output(node)
        return Built(self._in_return_order(), dict(self.module_of), list(self.outputs), dict(self.scales),
                     dict(self.origin))

    def _input(self, node: fx.Node, index: int) -> None:
        name = str(node.target).lstrip("*")
        node_id = self.new_id(name)
        dtype = self.dtypes[index] if len(self.dtypes) > 1 else (self.dtypes[0] if self.dtypes else "float")
        self.graph.add_node("Input", {"shape": list(self.shapes[index]), "dtype": dtype}, id=node_id)
        self.values[node] = Port(node_id)
        self.origin[node_id] = node.name

    def _module(self, node: fx.Node) -> Any:
        path = str(node.target)
        module = self.gm.get_submodule(path)
        args, kwargs = self.arg(node.args), self.arg(node.kwargs)
        if type(module).__name__ == "TransformerEncoder" and isinstance(module, nn.TransformerEncoder):
            return self._encoder_stack(node, module, path, args, kwargs)
        return self._call(node, module, path, args, kwargs, node.name)

    def _call(self, node: fx.Node, module: nn.Module, path: str, args, kwargs, wanted: str) -> Any:
        mapped = describe_module(module, path, tuple(args), dict(kwargs))
        if mapped is None:
            kind = type(module)
            raise ImportRefused(f"node {node.name!r}: module {path} ({kind.__module__}.{kind.__qualname__}) "
                                "has no block")
        holds = any(True for _ in module.parameters()) or any(True for _ in module.buffers())
        if holds and path in self.called:
            raise ImportRefused(f"node {node.name!r}: module {path} is called a second time (first as "
                                f"{self.called[path]}); blocks do not share weights, so each call needs its own "
                                "module")
        node_id = self.add(node, mapped.block, mapped.params, mapped.inputs, wanted, mapped.check)
        if holds:
            self.called[path] = node_id
        self.module_of[node_id] = path
        if mapped.result == "recurrent":
            self.bidirectional[node_id] = mapped.extra["bidirectional"]
            states = States(node_id)
            if mapped.block == "LSTM":
                return Items((Seq(node_id), Items((states, Opaque(f"the cell state of {node_id}")))))
            return Items((Seq(node_id), states))
        if mapped.result == "attention":
            return Items((Port(node_id), Opaque(f"the attention weights of {node_id}")))
        return Port(node_id)

    def _encoder_stack(self, node, module, path, args, kwargs) -> Any:
        """``nn.TransformerEncoder``: its layers one block each, then its norm."""
        if len(args) + len(kwargs) != 1:
            raise ImportRefused(f"node {node.name!r}: module {path} (TransformerEncoder) is called with a mask; "
                                "its blocks take none")
        value = args[0] if args else next(iter(kwargs.values()))
        for i, layer in enumerate(module.layers):
            value = self._call(node, layer, f"{path}.layers.{i}", (value,), {}, f"{node.name}_layers_{i}")
        if module.norm is not None:
            value = self._call(node, module.norm, f"{path}.norm", (value,), {}, f"{node.name}_norm")
        return value

    def _output(self, node: fx.Node) -> None:
        result = self.arg(node.args[0])
        flat = list(result) if isinstance(result, (tuple, list)) else [result]
        if isinstance(result, dict):  # {"logits": ...}: its values in order, as the graph's outputs
            flat = list(result.values())
        if isinstance(result, Items):
            flat = list(result.items)
        ports = [self.port(v, node) for v in flat]
        seen: set[str] = set()
        for p in ports:
            spec_ports = [q.name for q in self.graph.node(p.node).output_ports()]
            if p.node in seen:
                raise ImportRefused(f"the forward returns {p.node} twice, or two outputs of it; a graph returns "
                                    "each block's outputs once")
            if spec_ports != [p.port]:
                raise ImportRefused(f"the forward returns output {p.port} of {p.node} alone; a graph returns all "
                                    f"of a block's outputs ({', '.join(spec_ports)}) or passes them on")
            if self.graph.out_edges(p.node):
                raise ImportRefused(f"the forward returns {p.node}, which it also passes on; a graph returns "
                                    "only values nothing else takes")
            seen.add(p.node)
        for node_id in self.graph.nodes:
            if node_id not in seen and not self.graph.out_edges(node_id):
                raise ImportRefused(f"node {node_id!r} is computed but neither used nor returned; a graph "
                                    "would return it")
        self.outputs = [p.node for p in ports]

    def _in_return_order(self) -> Graph:
        """The graph with its outputs last, in the order forward returns them (the compiled
        network returns its outputs in document order)."""
        g = self.graph
        order = [n for n in g.nodes if n not in self.outputs] + self.outputs
        if order == list(g.nodes):
            return g
        out = Graph(g.name)
        for node_id in order:
            n = g.node(node_id)
            out.add_node(n.block, n.params, n.position, n.id, n.label)
        for e in g.edges:
            out.connect(e.src, e.src_port, e.dst, e.dst_port)
        return out


def target_text(node: fx.Node) -> str:
    """How a message names what an fx node calls: ``torch.special.erf``, ``Tensor.view``, ``operator.add``."""
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    if node.op == "call_module":
        return str(node.target)
    return function_name(node.target)


def function_name(fn: Any) -> str:
    import torch
    import torch.nn.functional as F

    for prefix, space in (("torch.nn.functional", F), ("torch.special", torch.special),
                          ("torch.linalg", torch.linalg), ("torch.fft", torch.fft), ("torch", torch),
                          ("operator", operator)):
        name = getattr(fn, "__name__", None)
        if name and getattr(space, name, None) is fn:
            return f"{prefix}.{name}"
        for key in dir(space) if prefix in ("torch.special", "torch.linalg", "torch.fft") else ():
            if getattr(space, key, None) is fn:
                return f"{prefix}.{key}"
    module = getattr(fn, "__module__", None) or ""
    return f"{module}.{getattr(fn, '__qualname__', repr(fn))}".lstrip(".")


__all__ = ["Builder", "Built", "function_name", "target_text", "library_kind"]
