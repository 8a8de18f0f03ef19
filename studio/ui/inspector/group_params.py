"""Groups in the inspector: what a group node is (its uses, its inside), and, for a node
shown inside a definition, exposing its parameters as the group's own.

Exposing ``conv1.out_channels`` as ``channels`` gives every use of the definition a
``channels`` parameter of its own; binding ``conv2.out_channels`` to ``channels`` too makes
one value set both. Each is one undo step (the library's journal, replayed exactly)."""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QInputDialog, QWidget

from studio.graph import Graph, GraphError
from studio.graph.fixes import Journal
from studio.graph.groups import Definition, Exposed, expose


def inner_blocks(definition: Definition) -> int:
    """The blocks inside a definition, its input ports not counted."""
    return sum(1 for n in definition.graph.nodes.values() if not n.spec.is_input)


def group_summary(graph: Graph, node_id: str) -> str:
    """"BasicBlock: used 4 times; editing inside changes all 4. 4 blocks inside." for a group node."""
    node = graph.node(node_id)
    definition = graph.library.get(node.block)
    if definition is None:
        return ""
    uses = len(graph.library.instances(definition.name))
    inside = inner_blocks(definition)
    if uses > 1:
        shared = f"used {uses} times; editing inside changes all {uses}"
    else:
        shared = "used once; editing inside changes only this one"
    return f"{definition.name}: {shared}. {inside} block{'s' * (inside != 1)} inside."


def compatible(definition: Definition, exposed: Exposed, node_id: str, param: str) -> bool:
    """Whether ``node_id.param`` can be bound to ``exposed``: a parameter of the same kind that
    takes the exposed value as it is."""
    if (node_id, param) in exposed.targets:
        return False
    first = definition.graph.node(exposed.targets[0][0]).spec.param(exposed.targets[0][1])
    spec = definition.graph.node(node_id).spec.param(param)
    if (spec.kind, spec.length, spec.choices) != (first.kind, first.length, first.choices):
        return False
    try:
        spec.coerce(exposed.default)
    except Exception:  # a range the default falls outside of
        return False
    return True


def exposing(graph: Graph, definition: Definition, node_id: str, param: str, name: str) -> Callable[[], Journal]:
    """The step that exposes ``node_id.param`` as the group parameter ``name`` (its value now the default)."""
    value = definition.graph.node(node_id).params[param]

    def apply() -> Journal:
        if any(e.name == name for e in definition.exposed):
            raise GraphError(f"{definition.name} already has a parameter {name!r}; bind to it instead")
        return expose(graph, definition.name, [*definition.exposed, Exposed(name, ((node_id, param),), value)])

    return apply


def binding(graph: Graph, definition: Definition, node_id: str, param: str, name: str) -> Callable[[], Journal]:
    """The step that binds ``node_id.param`` to the existing group parameter ``name`` as well."""

    def apply() -> Journal:
        new = [Exposed(e.name, (*e.targets, (node_id, param)), e.default) if e.name == name else e
               for e in definition.exposed]
        return expose(graph, definition.name, new)

    return apply


def unbinding(graph: Graph, definition: Definition, node_id: str, param: str) -> Callable[[], Journal]:
    """The step that frees ``node_id.param``: its group parameter stops setting it (and goes with
    its last target)."""

    def apply() -> Journal:
        new = []
        for e in definition.exposed:
            targets = tuple(t for t in e.targets if t != (node_id, param))
            if targets:
                new.append(Exposed(e.name, targets, e.default))
        return expose(graph, definition.name, new)

    return apply


def ask_parameter_name(parent: QWidget, default: str, definition: Definition) -> str | None:
    """Asks the name of a new group parameter; None when cancelled. Tests replace this."""
    text, ok = QInputDialog.getText(
        parent, "Expose as group parameter",
        f"Name of the parameter every use of {definition.name} will have:", text=default)
    return text.strip() if ok and text.strip() else None
