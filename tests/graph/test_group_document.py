"""Groups in the document: grouping, ungrouping, shared definitions, exposed parameters, nesting."""

import pytest
import torch

from blocks import ParamError
from studio.compile import compile_graph
from studio.files import dumps, loads
from studio.graph import Graph
from studio.graph.groups import (
    Exposed, GroupError, expose, group_nodes, make_unique, rename_definition, rename_port, ungroup,
)

from graph_helpers import residual

INNER = ["conv1", "relu1", "conv2", "add"]


def test_group_makes_one_node_with_the_crossing_wires_as_ports_and_undoes_exactly():
    g = residual()
    before = g.snapshot()
    journal, gid = group_nodes(g, INNER, "BasicBlock")
    assert list(g.nodes) == ["x", gid, "relu2"] and gid == "basic_block1"
    assert [p.name for p in g.node(gid).input_ports()] == ["x"]  # one source feeding two inner nodes: one port
    assert [p.name for p in g.node(gid).output_ports()] == ["out"]
    assert g.node(gid).is_group and g.node(gid).spec.category == "My blocks"
    assert g.shapes.output(gid) == (8, 16, 16) and g.shapes.output("relu2") == (8, 16, 16)
    assert g.param_count(gid) == 2 * (8 * 8 * 9 + 8) and g.total_params() == 1168
    journal.undo(g)
    assert g.snapshot() == before and not g.library.definitions
    journal.redo(g)
    assert list(g.nodes) == ["x", gid, "relu2"] and list(g.library.definitions) == ["BasicBlock"]


def test_ungroup_puts_the_inside_back_in_place_and_the_definition_goes_with_its_last_use():
    g = residual()
    before = g.snapshot()
    _, gid = group_nodes(g, INNER, "BasicBlock")
    journal, ids = ungroup(g, gid)
    assert ids == INNER and set(g.nodes) == set(before["nodes"])
    assert set(g.edges) == set(before["edges"]) and not g.library.definitions
    assert g.total_params() == 1168
    journal.undo(g)
    assert list(g.nodes) == ["x", gid, "relu2"] and "BasicBlock" in g.library.definitions


def test_several_inputs_and_outputs_are_named_after_the_inner_ports():
    g = Graph()
    g.add_node("Input", {"shape": [4]}, id="a")
    g.add_node("Input", {"shape": [4]}, id="b")
    g.add_node("Add", {}, id="add")
    g.add_node("ReLU", {}, id="r")
    g.add_node("Linear", {"out_features": 2}, id="fc")
    g.add_node("Linear", {"out_features": 3}, id="head")
    g.connect("a", "out", "add", "in1")
    g.connect("b", "out", "add", "in2")
    g.connect("add", "out", "r", "in")
    g.connect("r", "out", "fc", "in")
    g.connect("add", "out", "head", "in")
    _, gid = group_nodes(g, ["add", "r"], "Mix")
    node = g.node(gid)
    assert [p.name for p in node.input_ports()] == ["add_in1", "add_in2"]
    assert [p.name for p in node.output_ports()] == ["r", "add"]
    assert g.shapes.output("fc") == (2,) and g.shapes.output("head") == (3,)
    net = compile_graph(g)
    x, y = torch.randn(5, 4), torch.randn(5, 4)
    fc, head = net(x, y)
    assert torch.allclose(head, net.head(x + y)) and torch.allclose(fc, net.fc(torch.relu(x + y)))


def four_uses() -> tuple[Graph, list[str]]:
    g = residual()
    _, first = group_nodes(g, INNER, "BasicBlock")
    ids = [first]
    g.disconnect(g.in_edges("relu2")[0])
    for i in range(3):
        n = g.add_node("BasicBlock", {}, (1000 + 200 * i, 200)).id
        g.connect(ids[-1], "out", n, "x")
        ids.append(n)
    g.connect(ids[-1], "out", "relu2", "in")
    return g, ids


