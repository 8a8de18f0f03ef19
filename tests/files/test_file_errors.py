"""Every way a file can be wrong, and the message that names the place."""

import copy
import json

import pytest

from studio.files import GraphFileError, dumps, load, loads


@pytest.fixture
def doc(graph):
    return json.loads(dumps(graph))


def error_of(doc_or_text, source="bad.json") -> str:
    text = doc_or_text if isinstance(doc_or_text, str) else json.dumps(doc_or_text)
    with pytest.raises(GraphFileError) as info:
        loads(text, source)
    return str(info.value)


def edited(doc, change):
    d = copy.deepcopy(doc)
    change(d)
    return d


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["nodes"][3].update(block="Conv3x"), "bad.json: nodes[3].block: unknown block 'Conv3x'"),
    (lambda d: d["nodes"][1].update(block="Linaer"),
     "bad.json: nodes[1].block: unknown block 'Linaer' (did you mean 'Linear'?)"),
    (lambda d: d["nodes"][1]["params"].update(out_features=0),
     "bad.json: nodes[1].params.out_features: out_features must be >= 1, got 0"),
    (lambda d: d["nodes"][1]["params"].update(out_features="ten"),
     "bad.json: nodes[1].params.out_features: out_features must be a whole number, got 'ten'"),
    (lambda d: d["nodes"][1]["params"].update(kernel_size=3),
     "bad.json: nodes[1].params.kernel_size: Linear has no parameter 'kernel_size' (it has: out_features, bias)"),
    (lambda d: d["nodes"][2].update(id="fc1"), "bad.json: nodes[2].id: node id 'fc1' is already taken"),
    (lambda d: d["nodes"][2].update(id="2relu"),
     "bad.json: nodes[2].id: node id '2relu' must be letters, digits and _ and not start with a digit"),
    (lambda d: d["nodes"][2].pop("block"), "bad.json: nodes[2]: missing key 'block'"),
    (lambda d: d["nodes"][2].update(colour="red"),
     "bad.json: nodes[2].colour: unknown key (expected one of: id, block, label, position, params)"),
    (lambda d: d["nodes"][0].update(id=7), "bad.json: nodes[0].id: must be text, got a number"),
    (lambda d: d["nodes"][0].update(position=[1]), "bad.json: nodes[0].position: must be [x, y], got a list"),
    (lambda d: d["nodes"][0].update(position=[1, True]), "bad.json: nodes[0].position[1]: must be a number, got true"),
    (lambda d: d["nodes"][0].update(position=[1, 10**400]),
     "bad.json: nodes[0].position[1]: the number 100000000000... has 401 digits; a graph file's whole numbers have at most 40"),
    (lambda d: d["nodes"][0].update(position=[1, 1e6]), None),
    (lambda d: d["nodes"][0].update(position=[1, 1e300]),
     "bad.json: nodes[0].position[1]: must be within ±1,000,000 (a canvas far wider than any network), got 1e+300"),
    (lambda d: d["nodes"][0].update(params=[]), "bad.json: nodes[0].params: must be an object, got a list"),
    (lambda d: d["nodes"].__setitem__(1, "fc1"), "bad.json: nodes[1]: a node must be an object, got text"),
    (lambda d: d["edges"][4].update(to="add.in1"), "bad.json: edges[4]: add.in1 already takes relu1.out"),
    (lambda d: d["edges"][4].update({"from": "input.out", "to": "fc1.in"}),
     "bad.json: edges[4]: input.out -> fc1.in is already wired"),
    (lambda d: d["edges"][1].update(to="relu9.in"), "bad.json: edges[1].to: no node 'relu9'"),
    (lambda d: d["edges"][1].update({"from": "relu1"}), "bad.json: edges[1].from: must be 'node.port', got 'relu1'"),
    (lambda d: d["edges"][1].update(to="relu1.x"),
     "bad.json: edges[1].to: relu1 (ReLU) has no input 'x' (it has: in)"),
    (lambda d: d["edges"].append({"from": "fc2.out", "to": "fc1.in"}), "bad.json: edges[5]: fc1.in already takes"),
    (lambda d: d["edges"].append({"from": "fc2.out", "to": "input.in"}),
     "bad.json: edges[5].to: input (Input) has no input 'in' (it has: none)"),
    (lambda d: d["edges"].__setitem__(0, ["input.out", "fc1.in"]),
     'bad.json: edges[0]: an edge must be an object like {"from": "a.out", "to": "b.in"}, got a list'),
    (lambda d: d["edges"][0].pop("to"), "bad.json: edges[0]: missing key 'to'"),
    (lambda d: d.pop("nodes"), "bad.json: missing key 'nodes'"),
    (lambda d: d.update(nodes={}), "bad.json: nodes: must be a list, got an object"),
    (lambda d: d.update(name=None), "bad.json: name: must be text, got null"),
    (lambda d: d.update(training=[1]), "bad.json: training: must be an object, got a list"),
    (lambda d: d.update(nodse=[]), "bad.json: nodse: unknown key (expected one of: format, version"),
    (lambda d: d.update(version=3), "bad.json: version: this file is version 3, newer than this studio reads (up to 2);"
                                    " update studio to open it"),
    (lambda d: d.update(version="1"), "bad.json: version: must be a whole number, got text"),
    (lambda d: d.update(version=0), "bad.json: version: there is no version 0; versions start at 1"),
    (lambda d: d.pop("version"), "bad.json: missing key 'version'"),
    (lambda d: d.update(format="other"), 'bad.json: not a studio graph file (expected an object with "format": "studio-graph")'),
])
def test_bad_document_names_the_json_path(doc, change, expected):
    if expected is None:  # the edge of what is allowed: loads
        loads(json.dumps(edited(doc, change)))
        return
    assert error_of(edited(doc, change)).startswith(expected)


