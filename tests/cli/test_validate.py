import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.files import save
from studio.graph import Graph

ROOT = Path(__file__).resolve().parents[2]


def mlp(shape=(8,)) -> Graph:
    g = Graph("tiny mlp")
    g.add_node("Input", {"shape": list(shape)}, (0, 0), "x")
    g.add_node("Linear", {"out_features": 16}, (220, 0), "fc1")
    g.add_node("ReLU", {}, (440, 0), "relu1")
    g.add_node("Linear", {"out_features": 3}, (660, 0), "fc2")
    g.connect("x", "out", "fc1", "in")
    g.connect("fc1", "out", "relu1", "in")
    g.connect("relu1", "out", "fc2", "in")
    return g


@pytest.fixture
def valid_file(tmp_path):
    path = tmp_path / "mlp.json"
    save(mlp(), path)
    return path


@pytest.fixture
def invalid_file(tmp_path):
    g = mlp()
    g.add_node("Conv2d", {"out_channels": 4}, (880, 0), "conv")
    g.connect("fc2", "out", "conv", "in")  # [3] is no image
    g.add_node("Add", {}, (1100, 0), "add")
    g.connect("fc2", "out", "add", "in1")  # in2 left open
    path = tmp_path / "broken.json"
    save(g, path)
    return path


