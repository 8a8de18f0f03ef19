"""Training settings beyond what a run can use are refused by their key, with the range:
``lr: 1e300``, ``seed: 2**70``, ``epochs: 2**31``, a million threads."""

import dataclasses
import math
import os
import typing

import pytest
import torch

from studio.cli.main import main
from studio.files import save
from studio.graph import Graph
from studio.training import ConfigError, Trainer, TrainingConfig
from studio.training import config as config_module
from studio.training.config import ScheduleConfig, limits
from studio.training.device import cpu_threads
from studio.training.optim import Schedule


def refusal(data) -> list[str]:
    with pytest.raises(ConfigError) as info:
        TrainingConfig.from_dict(data)
    return info.value.problems


@pytest.mark.parametrize("data, problem", [
    ({"optimizer": {"lr": 1e300}}, "training.optimizer.lr: must be > 0 and <= 10, got 1e+300"),
    ({"seed": 2**70}, "training.seed: must be >= 0 and <= 2147483647, got 1180591620717411303424"),
    ({"epochs": 2**31}, "training.epochs: must be >= 1 and <= 1000000, got 2147483648"),
    ({"batch_size": 2**31}, "training.batch_size: must be >= 1 and <= 1000000, got 2147483648"),
    ({"optimizer": {"lr": 10**400}}, "training.optimizer.lr: must be > 0 and <= 10, got a number of about 401 digits"),
    ({"weight_decay": 1e300}, "training.weight_decay: must be >= 0 and <= 10, got 1e+300"),
    ({"optimizer": {"betas": [0.9, 1e300]}}, "training.optimizer.betas[1]: must be >= 0 and < 1, got 1e+300"),
    ({"optimizer": {"eps": 1e300}}, "training.optimizer.eps: must be > 0 and <= 1, got 1e+300"),
    ({"schedule": {"gamma": 1e300}}, "training.schedule.gamma: must be > 0 and <= 100, got 1e+300"),
    ({"early_stopping": {"patience": 2**40}}, "training.early_stopping.patience: must be >= 1 and <= 1000000, got 1099511627776"),
])
def test_huge_values_are_refused_by_key_with_the_range(data, problem):
    assert refusal(data) == [problem]


def test_a_million_threads_are_refused_and_more_than_the_cores_are_lowered():
    cores = os.cpu_count()
    [problem] = refusal({"threads": 10**6})
    assert problem == (f"training.threads: must be >= 1 and <= 1024 (a run takes at most this machine's {cores} "
                       f"core{'s' if cores != 1 else ''}), got 1000000")
    # A file written on a bigger machine is still a file this one trains: the run takes the cores it has.
    assert TrainingConfig.from_dict({"threads": cores + 6}).threads == cores + 6
    assert cpu_threads(cores + 6) <= cores


def test_the_trainer_takes_no_more_threads_than_cores():
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert cpu_threads(10**6) == usable
    assert cpu_threads(1) == 1


def tiny_graph(training=None) -> Graph:
    graph = Graph("tiny")
    graph.add_node("Input", {"shape": [2]}, (0, 0), "points")
    graph.add_node("Linear", {"out_features": 3}, (200, 0), "logits")
    graph.connect("points", "out", "logits", "in")
    graph.set_training(training or {"dataset": {"name": "spiral", "points": 20}, "epochs": 1, "threads": 1,
                                    "device": "cpu", "probes": False})
    return graph


def test_a_huge_seed_set_in_code_is_refused_before_torch_sees_it():
    graph = tiny_graph()
    cfg = TrainingConfig.from_dict(graph.training)
    cfg.seed = 2**70
    result = Trainer(graph, config=cfg).run()
    assert result.status == "failed"
    assert "training.seed: must be >= 0 and <= 2147483647" in result.message
    assert "Overflow" not in result.message


def test_every_number_setting_has_a_limit():
    def numbers(cls, prefix=""):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            hint = hints[f.name]
            if dataclasses.is_dataclass(hint):
                yield from numbers(hint, f"{prefix}{f.name}.")
            elif any(t in (int, float) for t in typing.get_args(hint) or (hint,)) and hint is not bool:
                yield prefix + f.name
            elif f.name == "betas":
                yield prefix + f.name

    assert set(numbers(TrainingConfig)) == set(limits())
    assert all(math.isfinite(lim.low) and math.isfinite(lim.high) for lim in limits().values())


def test_a_growing_schedule_gives_an_infinite_rate_not_an_overflow():
    grow = Schedule(ScheduleConfig(name="exponential", gamma=100.0), base_lr=10.0, epochs=10**6, steps_per_epoch=1)
    assert grow.lr(10**6 - 1) == math.inf
    step = Schedule(ScheduleConfig(name="step", gamma=100.0, step_size=1), base_lr=10.0, epochs=10**6,
                    steps_per_epoch=1)
    assert step.lr(10**6 - 1) == math.inf


def test_the_seed_limit_is_within_what_torch_takes():
    # every seed a run derives (weights, shuffling, each epoch's noise) stays a valid torch seed
    top = config_module.SEED_MAX
    for seed in (top * 1_000_003 + 10**6, top * 1000 + 10**6, top + 12345):
        torch.Generator().manual_seed(seed)


def test_studio_train_refuses_a_file_with_a_huge_seed(tmp_path, capsys):
    graph = tiny_graph({"dataset": {"name": "spiral"}, "seed": 2**70, "optimizer": {"lr": 1e300}})
    path = tmp_path / "huge.json"
    save(graph, path)
    code = main(["train", str(path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "training.seed: must be >= 0 and <= 2147483647" in err
    assert "training.optimizer.lr: must be > 0 and <= 10, got 1e+300" in err
    assert "Traceback" not in err and "Overflow" not in err


def test_studio_train_refuses_a_huge_seed_flag(tmp_path, capsys):
    path = tmp_path / "g.json"
    save(Graph("g"), path)
    assert main(["train", str(path), "--seed", str(2**70)]) == 2
    err = capsys.readouterr().err
    assert "--seed: must be at most 2147483647" in err


def test_the_docs_give_every_range():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "training.md").read_text()
    for key, lim in limits().items():
        assert f"`{key}`" in text or (key == "optimizer.betas" and "`optimizer.betas`" in text), key
        if key != "threads":
            assert f"{lim.low_text} and {lim.high_text.replace(str(int(lim.high)), f'{int(lim.high):,}')}" in text \
                or f"{lim.low_text} and {lim.high_text}" in text, key
