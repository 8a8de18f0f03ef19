"""A block whose outputs follow a parameter (Split's ``sizes``, Chunk's ``chunks``): one port
per piece everywhere ports are read - shape inference, edits, files, the compiler, the
Python export, ``studio validate`` and the canvas, where a person wires each piece by mouse."""

from __future__ import annotations

import json

import pytest
import torch
from person import _private_settings, answers, config_dir, make_window, scene_agrees, wire  # noqa: F401 (fixtures)

import blocks
from blocks import ParamError
from studio.cli.main import main
from studio.compile import compile_graph
from studio.export import export_python
from studio.files import load, save
from studio.graph import Graph, validate

torch.set_num_threads(1)


def split_into_three(graph: Graph) -> Graph:
    """x [9, 4] split along dim 1 into 2, 3 and 4 rows, each piece to a different block."""
    graph.add_node("Input", {"shape": [9, 4]}, (0, 0), "x")
    graph.add_node("Split", {"sizes": [2, 3, 4]}, (240, 0), "split")
    graph.add_node("Linear", {"out_features": 5}, (520, -160), "head")
    graph.add_node("ReLU", {}, (520, 0), "act")
    graph.add_node("Flatten", {}, (520, 160), "flat")
    graph.connect("x", "out", "split", "in")
    graph.connect("split", "out1", "head", "in")
    graph.connect("split", "out2", "act", "in")
    graph.connect("split", "out3", "flat", "in")
    return graph


def test_ports_follow_the_parameter():
    spec = blocks.get("Split")
    ports = spec.output_ports(spec.coerce_params({"sizes": [2, 3, 4]}))
    assert [p.name for p in ports] == ["out1", "out2", "out3"]
    assert [p.name for p in spec.output_ports(spec.coerce_params({}))] == ["out1", "out2"]
    chunk = blocks.get("Chunk")
    assert [p.name for p in chunk.output_ports(chunk.coerce_params({"chunks": 4}))] == [f"out{i}" for i in range(1, 5)]
    assert [p.name for p in blocks.get("Linear").output_ports({})] == ["out"]  # fixed outputs as before
    with pytest.raises(ParamError, match="sizes takes at most 16 values, got 17"):
        spec.coerce_params({"sizes": [1] * 17})
    with pytest.raises(ParamError, match="sizes needs at least one value, got none"):
        spec.coerce_params({"sizes": []})
    with pytest.raises(ParamError, match="sizes must be >= 1, got 0"):
        spec.coerce_params({"sizes": [2, 0]})


def test_shape_inference_gives_each_piece_to_its_consumer():
    g = split_into_three(Graph())
    assert validate(g) == []
    assert [g.shapes.output("split", f"out{i}") for i in (1, 2, 3)] == [(2, 4), (3, 4), (4, 4)]
    assert g.shapes.output("head") == (2, 5)
    assert g.shapes.output("act") == (3, 4)
    assert g.shapes.output("flat") == (16,)
    assert g.param_count("head") == 4 * 5 + 5
    g.set_params("split", {"sizes": [4, 3, 2]})
    assert g.shapes.output("head") == (4, 5) and g.shapes.output("flat") == (8,)
    g.set_params("split", {"sizes": [4, 3, 1]})
    problems = validate(g)
    assert [(p.node, p.port) for p in problems] == [("split", "in")]
    assert "sizes [4, 3, 1] add up to 8, but dim 1 of [9, 4] has size 9" in problems[0].message


def test_dropping_a_wired_output_is_refused_and_changes_nothing():
    g = split_into_three(Graph())
    with pytest.raises(ParamError, match=r"split.out3 is wired \(split.out3 -> flat.in\); remove that wire first"):
        g.set_params("split", {"sizes": [4, 5]})
    assert g.node("split").params["sizes"] == (2, 3, 4)
    assert len(g.edges) == 4
    g.disconnect(next(e for e in g.edges if e.src_port == "out3"))
    g.set_params("split", {"sizes": [4, 5]})
    assert [p.name for p in g.node("split").output_ports()] == ["out1", "out2"]
    assert g.shapes.output("act") == (5, 4)


def test_file_round_trip_keeps_every_piece_wired(tmp_path):
    path = tmp_path / "split.json"
    save(split_into_three(Graph("pieces")), path)
    text = json.loads(path.read_text())
    assert {e["from"] for e in text["edges"]} >= {"split.out1", "split.out2", "split.out3"}
    again = load(path)
    assert sorted(map(str, again.edges)) == sorted(map(str, split_into_three(Graph()).edges))
    text["edges"].append({"from": "split.out4", "to": "head.in"})
    path.write_text(json.dumps(text))
    with pytest.raises(Exception, match=r"split \(Split\) has no output 'out4' \(it has: out1, out2, out3\)"):
        load(path)


