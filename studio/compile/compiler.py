"""Graph document -> ``torch.fx.Graph`` -> ``torch.fx.GraphModule``.

One walk over the nodes in topological order:

- Input nodes become placeholders named by their node id, in document order
  (that is the order ``forward`` takes them).
- Blocks with a ``constructor`` become ``call_module`` nodes; the submodule is an
  attribute named after the node id.
- Blocks with an ``emit`` add plain calls (``a + b``, ``torch.cat``,
  ``.reshape``) and own no submodule.
- Blocks with several output ports return a tuple; a consumer of one port
  reads it with ``getitem``.
- Outputs are the nodes with no outgoing wire, in document order, each with
  all its output ports; one output is returned as a tensor, several as a tuple.

Every value in the generated code is named after its node id (a second port
``p`` of node ``n`` reads ``n_p``), so ``module.code`` reads as a person would
write it. Ids that are Python keywords, builtins or attributes every module
already has (``class``, ``input``, ``training``, ``forward``) get torch.fx's
``_1`` suffix; ``node_to_attr`` records where each node's submodule went.

A graph with several separate networks (weakly connected parts, e.g. a GAN's
generator and discriminator) compiles to one ``Network`` per part. The parts
are keyed by the id of their first Input node in document order (the first
node, for a part without an Input), made safe as a ``ModuleDict`` key the same
way, and come in the order of ``Graph.components()``.
"""

from __future__ import annotations

import functools
import operator
import re
from typing import Any

from torch import fx, nn

from studio.graph import Graph, InvalidGraphError, Problem, validate
from studio.graph.groups import Definition, set_module_builder

from .naming import Namer, assign, illegal_value_names, reserved_attributes
from .network import Network, Networks

_SUFFIX = re.compile(r"_\d+$")


def compile_graph(graph: Graph) -> nn.Module:
    """The graph as a module: a ``Network`` for one network, ``Networks`` for several.

    Raises ``InvalidGraphError`` listing every problem when the graph is not valid.
    """
    networks = compile_networks(graph)
    if len(networks) == 1:
        return next(iter(networks.values()))
    return Networks(networks)


def compile_networks(graph: Graph) -> dict[str, Network]:
    """Each separate network of the graph, compiled on its own, keyed as the module docstring says."""
    problems = validate(graph)
    if problems:
        raise InvalidGraphError(problems)
    parts = graph.components()
    keys = assign([_part_key(graph, part) for part in parts], _reserved_keys())
    return {keys[_part_key(graph, part)]: _compile_part(graph, part) for part in parts}


def _part_key(graph: Graph, part: list[str]) -> str:
    members = set(part)
    in_doc_order = [n for n in graph.nodes if n in members]
    for node_id in in_doc_order:
        if graph.node(node_id).spec.is_input:
            return node_id
    return in_doc_order[0]


@functools.cache
def _reserved_keys() -> frozenset[str]:
    return frozenset(reserved_attributes(Networks, {}))


@functools.cache
def _reserved_attrs() -> frozenset[str]:
    return frozenset(reserved_attributes(Network, {}, fx.Graph()))


@functools.cache
def _illegal_values() -> frozenset[str]:
    return frozenset(illegal_value_names())


def compile_group(definition: Definition, inside: Graph) -> Network:
    """One instance of a group: its inside (``Definition.instance``) as one ``Network`` whose
    ``forward`` takes the group's input ports in order and returns its output ports, a class
    named after the definition."""
    problems = [inside.shapes.error(n) for n in inside.topological_order() if inside.shapes.error(n) is not None]
    if problems:
        raise InvalidGraphError(problems)
    outputs = [(o.node, o.port) for o in definition.outputs]
    builder = _PartBuilder(inside, inside.topological_order(), inputs=definition.inputs, outputs=outputs,
                           class_name=definition.name)
    return builder.build()


set_module_builder(compile_group)


