"""Random sequences of edits, undos and redos: after every step the document
and the scene agree, and undoing everything gives back the empty document."""

from __future__ import annotations

from fuzzing import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.graph import Graph
from studio.ui.canvas.scene import GraphScene
from studio.ui.document import GraphEditor

from .conftest import scene_agrees

BLOCKS = ["Linear", "ReLU", "Add", "Conv2d", "Flatten", "Concat"]

op = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(BLOCKS), st.integers(-400, 400), st.integers(-400, 400)),
    st.tuples(st.just("input"), st.integers(1, 4)),
    st.tuples(st.just("connect"), st.integers(0, 50), st.integers(0, 50), st.integers(0, 3)),
    st.tuples(st.just("delete"), st.lists(st.integers(0, 50), max_size=3)),
    st.tuples(st.just("move"), st.lists(st.integers(0, 50), min_size=1, max_size=3), st.integers(-90, 90)),
    st.tuples(st.just("param"), st.integers(0, 50), st.integers(-2, 40)),
    st.tuples(st.just("paste"), st.lists(st.integers(0, 50), min_size=1, max_size=3)),
    st.tuples(st.just("layout"),),
    st.tuples(st.just("undo"), st.integers(1, 3)),
    st.tuples(st.just("redo"), st.integers(1, 3)),
)


class Window:
    """Just what scene_agrees reads: the editor and the scene."""

    def __init__(self):
        self.editor = GraphEditor(Graph())
        self.scene = GraphScene(self.editor, parent=self.editor)

    def dispose(self):
        # Delete the Qt side now rather than leave it to Python's cycle collector.
        import shiboken6

        self.scene.clear()
        shiboken6.delete(self.editor)


def pick(graph, i):
    ids = list(graph.nodes)
    return ids[i % len(ids)] if ids else None


def apply(ed: GraphEditor, action) -> None:
    g = ed.graph
    kind = action[0]
    if kind == "add":
        ed.add_block(action[1], (action[2], action[3]))
    elif kind == "input":
        ed.add_block("Input", (0, 0), {"shape": [action[1] * 4]})
    elif kind == "connect":
        a, b = pick(g, action[1]), pick(g, action[2])
        if a and b and g.node(b).input_ports():
            ports = g.node(b).input_ports()
            ed.connect(a, "out", b, ports[action[3] % len(ports)].name)
    elif kind == "delete":
        ed.delete({pick(g, i) for i in action[1] if g.nodes})
    elif kind == "move":
        if g.nodes:
            ed.move({n: (g.node(n).position[0] + action[2], g.node(n).position[1]) for n in
                     {pick(g, i) for i in action[1]}})
    elif kind == "param":
        n = pick(g, action[1])
        if n and g.node(n).spec.params:
            name = g.node(n).spec.params[0].name
            value = action[2] if g.node(n).spec.params[0].kind in ("int", "ints") else None
            if value is not None:
                ed.set_params(n, {name: value})  # refusals push nothing
    elif kind == "paste":
        if g.nodes:
            ed.duplicate({pick(g, i) for i in action[1]})
    elif kind == "layout":
        ed.auto_layout()
    elif kind == "undo":
        for _ in range(action[1]):
            ed.undo_stack.undo()
    elif kind == "redo":
        for _ in range(action[1]):
            ed.undo_stack.redo()


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(op, min_size=1, max_size=25))
def test_random_edits_keep_scene_and_document_in_step(qapp, actions):
    w = Window()
    ed = w.editor
    empty = ed.graph.snapshot()
    history = {0: empty}
    try:
        run(w, actions, empty, history)
    finally:
        w.dispose()


def run(w, actions, empty, history):
    ed = w.editor
    for action in actions:
        before = (ed.undo_stack.index(), ed.undo_stack.count())
        apply(ed, action)
        scene_agrees(w)
        idx = ed.undo_stack.index()
        snap = ed.graph.snapshot()
        if action[0] not in ("undo", "redo") and (idx, ed.undo_stack.count()) != before:
            # A new step forgets the redo branch; so do we.
            history = {k: v for k, v in history.items() if k < idx}
        if idx in history:
            assert snap == history[idx], f"state {idx} differs after {action}"
        history[idx] = snap
    # Undo to the start, then redo to the end: each state is exactly as it was.
    while ed.undo_stack.canUndo():
        ed.undo_stack.undo()
        assert ed.graph.snapshot() == history[ed.undo_stack.index()]
    assert ed.graph.snapshot() == empty
    scene_agrees(w)
    while ed.undo_stack.canRedo():
        ed.undo_stack.redo()
        assert ed.graph.snapshot() == history[ed.undo_stack.index()]
    scene_agrees(w)
