"""Crafted group definitions: each is refused naming the file and the JSON path, before anything is
built; a group bomb (definitions that multiply) is refused by its size, not by running out of memory."""

import json
import time

import pytest

from studio.files import GraphFileError, dumps, loads
from studio.graph import Graph
from studio.graph.groups import group_nodes


def grouped_doc() -> dict:
    g = Graph("g")
    g.add_node("Input", {"shape": [4]}, id="x")
    g.add_node("Linear", {"out_features": 4}, id="fc")
    g.add_node("ReLU", {}, id="act")
    g.connect("x", "out", "fc", "in")
    g.connect("fc", "out", "act", "in")
    group_nodes(g, ["fc", "act"], "Block")
    return json.loads(dumps(g))


def refusal(doc) -> str:
    with pytest.raises(GraphFileError) as info:
        loads(json.dumps(doc), "bad.json")
    return str(info.value)


def edited(change):
    doc = grouped_doc()
    change(doc)
    return doc


def _self_use(doc):
    doc["definitions"][0]["nodes"].append({"id": "again", "block": "Block"})


def _two_way_loop(doc):
    other = json.loads(json.dumps(doc["definitions"][0]))
    other["name"] = "Other"
    other["nodes"].append({"id": "back", "block": "Block"})
    doc["definitions"][0]["nodes"].append({"id": "there", "block": "Other"})
    doc["definitions"].append(other)


CASES = [
    (_self_use, "bad.json: definitions[0].nodes: Block contains itself: Block > Block"),
    (_two_way_loop, "bad.json: definitions[0].nodes: Block contains itself: Block > Other > Block"),
    (lambda d: d["definitions"][0].update(name="Linear"),
     "bad.json: definitions[0].name: 'Linear' is the name of a built-in block; choose another"),
    (lambda d: d["definitions"][0].update(name="import os"),
     "bad.json: definitions[0].name: a block name must be letters, digits and _"),
    (lambda d: d["definitions"].append(d["definitions"][0]),
     "bad.json: definitions[1].name: the block 'Block' is defined twice (also at definitions[0])"),
    (lambda d: d["definitions"][0].update(inputs=["fc"]),
     "bad.json: definitions[0].inputs[0]: 'fc' is not an Input node inside Block"),
    (lambda d: d["definitions"][0].update(inputs="x"), "bad.json: definitions[0].inputs: must be a list, got text"),
    (lambda d: d["definitions"][0].update(outputs={"out": "nowhere.out"}),
     "bad.json: definitions[0].outputs.out: no node 'nowhere'"),
    (lambda d: d["definitions"][0].update(outputs={"out": "act.bogus"}),
     "bad.json: definitions[0].outputs.out: act (ReLU) has no output 'bogus'"),
    (lambda d: d["definitions"][0].update(outputs={"a b": "act.out"}),
     "bad.json: definitions[0].outputs[\"a b\"]: a port name must be letters, digits and _"),
    (lambda d: d["definitions"][0].update(params={"w": {"default": 3, "sets": ["fc.nope"]}}),
     "bad.json: definitions[0].params.w.sets[0]: fc has no parameter 'nope'"),
    (lambda d: d["definitions"][0].update(params={"w": {"default": -3, "sets": ["fc.out_features"]}}),
     "bad.json: definitions[0].params.w.default:"),
    (lambda d: d["definitions"][0].update(params={"w": {"default": 3, "sets": []}}),
     "bad.json: definitions[0].params.w.sets: must name at least one 'node.parameter' inside"),
    (lambda d: d["definitions"][0]["nodes"][1].update(block="Nope"),
     "bad.json: definitions[0].nodes[1].block: unknown block 'Nope'"),
    (lambda d: d["definitions"][0].update(code="print(1)"),
     "bad.json: definitions[0].code: unknown key (expected one of: name, description, inputs, outputs"),
    (lambda d: d["definitions"].__setitem__(0, "Block"),
     "bad.json: definitions[0]: a definition must be an object, got text"),
    (lambda d: d["nodes"][1]["params"].update(width=3),
     "bad.json: nodes[1].params.width: Block has no parameter 'width' (it has: none)"),
]


@pytest.mark.parametrize("change,expected", CASES)
def test_a_crafted_definition_is_refused_naming_the_place(change, expected):
    assert refusal(edited(change)).startswith(expected)


def test_a_group_bomb_is_refused_by_its_size_at_once():
    """Thirty definitions, each using the one before twice: 2^30 blocks once opened."""
    doc = grouped_doc()
    base = doc["definitions"][0]
    for i in range(1, 31):
        prev = base["name"] if i == 1 else f"Level{i - 1}"
        doc["definitions"].append({
            "name": f"Level{i}", "inputs": ["x"], "outputs": {"out": "b.out"},
            "nodes": [{"id": "x", "block": "Input", "params": {"shape": [4]}},
                      {"id": "a", "block": prev}, {"id": "b", "block": prev}],
            "edges": [{"from": "x.out", "to": "a.x"}, {"from": "a.out", "to": "b.x"}],
        })
    doc["nodes"][1]["block"] = "Level30"
    start = time.perf_counter()
    message = refusal(doc)
    assert time.perf_counter() - start < 1.0
    assert message.startswith("bad.json: definitions: every group opened, this network would have more than "
                              "1,000,000 blocks")


def test_definitions_listed_before_their_use_or_after_both_load():
    doc = grouped_doc()
    outer = {"name": "Outer", "inputs": ["x"], "outputs": {"out": "b.out"},
             "nodes": [{"id": "x", "block": "Input", "params": {"shape": [4]}}, {"id": "b", "block": "Block"}],
             "edges": [{"from": "x.out", "to": "b.x"}]}
    doc["definitions"].insert(0, outer)
    doc["nodes"][1]["block"] = "Outer"
    g = loads(json.dumps(doc), "ok.json")
    assert g.total_params() == 20
    assert [d["name"] for d in json.loads(dumps(g))["definitions"]] == ["Block", "Outer"]
