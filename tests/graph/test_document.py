import pytest
from graph_helpers import chain

from blocks import ParamError
from studio.graph import CycleError, Graph, InputTakenError, validate


def lenet():
    return chain(
        Graph(),
        ("Input", {"shape": [1, 32, 32]}, "image"),
        ("Conv2d", {"out_channels": 6, "kernel_size": 5}, "c1"), ("Tanh", {}, "a1"),
        ("AvgPool2d", {"kernel_size": 2}, "s2"),
        ("Conv2d", {"out_channels": 16, "kernel_size": 5}, "c3"), ("Tanh", {}, "a3"),
        ("AvgPool2d", {"kernel_size": 2}, "s4"), ("Flatten", {}, "flat"),
        ("Linear", {"out_features": 120}, "f5"), ("Tanh", {}, "a5"),
        ("Linear", {"out_features": 84}, "f6"), ("Tanh", {}, "a6"),
        ("Linear", {"out_features": 10}, "f7"),
    )


def test_lenet_shapes_and_parameter_count():
    g = lenet()
    assert validate(g) == []
    assert g.shapes.output("s4") == (16, 5, 5)
    assert g.shapes.output("flat") == (400,)
    assert g.total_params() == 61706
    assert g.param_count("c1") == 6 * 25 + 6


def test_edit_reinfers_only_descendants():
    g = lenet()
    seen = []
    g.subscribe(lambda e: seen.append(e) if e.kind == "shapes_changed" else None)
    g.set_params("c3", {"out_channels": 20})
    # f5's output stays [120] but its parameter count changes; f6 and f7 are untouched
    assert set(seen[-1].nodes) == {"c3", "a3", "s4", "flat", "f5"}
    assert g.shapes.output("flat") == (500,)
    assert g.param_count("f5") == 500 * 120 + 120


def test_failing_rule_marks_only_that_node():
    g = lenet()
    g.set_params("c1", {"kernel_size": 40})
    problems = validate(g)
    assert [(p.node, p.port) for p in problems] == [("c1", "in")]
    assert "smaller than kernel_size" in problems[0].message
    assert g.shapes.output("image") == (1, 32, 32)
    assert g.shapes.output("f7") is None


def test_bad_param_changes_nothing():
    g = lenet()
    before = g.snapshot()
    with pytest.raises(ParamError, match="out_channels must be >= 1"):
        g.set_params("c1", {"out_channels": 0})
    with pytest.raises(ParamError, match="has no parameter 'bogus'"):
        g.set_params("c1", {"bogus": 1})
    assert g.snapshot() == before


def test_wires_refuse_cycles_and_second_inputs():
    g = lenet()
    g.add_node("Add", id="add")
    g.connect("f7", "out", "add", "in1")
    with pytest.raises(CycleError, match="would make a cycle"):
        g.connect("add", "out", "add", "in2")
    with pytest.raises(InputTakenError, match="already takes"):
        g.connect("image", "out", "a1", "in")


def test_unconnected_input_is_named():
    g = Graph()
    g.add_node("Linear", {"out_features": 3}, id="fc")
    g.add_node("Input", {"shape": [4]}, id="x")
    assert [str(p) for p in validate(g)] == ["fc.in: not connected"]


def test_remove_node_removes_its_wires():
    g = lenet()
    node, edges = g.remove_node("a3")
    assert {str(e) for e in edges} == {"c3.out -> a3.in", "a3.out -> s4.in"}
    assert [p.node for p in validate(g)] == ["s4"]