def test_an_edit_inside_changes_every_use_and_the_shapes_follow():
    g, ids = four_uses()
    assert g.total_params() == 4 * 1168
    d = g.library.get("BasicBlock")
    assert len(g.library.instances("BasicBlock")) == 4
    events = []
    g.subscribe(events.append)
    d.graph.set_params("conv2", {"out_channels": 4})
    # conv2 gives 4 channels, the skip 8: every instance is now at fault, naming the place inside
    for n in ids[:1]:
        assert "inside BasicBlock, add" in g.shapes.error(n).message
    changed = [e for e in events if e.kind == "definition_changed"]
    assert changed and {n for e in changed for n in e.nodes} == set(ids)
    d.graph.set_params("conv2", {"out_channels": 8})
    d.graph.set_params("conv1", {"out_channels": 16})
    assert all(g.shapes.error(n) is None for n in ids)
    per_use = (8 * 16 * 9 + 16) + (16 * 8 * 9 + 8)
    assert [g.param_count(n) for n in ids] == [per_use] * 4
    assert g.shapes.output("relu2") == (8, 16, 16)


def test_exposed_parameters_give_each_use_its_own_value_and_lock_the_inner_ones():
    g, ids = four_uses()
    d = g.library.get("BasicBlock")
    journal = expose(g, "BasicBlock", [Exposed("width", (("conv1", "out_channels"),), 8)])
    assert all(g.node(n).params == {"width": 8} for n in ids)
    g.set_params(ids[2], {"width": 32})
    assert g.param_count(ids[2]) == (8 * 32 * 9 + 32) + (32 * 8 * 9 + 8)
    assert g.param_count(ids[0]) == 1168
    with pytest.raises(ParamError, match="conv1.out_channels is set by BasicBlock's parameter width"):
        d.graph.set_params("conv1", {"out_channels": 3})
    # entering a use shows its values inside without editing the definition
    d.graph.place_instance({"x": (8, 16, 16)}, d.bindings(g.node(ids[2]).params))
    assert d.graph.node("conv1").params["out_channels"] == 32
    assert g.param_count(ids[0]) == 1168
    g.set_params(ids[2], {"width": 8})
    journal.undo(g)
    assert all(g.node(n).params == {} for n in ids) and not d.exposed
    journal.redo(g)
    assert all(g.node(n).params == {"width": 8} for n in ids)
    with pytest.raises(ParamError):
        g.set_params(ids[0], {"width": 0})


def test_make_unique_detaches_one_use():
    g, ids = four_uses()
    journal = make_unique(g, ids[1])
    assert g.node(ids[1]).block == "BasicBlock1"
    g.library.get("BasicBlock1").graph.set_params("conv1", {"out_channels": 4})
    assert g.param_count(ids[1]) != g.param_count(ids[0]) == 1168
    journal.undo(g)
    assert g.node(ids[1]).block == "BasicBlock" and "BasicBlock1" not in g.library.definitions


def test_rename_follows_every_use_and_refuses_taken_names():
    g, ids = four_uses()
    journal = rename_definition(g, "BasicBlock", "ResBlock")
    assert {g.node(n).block for n in ids} == {"ResBlock"}
    with pytest.raises(GroupError, match="built-in block"):
        rename_definition(g, "ResBlock", "Conv2d")
    with pytest.raises(GroupError, match="letters, digits"):
        rename_definition(g, "ResBlock", "2x")
    journal.undo(g)
    assert {g.node(n).block for n in ids} == {"BasicBlock"}


