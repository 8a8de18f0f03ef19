"""studio lr-find: the range test's table, the suggestion, and a copy with it applied."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from studio.cli.main import main
from studio.files import load

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def spiral(tmp_path) -> Path:
    path = tmp_path / "spiral.json"
    shutil.copy(EXAMPLES / "spiral_mlp.json", path)
    return path


def test_prints_the_curve_and_the_suggestion_and_leaves_the_file(spiral, capsys):
    before = spiral.read_bytes()
    assert main(["lr-find", str(spiral), "--steps", "60"]) == 0
    out = capsys.readouterr().out
    assert "Learning-rate range test (adam" in out and "<- lowest" in out and "<- suggested" in out
    line = next(x for x in out.splitlines() if x.startswith("Suggested learning rate:"))
    assert float(line.split(":")[1].split()[0]) > 0 and "(now 0.01)" in line
    assert spiral.read_bytes() == before


def test_json_and_a_copy_with_the_suggestion_applied(spiral, tmp_path, capsys):
    before = spiral.read_bytes()
    out_path = tmp_path / "tuned.json"
    args = ["lr-find", str(spiral), "--steps", "60", "--start", "1e-5", "--end", "5", "--json", "-o", str(out_path)]
    assert main(args) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["lrs"][0] == pytest.approx(1e-5) and report["lrs"][-1] <= 5
    assert report["suggested"] > 0 and "smoothed loss was lowest" in report["why"]
    tuned = load(out_path)
    assert tuned.training["optimizer"]["lr"] == report["suggested"]
    assert tuned.training["dataset"] == load(spiral).training["dataset"]
    assert spiral.read_bytes() == before  # FILE is written only when OUT names it
    assert f"training.optimizer.lr = {report['suggested']:g}" in captured.err


def test_output_naming_the_file_updates_it(spiral, capsys):
    assert main(["lr-find", str(spiral), "--steps", "40", "-o", str(spiral)]) == 0
    assert "updated" in capsys.readouterr().err
    assert load(spiral).training["optimizer"]["lr"] != 0.01


def test_exit_status_says_why_it_cannot_run(spiral, tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["lr-find", str(broken)]) == 2
    assert "studio lr-find" in capsys.readouterr().err
    document = json.loads(spiral.read_text())
    del document["training"]["dataset"]
    spiral.write_text(json.dumps(document))
    assert main(["lr-find", str(spiral)]) == 1
    assert "no data set is chosen" in capsys.readouterr().err
    assert main(["lr-find", str(spiral), "--start", "1", "--end", "0.1"]) == 2
    assert "--start" in capsys.readouterr().err
    assert main(["lr-find", str(spiral), "--end", "50"]) == 2  # past the settings' largest rate, 10


def test_a_data_set_outside_the_folder_needs_allow_outside(tmp_path, capsys):
    folder = tmp_path / "graphs"
    folder.mkdir()
    rows = ["x0,x1,label"] + [f"{i % 7 - 3},{i % 5 - 2},{int(i % 7 > 3)}" for i in range(40)]  # label: x0 > 0
    (tmp_path / "points.csv").write_text("\n".join(rows) + "\n")
    document = json.loads((EXAMPLES / "xor_mlp.json").read_text())
    document["training"]["dataset"] = {"name": "csv", "path": "../points.csv", "target": "label"}
    path = folder / "g.json"
    path.write_text(json.dumps(document))
    assert main(["lr-find", str(path), "--steps", "40"]) == 1
    assert "--allow-outside" in capsys.readouterr().err
    code = main(["lr-find", str(path), "--steps", "40", "--allow-outside", str(tmp_path / "points.csv")])
    assert code == 0 and "Suggested learning rate" in capsys.readouterr().out