def test_a_real_number_too_large_for_a_double_names_its_place(doc):
    text = json.dumps(doc).replace('"lr": 0.01', '"lr": 1e400')
    assert error_of(text) == "bad.json: training.optimizer.lr: the number 1e400 is too large for a real number (at most about 1.8e308)"


def test_a_cycle_names_the_edge(doc):
    # relu1 -> fc1 closes fc1 -> relu1 once fc1's input is free
    d = edited(doc, lambda d: d["edges"].pop(0))
    d["edges"].append({"from": "relu1.out", "to": "fc1.in"})
    assert error_of(d) == "bad.json: edges[4]: relu1.out -> fc1.in would make a cycle"


def test_malformed_json_gives_line_and_column(graph):
    text = dumps(graph).replace('"block": "ReLU",', '"block": "ReLU"', 1)
    line = text[: text.index('"block": "ReLU"')].count("\n") + 2
    assert error_of(text) == f"bad.json: line {line} column 7: Expecting ',' delimiter"


@pytest.mark.parametrize("text, expected", [
    ("", "bad.json: line 1 column 1: Expecting value"),
    ("[1, 2]", "bad.json: not a studio graph file"),
    ('{"format": "studio-graph", "version": NaN}', "bad.json: NaN is not a JSON number"),
    ('{"format": "studio-graph", "format": "x"}', "bad.json: the key 'format' appears twice in one object"),
    ("[" * 100000, "bad.json: nested too deeply to read"),
])
def test_text_that_is_no_graph_file(text, expected):
    assert error_of(text).startswith(expected)


def test_unreadable_files_name_the_file(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(GraphFileError, match=r"missing\.json: cannot read: No such file"):
        load(missing)
    binary = tmp_path / "image.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(GraphFileError, match=r"image\.json: not UTF-8 text \(byte 0\)"):
        load(binary)
    with pytest.raises(GraphFileError, match=r": cannot read: this is a folder, not a graph file"):
        load(tmp_path)


def test_error_carries_its_parts(doc):
    d = edited(doc, lambda d: d["nodes"][1]["params"].update(bias="yes"))
    with pytest.raises(GraphFileError) as info:
        loads(json.dumps(d), "g.json")
    err = info.value
    assert (err.source, err.path) == ("g.json", "nodes[1].params.bias")
    assert err.reason == "bias must be true or false, got 'yes'"


def test_odd_keys_are_quoted_in_the_path(doc):
    d = edited(doc, lambda d: d["nodes"][1]["params"].update({"out features": 3}))
    assert error_of(d).startswith('bad.json: nodes[1].params["out features"]: Linear has no parameter')
