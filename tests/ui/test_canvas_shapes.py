"""Shapes on wires, red nodes with their reason, parameter counts on nodes
and in the status bar, all live as the graph changes."""

from __future__ import annotations

from .conftest import scene_agrees


def lenet_like(ed):
    ed.add_block("Input", (0, 0), {"shape": [1, 28, 28]})
    ed.add_block("Conv2d", (240, 0), {"out_channels": 6, "kernel_size": 5})
    ed.add_block("Flatten", (480, 0))
    ed.add_block("Linear", (720, 0), {"out_features": 10})
    for a, b in (("input1", "conv2d1"), ("conv2d1", "flatten1"), ("flatten1", "linear1")):
        ed.connect(a, "out", b, "in")


def labels(window):
    return {str(e): item.label for e, item in window.scene.edges.items()}


def test_wire_labels_follow_edits(window, qtbot):
    ed = window.editor
    lenet_like(ed)
    assert labels(window) == {
        "input1.out -> conv2d1.in": "[1, 28, 28]",
        "conv2d1.out -> flatten1.in": "[6, 24, 24]",
        "flatten1.out -> linear1.in": "[3456]",
    }
    ed.set_params("conv2d1", {"padding": 2})
    assert labels(window)["conv2d1.out -> flatten1.in"] == "[6, 28, 28]"
    assert labels(window)["flatten1.out -> linear1.in"] == "[4704]"
    window.counter.compute_now()
    # conv: 6*1*5*5 + 6 = 156, linear: 4704*10 + 10 = 47050
    assert window.scene.nodes["conv2d1"].param_count == 156
    assert window.scene.nodes["linear1"].param_count == 47050
    qtbot.waitUntil(lambda: "47,206 params" in window.status_label.text())
    assert "4 nodes" in window.status_label.text() and "no problems" in window.status_label.text()


def test_failing_node_turns_red_and_the_rest_keeps_shapes(window, qtbot):
    ed = window.editor
    lenet_like(ed)
    ed.add_block("ReLU", (240, 200))
    ed.connect("input1", "out", "relu1", "in")
    ed.set_params("conv2d1", {"kernel_size": 40})
    item = window.scene.nodes["conv2d1"]
    assert item.problem is not None and item.problem.kind == "shape"
    assert "kernel" in " ".join(item._error_lines) or "40" in " ".join(item._error_lines)
    assert item.inputs["in"].problem == "shape"
    # Nodes below have no shape, others keep theirs.
    assert labels(window)["conv2d1.out -> flatten1.in"] == "?"
    assert labels(window)["input1.out -> relu1.in"] == "[1, 28, 28]"
    assert window.scene.nodes["relu1"].problem is None
    qtbot.waitUntil(lambda: window.status_label.text().endswith("1 error"))
    assert item.severity == "error"  # the list agrees: red header and border
    ed.undo_stack.undo() if ed.undo_stack.count() else None
    ed.set_params("conv2d1", {"kernel_size": 5})
    assert window.scene.nodes["conv2d1"].problem is None
    assert labels(window)["flatten1.out -> linear1.in"] == "[3456]"
    scene_agrees(window)


def test_unconnected_input_is_marked_not_red(window):
    window.editor.add_block("Linear", (0, 0))
    item = window.scene.nodes["linear1"]
    assert item.problem.kind == "unconnected"
    assert item.inputs["in"].problem == "unconnected"
    assert item._error_lines == ["in: not connected"]


def test_ports_follow_dynamic_inputs(window):
    ed = window.editor
    ed.add_block("Concat", (0, 0))
    assert list(window.scene.nodes["concat1"].inputs) == ["in1", "in2"]
    ed.set_params("concat1", {"num_inputs": 4})
    assert list(window.scene.nodes["concat1"].inputs) == ["in1", "in2", "in3", "in4"]
    ed.undo_stack.undo()
    assert list(window.scene.nodes["concat1"].inputs) == ["in1", "in2"]
    scene_agrees(window)