class _PartBuilder:
    """Builds the fx graph of one network and remembers which graph node made each fx node."""

    def __init__(self, graph: Graph, part: list[str], inputs: list[str] | None = None,
                 outputs: list[tuple[str, str]] | None = None, class_name: str = "Network") -> None:
        self.graph = graph
        self.members = set(part)
        self.order = part  # topological
        self.doc_order = [n for n in graph.nodes if n in self.members]
        self.inputs = inputs if inputs is not None else [n for n in self.doc_order if graph.node(n).spec.is_input]
        self.outputs = outputs
        self.class_name = class_name
        self.fx = fx.Graph()
        self.modules: dict[str, nn.Module] = {}
        self.values: dict[tuple[str, str], fx.Node] = {}
        self.tuples: dict[str, fx.Node] = {}  # multi-output module calls, read through getitem
        self.wanted: dict[fx.Node, str] = {}  # fx node -> the name it should carry
        self.primary: set[fx.Node] = set()  # fx nodes that stand for a graph node or port
        self.node_to_value: dict[str, fx.Node] = {}
        with_module = [n for n in self.doc_order if self._has_module(n)]
        self.attrs = assign(with_module, _reserved_attrs())

    def _has_module(self, node_id: str) -> bool:
        spec = self.graph.node(node_id).spec
        return not spec.is_input and spec.emit is None

    # ---- values --------------------------------------------------------
    def value(self, node_id: str, port: str) -> fx.Node:
        key = (node_id, port)
        if key not in self.values:  # a port of a multi-output module, first read here
            ports = [p.name for p in self.graph.node(node_id).output_ports()]
            item = self.fx.call_function(operator.getitem, (self.tuples[node_id], ports.index(port)))
            self._own(item, node_id, f"{node_id}_{port}", primary=True)
            self.values[key] = item
        return self.values[key]

    def _last(self, count: int) -> list[fx.Node]:
        """The ``count`` newest fx nodes, oldest first (a walk from the end, not over the whole graph)."""
        newest = []
        for fx_node in reversed(self.fx.nodes):
            if len(newest) == count:
                break
            newest.append(fx_node)
        return newest[::-1]

    def _own(self, fx_node: fx.Node, node_id: str, name: str, primary: bool) -> None:
        fx_node.meta["node_id"] = node_id
        self.wanted[fx_node] = name
        if primary:
            self.primary.add(fx_node)

    # ---- nodes ---------------------------------------------------------
    def build(self) -> Network:
        for node_id in self.inputs:
            if self.graph.node(node_id).spec.is_input:
                ph = self.fx.placeholder(node_id)
                self._own(ph, node_id, node_id, primary=True)
                self.values[(node_id, "out")] = ph
                self.node_to_value[node_id] = ph
        for node_id in self.order:
            if not self.graph.node(node_id).spec.is_input:
                self._add(node_id)
        outputs = self.outputs if self.outputs is not None else [
            (node_id, port.name)
            for node_id in self.doc_order
            if not self.graph.out_edges(node_id)
            for port in self.graph.node(node_id).output_ports()
        ]
        results = [self.value(n, p) for n, p in outputs]
        self.fx.output(results[0] if len(results) == 1 else tuple(results))
        return self._finish(outputs)

    def _add(self, node_id: str) -> None:
        node = self.graph.node(node_id)
        spec = node.spec
        args: list[Any] = []
        for port in node.input_ports():
            edge = self.graph.edge_into(node_id, port.name)
            args.append(None if edge is None else self.value(edge.src, edge.src_port))
        shapes = {p: s for p, s in self.graph.shapes.inputs(node_id).items() if s is not None}
        out_ports = [p.name for p in node.output_ports()]
        count_before = len(self.fx.nodes)
        try:
            if spec.emit is not None:
                result = spec.emit(self.fx, args, shapes, node.params)
                results = result if isinstance(result, tuple) else (result,)
            else:
                attr = self.attrs[node_id]
                self.modules[attr] = spec.make(shapes, node.params)
                while args and args[-1] is None:  # unwired optional inputs keep the module's defaults
                    args.pop()
                call = self.fx.call_module(attr, tuple(args))
                self._own(call, node_id, node_id, primary=True)
                self.node_to_value[node_id] = call
                if len(out_ports) > 1:
                    self.tuples[node_id] = call
                    return
                results = (call,)
        except Exception as exc:  # a builder refusing what shape inference accepted
            problem = Problem(node_id, None, f"{spec.name} could not be compiled: {exc}", "build")
            raise InvalidGraphError([problem]) from exc
        if len(results) != len(out_ports):
            problem = Problem(node_id, None, f"{spec.name} gave {len(results)} outputs for ports {out_ports}", "build")
            raise InvalidGraphError([problem])
        new = self._last(len(self.fx.nodes) - count_before)
        for fx_node in new:  # what the emit added on the way, named after its node
            self._own(fx_node, node_id, f"{node_id}_{_SUFFIX.sub('', fx_node.name)}", primary=False)
        for port, fx_node in zip(out_ports, results):
            self.values[(node_id, port)] = fx_node
            if fx_node in new:
                self._own(fx_node, node_id, node_id if port == out_ports[0] else f"{node_id}_{port}", primary=True)
        self.node_to_value[node_id] = results[0]

    # ---- naming and packaging -------------------------------------------
    def _finish(self, outputs: list[tuple[str, str]]) -> Network:
        namer = Namer(_illegal_values())
        names: dict[fx.Node, str] = {}
        ordered = [n for n in self.fx.nodes if n in self.wanted]
        for group in ([n for n in ordered if n in self.primary], [n for n in ordered if n not in self.primary]):
            for fx_node in group:  # wanted names that are free first, so renames never take them
                if namer.is_free(self.wanted[fx_node]):
                    names[fx_node] = namer.claim(self.wanted[fx_node])
            for fx_node in group:
                if fx_node not in names:
                    names[fx_node] = namer.claim(self.wanted[fx_node])
        # A fresh graph built under the final names, so its namespace knows exactly them.
        for fx_node, name in names.items():
            fx_node.name = name
            if fx_node.op == "placeholder":
                fx_node.target = name
        final = fx.Graph()
        out = final.graph_copy(self.fx, {})
        final.output(out)
        final.lint()
        net = Network(self.modules, final, class_name=self.class_name)
        net.meta.update(
            node_to_attr={n: self.attrs[n] for n in self.doc_order if n in self.attrs},
            node_to_value={n: v.name for n, v in self.node_to_value.items()},
            input_nodes=list(self.inputs),
            output_nodes=outputs,
            nodes=list(self.doc_order),
        )
        return net


def _compile_part(graph: Graph, part: list[str]) -> Network:
    return _PartBuilder(graph, part).build()


__all__ = ["Network", "Networks", "compile_graph", "compile_networks"]
