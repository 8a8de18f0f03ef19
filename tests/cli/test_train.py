"""``studio train``: flags over the file, the JSON lines, the text output, exit codes, Ctrl+C."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from studio.cli.main import main
from studio.files import save
from studio.graph import Graph

ROOT = Path(__file__).resolve().parents[2]
EPOCH_KEYS = {"epoch", "train_loss", "val_loss", "train_acc", "val_acc", "lr", "seconds", "samples_per_s"}


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def spiral_graph(input_shape=(2,), training=None) -> Graph:
    g = Graph("tiny spiral")
    g.add_node("Input", {"shape": list(input_shape)}, (0, 0), "points")
    g.add_node("Linear", {"out_features": 16}, (220, 0), "hidden")
    g.add_node("ReLU", {}, (440, 0), "relu")
    g.add_node("Linear", {"out_features": 3}, (660, 0), "logits")
    g.connect("points", "out", "hidden", "in")
    g.connect("hidden", "out", "relu", "in")
    g.connect("relu", "out", "logits", "in")
    g.set_training(training or {
        "task": "classification",
        "dataset": {"name": "spiral", "classes": 3, "points": 40, "val_fraction": 0.25, "seed": 0},
        "optimizer": {"name": "adam", "lr": 0.01},
        "batch_size": 30,
        "epochs": 40,
        "seed": 0,
        "threads": 1,
        "probes": False,
    })
    return g


@pytest.fixture
def spiral_file(tmp_path):
    path = tmp_path / "spiral.json"
    save(spiral_graph(), path)
    return path


def train(capsys, *args):
    code = main(["train", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def train_json(capsys, *args):
    code, out, err = train(capsys, *args, "--json")
    return code, [json.loads(line) for line in out.splitlines()], err


# ---- flags and JSON lines -------------------------------------------------------

def test_json_lines_have_the_keys_and_a_best_line(capsys, spiral_file):
    code, lines, err = train_json(capsys, spiral_file, "--epochs", "3")
    assert code == 0, err
    epochs, best = lines[:-1], lines[-1]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]  # --epochs 3 beats the file's 40
    for e in epochs:
        assert set(e) == EPOCH_KEYS
        assert e["lr"] == pytest.approx(0.01)
        assert e["seconds"] > 0 and e["samples_per_s"] > 0
        assert 0.0 <= e["train_acc"] <= 1.0 and 0.0 <= e["val_acc"] <= 1.0
    assert best["best"] is True and best["status"] == "finished"
    assert EPOCH_KEYS <= set(best)
    # the best epoch is the one with the lowest validation loss
    lowest = min(epochs, key=lambda e: e["val_loss"])
    assert best["epoch"] == lowest["epoch"] and best["val_loss"] == lowest["val_loss"]


def test_seed_flag_overrides_the_file(capsys, spiral_file):
    runs = {}
    for seed in ("0", "0", "7"):
        code, lines, err = train_json(capsys, spiral_file, "--epochs", "2", "--seed", seed)
        assert code == 0, err
        runs.setdefault(seed, []).append([line["train_loss"] for line in lines[:-1]])
    assert runs["0"][0] == runs["0"][1]  # same seed, same losses
    assert runs["7"][0] != runs["0"][0]  # another seed draws other weights


def test_device_flag_overrides_the_file(capsys, tmp_path):
    g = spiral_graph()
    g.set_training({**g.training, "device": "cuda" if not torch.cuda.is_available() else "mps"})
    path = tmp_path / "elsewhere.json"
    save(g, path)
    code, _, err = train_json(capsys, path, "--epochs", "1")
    assert code == 1 and "device" in err  # the file asks for a device this machine lacks
    code, lines, err = train_json(capsys, path, "--epochs", "1", "--device", "cpu")
    assert code == 0, err
    assert lines[-1]["best"] is True


def test_flags_leave_the_file_untouched(capsys, spiral_file):
    before = spiral_file.read_bytes()
    code, _, _ = train_json(capsys, spiral_file, "--epochs", "1", "--seed", "5")
    assert code == 0
    assert spiral_file.read_bytes() == before


def test_learning_shows_in_the_json(capsys, spiral_file):
    code, lines, err = train_json(capsys, spiral_file, "--epochs", "40")
    assert code == 0, err
    epochs = lines[:-1]
    assert epochs[-1]["train_loss"] < 0.75 * epochs[0]["train_loss"]


# ---- text output -----------------------------------------------------------------

def test_plain_text_has_one_line_per_epoch_and_a_summary(capsys, spiral_file):
    code, out, err = train(capsys, spiral_file, "--epochs", "3")
    assert code == 0, err
    assert "\r" not in out  # not a terminal: no progress bar redraws
    lines = out.splitlines()
    assert [line.split()[:2] for line in lines[:3]] == [["epoch", "1/3"], ["epoch", "2/3"], ["epoch", "3/3"]]
    for line in lines[:3]:
        for key in ("train_loss", "val_loss", "train_acc", "val_acc", "lr", "samples/s"):
            assert key in line
    assert lines[3].startswith("finished after 3 epoch(s) in ")
    assert lines[4].startswith("best epoch ")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_terminal_gets_a_progress_bar(capsys, tmp_path, monkeypatch):
    g = spiral_graph()
    g.set_training({**g.training, "batch_size": 4, "report_every": 1})  # 90 samples: 23 steps per epoch
    path = tmp_path / "steps.json"
    save(g, path)
    screen = Terminal()
    monkeypatch.setattr(sys, "stdout", screen)
    assert main(["train", str(path), "--epochs", "2"]) == 0
    text = screen.getvalue()
    assert "\repoch 1/2 [#." in text
    assert "\repoch 1/2 [########################] 23/23  loss " in text  # the bar reaches the end
    # each epoch's summary replaces its bar and stays on its own line
    finished = [line.rsplit("\r", 1)[-1] for line in text.split("\n") if line]
    assert finished[0].startswith("epoch 1/2  train_loss")
    assert finished[1].startswith("epoch 2/2  train_loss")


# ---- refusals ----------------------------------------------------------------------

def test_missing_file_exits_2(capsys, tmp_path):
    missing = tmp_path / "nowhere.json"
    code, out, err = train(capsys, missing)
    assert code == 2 and out == ""
    assert str(missing) in err


def test_malformed_file_exits_2_naming_the_place(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "studio-graph", "version": 1,\n  "nodes": [\n')
    code, _, err = train(capsys, bad)
    assert code == 2
    assert str(bad) in err and "line" in err


@pytest.mark.parametrize("flags, words", [
    (["--epochs", "0"], "--epochs: must be at least 1, got 0"),
    (["--epochs", "ten"], "--epochs: must be a whole number, got 'ten'"),
    (["--seed", "-1"], "--seed: must be 0 or more, got -1"),
    (["--device", "tpu"], "--device: invalid choice: 'tpu'"),
    (["--speed", "9"], "unrecognized arguments: --speed 9"),
])
def test_bad_flags_exit_2(capsys, spiral_file, flags, words):
    code, out, err = train(capsys, spiral_file, *flags)
    assert code == 2 and out == ""
    assert words in err


def test_invalid_graph_exits_1_naming_node_and_port(capsys, tmp_path):
    g = spiral_graph()
    g.add_node("Add", {}, (880, 0), "mix")
    g.connect("logits", "out", "mix", "in1")  # in2 stays open
    path = tmp_path / "open.json"
    save(g, path)
    code, out, err = train(capsys, path)
    assert code == 1 and out == ""
    assert f"{path}: the graph has problems" in err
    assert "mix.in2: not connected" in err


def test_data_that_does_not_fit_exits_1(capsys, tmp_path):
    path = tmp_path / "wide.json"
    save(spiral_graph(input_shape=(3,)), path)
    code, out, err = train(capsys, path)
    assert code == 1 and out == ""
    assert str(path) in err and "does not fit" in err
    assert "points" in err and "[3]" in err  # names the Input node and its shape


def test_bad_training_setting_exits_1_naming_the_key(capsys, tmp_path):
    g = spiral_graph()
    g.set_training({**g.training, "optimizer": {"name": "adam", "lr": -1}})
    path = tmp_path / "lr.json"
    save(g, path)
    code, _, err = train(capsys, path)
    assert code == 1
    assert f"{path}: training.optimizer.lr: must be > 0, got -1" in err


def test_unknown_data_set_exits_1_naming_the_option(capsys, tmp_path):
    g = spiral_graph()
    g.set_training({**g.training, "dataset": {"name": "spiral", "points": 0}})
    path = tmp_path / "nodata.json"
    save(g, path)
    code, _, err = train(capsys, path)
    assert code == 1
    assert str(path) in err and "training.dataset.points" in err


def test_no_data_set_exits_1(capsys, tmp_path):
    g = spiral_graph()
    g.set_training({k: v for k, v in g.training.items() if k != "dataset"})
    path = tmp_path / "nothing.json"
    save(g, path)
    code, _, err = train(capsys, path)
    assert code == 1
    assert "training.dataset" in err


def test_diverging_run_exits_1_and_says_where(capsys, tmp_path):
    g = spiral_graph()
    # a weight decay of 10 at a rate of 10 multiplies every weight by -99 a step
    g.set_training({**g.training, "optimizer": {"name": "sgd", "lr": 10}, "weight_decay": 10})
    path = tmp_path / "boom.json"
    save(g, path)
    code, lines, err = train_json(capsys, path, "--epochs", "5")
    assert code == 1
    assert f"{path}: training failed: the loss became" in err and "at step" in err
    assert lines[-1]["best"] is True and lines[-1]["status"] == "failed"


# ---- the real command and Ctrl+C ------------------------------------------------------

def test_ctrl_c_stops_after_the_step_and_still_prints_the_summary(tmp_path):
    g = spiral_graph()
    g.set_training({**g.training, "epochs": 100000})
    path = tmp_path / "long.json"
    save(g, path)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "studio", "train", str(path), "--json"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = json.loads(proc.stdout.readline())  # training is under way
        assert first["epoch"] == 1
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[-1]["best"] is True and lines[-1]["status"] == "stopped"
    assert 1 <= lines[-1]["epochs_run"] < 100000
    assert "stopping after this step" in err and "Traceback" not in err


def test_the_checks_run_once_and_the_trainer_is_handed_what_they_found(capsys, spiral_file, monkeypatch):
    import studio.data
    from studio.training import preflight
    from studio.training.trainer import Trainer

    from counting import counting

    calls = counting(monkeypatch, validate=(preflight, "validate"), load=(studio.data, "load_dataset"))
    handed_over, real_init = [], Trainer.__init__

    def init(self, *args, **kwargs):
        handed_over.append(kwargs.get("checked"))
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "__init__", init)
    code, lines, err = train_json(capsys, spiral_file, "--epochs", "1")
    assert code == 0, err
    assert (calls["validate"], calls["load"]) == (1, 1)
    [handed] = handed_over
    assert isinstance(handed, preflight.Checked) and handed.config.epochs == 1  # the flags applied


def test_a_run_in_the_terminal_takes_no_probes_whatever_the_file_says(capsys, tmp_path, monkeypatch):
    from studio.training.supervised import Supervised

    training = {**spiral_graph().training, "epochs": 2,
                "probes": {"enabled": True, "every": 1, "budget": 1.0}}  # asks for a probe after every step
    path = tmp_path / "probed.json"
    save(spiral_graph(training=training), path)
    taken = []
    real_probe = Supervised.probe
    monkeypatch.setattr(Supervised, "probe", lambda self, *a, **k: taken.append(1) or real_probe(self, *a, **k))
    code, lines, err = train_json(capsys, path)
    assert code == 0, err
    assert [line["epoch"] for line in lines] == [1, 2, 2]  # two epochs and the best
    assert taken == []  # nothing in a terminal shows them
