"""A graph file's training reaches only its own folder: a checkpoint path or data set outside it
is refused before anything is read or written, unless the person grants the place."""

import json
import os
from pathlib import Path

import pytest
import torch

from studio.cli.main import main
from studio.files import load, save
from studio.files.reach import OutsideFolder, Reach
from studio.graph import Graph
from studio.training import Trainer
from studio.training.preflight import check, outside_paths

EVIL = "../../outside/sub/evil"


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def tiny_graph(**training) -> Graph:
    graph = Graph("tiny")
    graph.add_node("Input", {"shape": [2]}, (0, 0), "points")
    graph.add_node("Linear", {"out_features": 3}, (200, 0), "logits")
    graph.connect("points", "out", "logits", "in")
    graph.set_training({"dataset": {"name": "spiral", "points": 20, "seed": 0}, "epochs": 1, "threads": 1,
                        "device": "cpu", "probes": False, **training})
    return graph


@pytest.fixture
def evil_file(tmp_path):
    """``tmp/a/b/graph.json`` whose checkpoints would go to ``tmp/outside/sub/evil``."""
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    path = folder / "graph.json"
    save(tiny_graph(checkpoint={"enabled": True, "path": EVIL}), path)
    return path


def everything_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_a_checkpoint_path_outside_the_folder_is_refused_before_anything_is_written(evil_file, tmp_path):
    before = everything_under(tmp_path)
    result = Trainer(load(evil_file), graph_path=evil_file).run()
    assert result.status == "failed"
    assert "training.checkpoint.path: '../../outside/sub/evil' is outside the graph's folder" in result.message
    assert result.epochs == 0 and result.steps == 0
    assert not (tmp_path / "outside").exists()
    assert everything_under(tmp_path) == before


def test_studio_train_refuses_it_and_names_the_key_and_the_flag(evil_file, tmp_path, capsys):
    before = everything_under(tmp_path)
    code = main(["train", str(evil_file)])
    err = capsys.readouterr().err
    assert code == 1
    assert "training.checkpoint.path: '../../outside/sub/evil' is outside the graph's folder" in err
    assert f"--allow-outside {tmp_path / 'outside' / 'sub'}" in err
    assert "Traceback" not in err
    assert everything_under(tmp_path) == before


def test_allow_outside_grants_the_checkpoint_folder(evil_file, tmp_path, capsys):
    code = main(["train", str(evil_file), "--allow-outside", str(tmp_path / "outside" / "sub")])
    assert code == 0, capsys.readouterr().err
    assert {p.name for p in (tmp_path / "outside" / "sub").iterdir()} == {"evil.safetensors", "evil.train.pt"}


def test_a_checkpoint_path_given_on_the_command_line_may_point_anywhere(evil_file, tmp_path, capsys):
    mine = tmp_path / "mine" / "run"
    code = main(["train", str(evil_file), "--checkpoint", str(mine)])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "mine" / "run.safetensors").exists() and (tmp_path / "mine" / "run.train.pt").exists()
    assert not (tmp_path / "outside").exists()
    code = main(["train", str(evil_file), "--checkpoint", str(mine), "--resume", str(mine), "--epochs", "2"])
    assert code == 0, capsys.readouterr().err


def test_a_link_inside_the_folder_that_points_out_is_outside(tmp_path):
    (tmp_path / "g").mkdir()
    (tmp_path / "away").mkdir()
    (tmp_path / "g" / "runs").symlink_to(tmp_path / "away")
    graph = tiny_graph(checkpoint={"enabled": True, "path": "runs/x"})
    result = Trainer(graph, base_dir=tmp_path / "g").run()
    assert result.status == "failed" and "training.checkpoint.path: 'runs/x' is outside" in result.message
    assert list((tmp_path / "away").iterdir()) == []


def test_a_checkpoint_path_inside_the_folder_is_written_there(tmp_path):
    graph = tiny_graph(checkpoint={"enabled": True, "path": "runs/../runs/x"})
    result = Trainer(graph, base_dir=tmp_path).run()
    assert result.status == "finished" and result.checkpoint == tmp_path / "runs" / "x.safetensors"