def run_json(capsys, *args):
    code = main(["validate", *map(str, args), "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_valid_graph_json_report(capsys, valid_file):
    code, report, err = run_json(capsys, valid_file)
    assert code == 0 and err == ""
    assert report == {
        "valid": True,
        "params": 8 * 16 + 16 + 16 * 3 + 3,
        "nodes": [
            {"id": "x", "block": "Input", "output_shape": [8], "params": 0},
            {"id": "fc1", "block": "Linear", "output_shape": [16], "params": 144},
            {"id": "relu1", "block": "ReLU", "output_shape": [16], "params": 0},
            {"id": "fc2", "block": "Linear", "output_shape": [3], "params": 51},
        ],
        "errors": [],
        "warnings": [],
    }


def test_valid_graph_table(capsys, valid_file):
    assert main(["validate", str(valid_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{valid_file} (tiny mlp)"
    assert lines[1].split() == ["Node", "Block", "Output", "shape", "Params"]
    assert lines[3].split() == ["x", "Input", "[8]", "0"]
    assert lines[4].split() == ["fc1", "Linear", "[16]", "144"]
    assert lines[-2] == "Total: 195 parameters in 4 nodes"
    assert lines[-1] == "Valid."
    # columns line up: the parameter counts end where the header's "Params" ends
    assert len({len(lines[i]) for i in (1, 3, 4, 5, 6)}) == 1


def test_invalid_graph_lists_problems_by_node(capsys, invalid_file):
    code, report, _ = run_json(capsys, invalid_file)
    assert code == 1
    assert report["valid"] is False
    assert report["params"] == 195
    assert report["nodes"][-2:] == [
        {"id": "conv", "block": "Conv2d", "output_shape": None, "params": None},
        {"id": "add", "block": "Add", "output_shape": None, "params": 0},
    ]
    assert [(e["node"], e["port"]) for e in report["errors"]] == [("conv", "in"), ("add", "in2")]
    assert "expected [C, H, W], got [3]" in report["errors"][0]["message"]
    assert report["errors"][1]["message"] == "not connected"

    assert main(["validate", str(invalid_file)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-3:] == [
        "Invalid: 2 problems",
        "  conv.in: " + report["errors"][0]["message"],
        "  add.in2: not connected",
    ]
    assert any(line.split() == ["conv", "Conv2d", "-", "?"] for line in out)


def test_unreadable_file_exits_2_naming_file_and_path(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    doc = json.loads(Path(ROOT / "examples" / "lenet5.json").read_text())
    doc["nodes"][3]["block"] = "Conv3x"
    bad.write_text(json.dumps(doc))
    assert main(["validate", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == f"studio validate: {bad}: nodes[3].block: unknown block 'Conv3x' (did you mean 'Conv2d'?)"

    code, report, err = run_json(capsys, tmp_path / "missing.json")
    assert code == 2
    assert report["valid"] is False and report["nodes"] == []
    assert report["errors"][0]["message"].endswith("missing.json: cannot read: No such file or directory")
    assert "missing.json: cannot read" in err


def test_sizes_torch_cannot_build_are_problems_not_crashes(capsys, tmp_path):
    g = Graph()
    g.add_node("Input", {"shape": [2**62]}, (0, 0), "x")  # a 64-bit size, but 2^62 x 10 weights overflow torch
    g.add_node("Linear", {}, (220, 0), "fc")
    g.connect("x", "out", "fc", "in")
    save(g, tmp_path / "huge.json")
    code, report, _ = run_json(capsys, tmp_path / "huge.json")
    assert code == 1
    by_node = {e["node"]: e["message"] for e in report["errors"]}
    assert by_node["fc"].startswith("cannot build this layer: ")
    assert "\n" not in by_node["fc"]
    assert [r["params"] for r in report["nodes"] if r["id"] == "fc"] == [None]


def test_numbers_beyond_c_range_are_refused_with_their_path(capsys, tmp_path):
    g = Graph()
    g.add_node("Input", {"shape": [1, 2, 2]}, (0, 200), "image")
    g.add_node("Upsample", {}, (220, 200), "up")
    save(g, tmp_path / "huge.json")
    for old, new, expected in [
        ('"scale_factor": 2.0', '"scale_factor": 1e308', "nodes[1].params.scale_factor: scale_factor must be between "
                                                          "-2^53 and 2^53 (about 9.0e15), got 1e+308"),
        ('"shape": [1, 2, 2]', '"shape": [1, 2, 100000000000000000000]',
         "nodes[0].params.shape: shape must be a whole number between -2^63 and 2^63-1 (a 64-bit integer)"),
    ]:
        path = tmp_path / "bad.json"
        path.write_text((tmp_path / "huge.json").read_text().replace(old, new))
        assert main(["validate", str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith(f"studio validate: {path}: {expected}")


def test_bad_arguments_exit_2(capsys):
    assert main(["validate"]) == 2
    assert "usage: studio validate" in capsys.readouterr().err


def test_python_dash_m_studio_validate(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "studio", "validate", str(ROOT / "examples" / "lenet5.json"),
                         "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["valid"] is True and report["params"] == 61_706 and len(report["nodes"]) == 13

    # An invalid graph's status 1 and its lines: test_invalid_graph_lists_problems_by_node, in process.
    garbled = tmp_path / "garbled.json"
    garbled.write_text('{"format": "studio-graph",\n  "version": 1,\n  "nodes": [}\n')
    broken = subprocess.run([sys.executable, "-m", "studio", "validate", str(garbled)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert broken.returncode == 2
    assert broken.stderr.strip() == f"studio validate: {garbled}: line 3 column 13: Expecting value"
    assert "Traceback" not in broken.stderr


def _validate(path, capsys, *flags):
    code = main(["validate", str(path), *flags])
    return code, capsys.readouterr().out


def test_a_refused_setting_is_invalid_as_train_would_say(tmp_path, capsys):
    g = mlp((2,))
    g.set_training({"dataset": {"name": "spiral"}, "optimizer": {"lr": -0.1}})
    save(g, tmp_path / "neg.json")
    code, out = _validate(tmp_path / "neg.json", capsys)
    assert code == 1
    assert "  training.optimizer.lr: must be > 0, got -0.1" in out.splitlines()
    assert "Valid." not in out


def test_a_bad_csv_cell_is_invalid_with_file_line_and_column(tmp_path, capsys):
    (tmp_path / "data.csv").write_text("a,b,label\n1.0,2.0,0\n1.5,x,1\n2.0,3.0,2\n2.5,1.0,1\n")
    g = mlp((2,))
    g.set_training({"dataset": {"name": "csv", "path": "data.csv", "target": "label"}})
    save(g, tmp_path / "net.json")
    code, out = _validate(tmp_path / "net.json", capsys)
    assert code == 1
    assert "  data set: data.csv line 3, column 'b': 'x' is not a number (the column holds numbers)" in out
    code, out = _validate(tmp_path / "net.json", capsys, "--json")
    report = json.loads(out)
    assert report["valid"] is False and report["errors"][0]["kind"] == "data"
    # Fixed, it is valid, data set and all.
    (tmp_path / "data.csv").write_text("a,b,label\n1.0,2.0,0\n1.5,0.5,1\n2.0,3.0,2\n2.5,1.0,1\n")
    assert _validate(tmp_path / "net.json", capsys)[0] == 0


def test_a_data_set_that_does_not_fit_is_invalid(tmp_path, capsys):
    g = mlp((8,))  # spiral points are [2]
    g.set_training({"dataset": {"name": "spiral"}})
    save(g, tmp_path / "misfit.json")
    code, out = _validate(tmp_path / "misfit.json", capsys)
    lines = out.splitlines()
    at = lines.index("  x: Input x takes [8] but the data set 'spiral' gives [2] features [input-shape]")
    assert code == 1 and lines[at + 1] == "      fix: Set the shape of x to [2]"


def test_a_reader_that_goes_away_ends_the_report_quietly():
    # `studio validate FILE | head -1`: the pipe closes before the report is written
    proc = subprocess.Popen([sys.executable, "-m", "studio", "validate", str(ROOT / "examples" / "lenet5.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert err == ""