def test_groups_nest_and_a_definition_never_contains_itself():
    g, ids = four_uses()
    _, stage = group_nodes(g, ids[:2], "Stage")
    inner = g.library.get("Stage").graph
    assert {n.block for n in inner.nodes.values()} >= {"BasicBlock"}
    assert g.total_params() == 4 * 1168
    with pytest.raises(GroupError, match=r"a block would contain itself \(Stage > Stage\)"):
        inner.add_node("Stage", {})
    block_inside = g.library.get("BasicBlock").graph
    with pytest.raises(GroupError, match=r"Stage cannot go inside BasicBlock: .*BasicBlock > Stage > BasicBlock"):
        block_inside.add_node("Stage", {})
    # the nested network compiles to nested submodules named as a person would
    net = compile_graph(g)
    names = [k for k, _ in net.named_parameters()]
    assert names[0].startswith(f"{stage}.basic_block1.conv1.") and type(net.get_submodule(stage)).__name__ == "Stage"


def test_a_group_compiles_to_a_named_submodule_with_the_flat_outputs():
    g, ids = four_uses()
    flat = g.copy()
    for n in ids:
        ungroup(flat, n)
    grouped, plain = compile_graph(g), compile_graph(flat)
    assert type(grouped.get_submodule(ids[0])).__name__ == "BasicBlock"
    state = grouped.state_dict()
    assert list(state)[:2] == [f"{ids[0]}.conv1.weight", f"{ids[0]}.conv1.bias"]
    renamed = {}
    for key, value in state.items():
        group, rest = key.split(".", 1)
        node, param = rest.split(".", 1)
        flat_id = node if group == ids[0] else f"{node}{ids.index(group)}"
        renamed[f"{flat_id}.{param}"] = value
    plain.load_state_dict(renamed)
    x = torch.randn(2, 8, 16, 16)
    assert torch.equal(grouped(x), plain(x))


def test_a_copy_owns_its_definitions_and_the_file_round_trips():
    g, ids = four_uses()
    expose(g, "BasicBlock", [Exposed("width", (("conv1", "out_channels"),), 8)])
    g.set_params(ids[3], {"width": 4})
    other = g.copy()
    assert other.snapshot() == g.snapshot()
    other.library.get("BasicBlock").graph.set_params("conv2", {"kernel_size": 1, "padding": 0})
    assert g.param_count(ids[0]) == 1168 and other.param_count(ids[0]) != 1168
    text = dumps(g)
    again = loads(text, "g.json")
    assert again.snapshot() == g.snapshot() and dumps(again) == text
    assert again.param_count(ids[3]) == g.param_count(ids[3])


def test_an_input_cannot_go_inside_and_an_empty_selection_is_refused():
    g = residual()
    with pytest.raises(GroupError, match="an Input stays outside a group"):
        group_nodes(g, ["x", "conv1"])
    with pytest.raises(GroupError, match="select the blocks"):
        group_nodes(g, [])
    with pytest.raises(GroupError, match="built-in block"):
        group_nodes(g, INNER, "Linear")
    assert list(g.nodes) == ["x", *INNER, "relu2"] and not g.library.definitions


def test_renaming_a_port_renames_it_on_every_use_and_undoes_exactly():
    g, ids = four_uses()
    before = g.snapshot()
    journal = rename_port(g, "BasicBlock", "x", "features")
    assert [p.name for p in g.node(ids[2]).input_ports()] == ["features"]
    assert g.edge_into(ids[2], "features").src == ids[1]
    assert "features" in g.library.get("BasicBlock").graph and g.total_params() == 4 * 1168
    out = rename_port(g, "BasicBlock", "out", "y")
    assert g.out_edges(ids[0])[0].src_port == "y" and g.shapes.output("relu2") == (8, 16, 16)
    with pytest.raises(GroupError, match="already has a port 'y'"):
        rename_port(g, "BasicBlock", "features", "y")
    with pytest.raises(GroupError, match="letters, digits"):
        rename_port(g, "BasicBlock", "features", "1x")
    out.undo(g)
    journal.undo(g)
    assert g.snapshot() == before
    journal.redo(g)
    out.redo(g)
    assert [p.name for p in g.node(ids[3]).output_ports()] == ["y"]
    assert loads(dumps(g), "g.json").snapshot() == g.snapshot()