def test_preflight_names_the_checkpoint_path_and_takes_a_reach(evil_file, tmp_path):
    graph = load(evil_file)
    _, _, problems = check(graph, evil_file.parent)
    assert [p.kind for p in problems] == ["config"]
    assert problems[0].message.startswith("training.checkpoint.path: '../../outside/sub/evil' is outside")
    granted = Reach.of(evil_file.parent, [tmp_path / "outside"])
    assert check(graph, granted)[2] == []
    assert not (tmp_path / "outside").exists()


def test_a_trainer_takes_a_reach_or_allow_outside(evil_file, tmp_path):
    graph = load(evil_file)
    assert Trainer(graph, base_dir=Reach.of(evil_file.parent, [tmp_path / "outside"])).run().status == "finished"
    assert Trainer(graph, base_dir=evil_file.parent, allow_outside=[tmp_path / "outside"]).run().status == "finished"


def test_checkpoints_that_are_off_write_nothing_and_are_not_refused(tmp_path):
    graph = tiny_graph(checkpoint={"enabled": False, "path": EVIL})
    assert Trainer(graph, base_dir=tmp_path / "g").run().status == "finished"
    assert not (tmp_path / "outside").exists()


def csv_graph(path: str) -> Graph:
    graph = tiny_graph()
    graph.set_training({**graph.training, "dataset": {"name": "csv", "path": path, "target": "label"}})
    return graph


@pytest.fixture
def outside_csv(tmp_path):
    (tmp_path / "g").mkdir()
    (tmp_path / "elsewhere").mkdir()
    rows = ["x,y,label"] + [f"{i % 7},{i % 5},{'abc'[i % 3]}" for i in range(30)]
    (tmp_path / "elsewhere" / "d.csv").write_text("\n".join(rows) + "\n")
    return tmp_path / "elsewhere" / "d.csv"


def test_a_data_set_outside_the_folder_is_refused_unless_granted(tmp_path, outside_csv):
    graph = csv_graph("../elsewhere/d.csv")
    result = Trainer(graph, base_dir=tmp_path / "g").run()
    assert result.status == "failed" and "training.dataset.path" in result.message
    assert "outside the graph's folder" in result.message
    granted = Trainer(graph, base_dir=tmp_path / "g", allow_outside=[outside_csv]).run()
    assert granted.status == "finished", granted.message


def test_studio_train_allow_outside_grants_the_data_set(tmp_path, outside_csv, capsys):
    path = tmp_path / "g" / "graph.json"
    save(csv_graph("../elsewhere/d.csv"), path)
    assert main(["train", str(path)]) == 1
    assert "training.dataset.path" in capsys.readouterr().err
    assert main(["train", str(path), "--allow-outside", str(outside_csv.parent)]) == 0


def test_outside_paths_lists_every_path_outside_without_touching_anything(tmp_path):
    (tmp_path / "g").mkdir()
    graph = tiny_graph(checkpoint={"enabled": False, "path": EVIL})
    graph.set_training({**graph.training, "dataset": {"name": "text", "path": "/etc/passwd"}})
    before = everything_under(tmp_path)
    found = outside_paths(graph, tmp_path / "g")
    assert [(o.place, o.written) for o in found] == [("training.dataset.path", "/etc/passwd"),
                                                     ("training.checkpoint.path", EVIL)]
    assert all(isinstance(o, OutsideFolder) for o in found)
    assert found[1].resolved == Path(os.path.realpath(tmp_path / "g" / "../../outside/sub"))
    assert everything_under(tmp_path) == before
    granted = Reach.of(tmp_path / "g", [o.resolved for o in found])
    assert outside_paths(graph, granted) == []


def test_outside_paths_of_a_file_that_stays_home_is_empty(tmp_path):
    graph = tiny_graph(checkpoint={"path": "runs/x"})
    graph.set_training({**graph.training, "dataset": {"name": "csv", "path": "data/d.csv"}})
    assert outside_paths(graph, tmp_path) == []
    junk = tiny_graph(checkpoint={"path": "a\x00b"})
    junk.set_training({**junk.training, "dataset": [1, 2]})
    assert outside_paths(junk, tmp_path) == []


def test_outside_paths_reads_a_saved_file_as_the_app_opens_it(evil_file):
    data = json.loads(evil_file.read_text())
    assert data["training"]["checkpoint"]["path"] == EVIL
    [found] = outside_paths(load(evil_file), evil_file.parent)
    assert found.place == "training.checkpoint.path"
