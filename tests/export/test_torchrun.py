"""The torchrun training script: standalone, trains with the graph's settings, two processes over gloo."""

from __future__ import annotations

import ast
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.compile import compile_graph
from studio.export import ExportError, export_torchrun_script
from studio.files import load

ROOT = Path(__file__).resolve().parents[2]


def _torchrun() -> list[str]:
    exe = Path(sys.executable).parent / "torchrun"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "torch.distributed.run"]


def _spiral(path: Path, n: int = 240, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 3, n)
    t = rng.uniform(0.05, 1.0, n)
    angle = 4 * t + label * 2 * np.pi / 3
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], 1) + rng.normal(0, 0.03, (n, 2))
    np.savez(path, x=x.astype(np.float32), y=label, x_val=x[:48].astype(np.float32), y_val=label[:48])


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"
    env.pop("PYTHONPATH", None)  # the script must not need Studio
    return env


def test_script_embeds_the_model_and_the_training_settings():
    graph = load(ROOT / "examples" / "spiral_mlp.json")
    source = export_torchrun_script(graph, ROOT / "examples" / "spiral_mlp.json")
    tree = ast.parse(source)
    names = {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    assert {"SpiralMLP", "main", "shard", "lr_at", "loss_fn"} <= names
    assert "torchrun --nproc_per_node=N train_spiral_mlp.py DATA.npz" in source
    assert "x      [S, 2] float32  (input points)" in source
    assert "LOSS = 'cross_entropy'" in source
    namespace: dict = {"__name__": "not_main"}
    exec(compile(source, "train_spiral_mlp.py", "exec"), namespace)
    training = namespace["TRAINING"]
    assert training["optimizer"]["name"] == "adam" and training["optimizer"]["lr"] == 0.01
    assert (training["batch_size"], training["epochs"], training["seed"]) == (32, 80, 0)
    assert "studio" not in source.replace("Studio", "")


def test_shards_cover_every_sample_and_ranks_run_as_many_steps():
    source = export_torchrun_script(load(ROOT / "examples" / "spiral_mlp.json"))
    namespace: dict = {"__name__": "not_main"}
    exec(compile(source, "train.py", "exec"), namespace)
    shard = namespace["shard"]
    parts = [shard(11, epoch=2, rank=r, world=3, seed=0) for r in range(3)]
    assert [len(p) for p in parts] == [4, 4, 4]  # 11 padded to 12
    assert set(torch.cat(parts).tolist()) == set(range(11))
    assert not torch.equal(shard(11, 1, 0, 3, 0), shard(11, 2, 0, 3, 0))  # reshuffled every epoch


def test_two_processes_train_with_gloo_and_the_loss_falls(tmp_path):
    graph_path = ROOT / "examples" / "spiral_mlp.json"
    graph = load(graph_path)
    script = tmp_path / "train_spiral_mlp.py"
    script.write_text(export_torchrun_script(graph, graph_path))
    _spiral(tmp_path / "spiral.npz")
    cmd = [*_torchrun(), "--nproc_per_node=2", "--standalone", str(script), "spiral.npz",
           "--epochs", "4", "--json", "--out", "weights.pt"]
    run = subprocess.run(cmd, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]  # rank 0 alone prints
    losses = [r["loss"] for r in rows]
    assert all(math.isfinite(v) and v > 0 for v in losses)
    assert losses[-1] < losses[0]
    assert all(0.0 <= r["accuracy"] <= 1.0 and math.isfinite(r["val_loss"]) for r in rows)
    assert rows[0]["lr"] == 0.01
    state = torch.load(tmp_path / "weights.pt")
    module = compile_graph(graph)
    assert list(state) == list(module.state_dict())
    module.load_state_dict(state)
    data = np.load(tmp_path / "spiral.npz")
    with torch.no_grad():
        out = module(torch.as_tensor(data["x"]))
    accuracy = (out.argmax(1).numpy() == data["y"]).mean()
    assert accuracy > 0.4  # above chance (1/3) after four epochs


def test_one_process_without_torchrun_trains_a_regression(tmp_path):
    graph_path = ROOT / "examples" / "lstm_sequence.json"
    script = tmp_path / "train.py"
    script.write_text(export_torchrun_script(load(graph_path), graph_path))
    t = np.linspace(0, 8 * np.pi, 400)
    windows = np.stack([np.sin(t[i:i + 21]) for i in range(120)]).astype(np.float32)
    np.savez(tmp_path / "sine.npz", x=windows[:, :20, None], y=windows[:, 20:])
    run = subprocess.run([sys.executable, str(script), "sine.npz", "--epochs", "3", "--json", "--out", ""],
                         cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(rows) == 3 and "accuracy" not in rows[0]
    assert all(math.isfinite(r["loss"]) for r in rows)
    assert rows[-1]["loss"] < rows[0]["loss"]


def test_missing_arrays_are_named(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(export_torchrun_script(load(ROOT / "examples" / "spiral_mlp.json")))
    np.savez(tmp_path / "bad.npz", inputs=np.zeros((4, 2), np.float32))
    run = subprocess.run([sys.executable, str(script), "bad.npz"], cwd=tmp_path, env=_env(),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "missing arrays ['x', 'y']" in run.stderr


@pytest.mark.parametrize("name, words", [
    ("gan_ring2d", "GAN"), ("gcn_karate", "node-classification"),
])
def test_runs_the_script_cannot_reproduce_are_refused(name, words):
    with pytest.raises(ExportError) as info:
        export_torchrun_script(load(ROOT / "examples" / f"{name}.json"))
    assert words in str(info.value)