def test_compiled_and_exported_split_give_torch_split():
    g = split_into_three(Graph("pieces"))
    model = compile_graph(g).eval()
    assert "x.split([2, 3, 4], dim = 1)" in model.code
    x = torch.randn(5, 9, 4)
    head, act, flat = model(x)
    a, b, c = x.split([2, 3, 4], dim=1)
    torch.testing.assert_close(head, model.head(a))
    torch.testing.assert_close(act, b.relu())
    torch.testing.assert_close(flat, c.flatten(1))
    source = export_python(g)
    assert "x.split([2, 3, 4], dim = 1)" in source
    namespace: dict = {"__name__": "exported"}
    exec(compile(source, "exported.py", "exec"), namespace)
    exported = namespace["Pieces"]().eval()
    exported.load_state_dict(model.state_dict())
    for ours, theirs in zip(model(x), exported(x), strict=True):
        torch.testing.assert_close(ours, theirs)


def test_a_piece_left_unwired_is_a_network_output_only_when_no_piece_is_wired():
    g = Graph()
    g.add_node("Input", {"shape": [7, 3]}, (0, 0), "x")
    g.add_node("Chunk", {"chunks": 3}, (240, 0), "parts")
    g.connect("x", "out", "parts", "in")
    model = compile_graph(g)
    assert "x.chunk(3, dim = 1)" in model.code
    out = model(torch.randn(2, 7, 3))
    assert [tuple(t.shape) for t in out] == [(2, 3, 3), (2, 3, 3), (2, 1, 3)]
    g.add_node("ReLU", {}, (480, 0), "act")
    g.connect("parts", "out2", "act", "in")
    assert tuple(compile_graph(g)(torch.randn(2, 7, 3)).shape) == (2, 3, 3)


def test_studio_validate_lists_every_piece(tmp_path, capsys):
    path = tmp_path / "split.json"
    save(split_into_three(Graph("pieces")), path)
    assert main(["validate", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True and report["params"] == 25
    row = next(r for r in report["nodes"] if r["id"] == "split")
    assert row["output_shapes"] == {"out1": [2, 4], "out2": [3, 4], "out3": [4, 4]}
    assert main(["validate", str(path)]) == 0
    table = capsys.readouterr().out
    assert "out1: [2, 4], out2: [3, 4], out3: [4, 4]" in table
    text = json.loads(path.read_text())
    next(n for n in text["nodes"] if n["id"] == "split")["params"]["sizes"] = [2, 3, 5]
    path.write_text(json.dumps(text))
    assert main(["validate", str(path)]) == 1
    assert "split.in: sizes [2, 3, 5] add up to 10, but dim 1 of [9, 4] has size 9" in capsys.readouterr().out


def test_canvas_draws_a_port_per_piece_and_wires_each_by_mouse(make_window):
    window = make_window()
    ed = window.editor
    ed.add_block("Input", (0, 0), {"shape": [9, 4]})
    ed.add_block("Split", (240, 0), {"sizes": [2, 3, 4]})
    ed.add_block("Linear", (520, -160), {"out_features": 5})
    ed.add_block("ReLU", (520, 0))
    ed.add_block("Flatten", (520, 160))
    item = window.scene.nodes["split1"]
    assert list(item.outputs) == ["out1", "out2", "out3"]
    ys = [port.scenePos().y() for port in item.outputs.values()]
    assert ys == sorted(ys) and len(set(ys)) == 3  # one row each, top to bottom
    assert {p.name for p, _ in item.port_label_rects()} >= {"out1", "out2", "out3"}
    wire(window, "input1", "split1")
    wire(window, "split1", "linear1", src_port="out1")
    wire(window, "split1", "relu1", src_port="out2")
    wire(window, "split1", "flatten1", src_port="out3")
    graph = ed.graph
    assert sorted(map(str, graph.edges)) == [
        "input1.out -> split1.in", "split1.out1 -> linear1.in", "split1.out2 -> relu1.in",
        "split1.out3 -> flatten1.in"]
    labels = {str(e): edge.label for e, edge in window.scene.edges.items()}
    assert labels["split1.out1 -> linear1.in"] == "[2, 4]"
    assert labels["split1.out2 -> relu1.in"] == "[3, 4]"
    assert labels["split1.out3 -> flatten1.in"] == "[4, 4]"
    assert validate(graph) == []
    ed.set_params("split1", {"sizes": [1, 2, 3, 3]})
    assert list(item.outputs) == ["out1", "out2", "out3", "out4"]
    assert labels != {str(e): edge.label for e, edge in window.scene.edges.items()}
    ed.undo_stack.undo()
    assert list(item.outputs) == ["out1", "out2", "out3"]
    scene_agrees(window)
