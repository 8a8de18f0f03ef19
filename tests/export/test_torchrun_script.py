"""The torchrun script is real code: it schedules, optimizes and computes the loss with the
trainer's own helpers, and its module runs in-process."""

from __future__ import annotations

import importlib
import inspect
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.compile import compile_graph
from studio.export import ExportError, export_torchrun_script
from studio.export import torchrun_script as script_module
from studio.export.torchrun import _TEMPLATE, training_settings
from studio.export.torchrun_template import DOCSTRING, script_template
from studio.files import load
from studio.training import TrainingConfig, losses, optim
from studio.training.config import OPTIMIZERS, SCHEDULES
from studio.training.losses import IGNORE, Objective, TargetMismatch
from studio.training.optim import Schedule, make_optimizer
from studio.training.recipe import Update

ROOT = Path(__file__).resolve().parents[2]
SPIRAL = ROOT / "examples" / "spiral_mlp.json"


def _exported(training: dict | None = None) -> tuple[dict, TrainingConfig]:
    """The spiral script with ``training`` merged into its settings, run as a module that is not main."""
    graph = load(SPIRAL)
    if training:
        graph.set_training({**graph.training, **training})
    namespace: dict = {"__name__": "not_main"}
    exec(compile(export_torchrun_script(graph, SPIRAL), "train.py", "exec"), namespace)
    return namespace, TrainingConfig.from_dict(graph.training)


# one case per schedule kind; warmup_cosine and one_cycle rise first
SCHEDULE_CASES = {
    "constant": {},
    "step": {"step_size": 2, "gamma": 0.5},
    "exponential": {},
    "cosine": {"min_lr": 0.001},
    "warmup_cosine": {"warmup_epochs": 1.5, "min_lr": 0.0005},
    "one_cycle": {"max_lr": 0.2, "pct_start": 0.25},
}


def test_every_schedule_kind_has_a_case():
    assert set(SCHEDULE_CASES) == set(SCHEDULES)


@pytest.mark.parametrize("name", sorted(SCHEDULE_CASES))
@pytest.mark.parametrize("steps_per_epoch", [1, 7])
def test_the_exported_schedule_is_the_trainers(name, steps_per_epoch):
    script, cfg = _exported({"epochs": 6, "schedule": {"name": name, **SCHEDULE_CASES[name]}})
    trainer = Schedule(cfg.schedule, cfg.optimizer.lr, cfg.epochs, steps_per_epoch)
    total = cfg.epochs * steps_per_epoch
    steps = range(total + 3)  # the warmup, the run, and a few steps past its end
    exported = [script["lr_at"](step, steps_per_epoch, cfg.epochs) for step in steps]
    assert exported == [trainer.lr(step) for step in steps]
    if name != "constant":
        assert len(set(exported)) > 2  # the rate moves, so equal lists say something
    if name in ("warmup_cosine", "one_cycle"):
        assert exported[0] < exported[steps_per_epoch]  # it rises first


def test_a_growing_exported_schedule_gives_an_infinite_rate_as_the_trainer_does():
    script, cfg = _exported({"epochs": 2000, "optimizer": {"name": "sgd", "lr": 10.0},
                             "schedule": {"name": "exponential", "gamma": 100.0}})
    assert script["lr_at"](1999, 1, 2000) == math.inf == Schedule(cfg.schedule, 10.0, 2000, 1).lr(1999)


OPTIMIZER_CASES = {
    "sgd": {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    "adam": {"lr": 0.002, "betas": [0.8, 0.99], "eps": 1e-6},
    "adamw": {"lr": 0.003, "betas": [0.85, 0.995]},
    "rmsprop": {"lr": 0.004, "alpha": 0.9, "momentum": 0.5, "eps": 1e-7},
}


def test_every_optimizer_has_a_case_and_the_perceptron_rule_is_refused():
    assert set(OPTIMIZER_CASES) == set(OPTIMIZERS) - {"perceptron"}
    with pytest.raises(ExportError, match="training.optimizer.name perceptron: the torchrun script trains by gradient"):
        _exported({"optimizer": {"name": "perceptron", "lr": 1.0}})


@pytest.mark.parametrize("name", sorted(OPTIMIZER_CASES))
def test_the_exported_optimizer_is_the_trainers(name):
    script, cfg = _exported({"weight_decay": 0.01, "optimizer": {"name": name, **OPTIMIZER_CASES[name]}})
    torch.manual_seed(0)
    ours, theirs = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    theirs.load_state_dict(ours.state_dict())
    exported = script["make_optimizer"](list(ours.parameters()))
    trained = make_optimizer(theirs.parameters(), cfg.optimizer, cfg.weight_decay)
    assert type(exported) is type(trained)
    assert exported.defaults == trained.defaults
    assert exported.defaults["lr"] == OPTIMIZER_CASES[name]["lr"] and exported.defaults["weight_decay"] == 0.01
    x = torch.randn(5, 3)
    for _ in range(3):  # the same steps from the same gradients
        for model, opt in ((ours, exported), (theirs, trained)):
            opt.zero_grad()
            model(x).square().sum().backward()
            opt.step()
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), theirs.parameters()))


@pytest.mark.parametrize("l1, grad_clip", [(0.0, None), (0.05, None), (0.0, 0.1), (0.05, 0.1)])
def test_the_exported_update_is_the_trainers(l1, grad_clip):
    # L1 joins the gradient and the norm is clipped, in the script as in the trainer's Update
    script, cfg = _exported({"l1": l1, "grad_clip": grad_clip, "optimizer": {"name": "sgd", "lr": 0.5}})
    assert (script["TRAINING"]["l1"], script["TRAINING"]["grad_clip"]) == (l1, grad_clip)
    torch.manual_seed(0)
    ours, theirs, plain = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    theirs.load_state_dict(ours.state_dict())
    plain.load_state_dict(ours.state_dict())
    params = list(ours.parameters())
    exported = script["make_optimizer"](params)
    update = Update(theirs.parameters(), cfg, torch.device("cpu"))
    bare = torch.optim.SGD(plain.parameters(), lr=0.5)
    x = torch.randn(5, 3)
    for _ in range(3):
        script["optimizer_step"](exported, params, ours(x).square().sum(), script["TRAINING"]["l1"],
                                 script["TRAINING"]["grad_clip"])
        update(theirs(x).square().sum())
        bare.zero_grad()
        plain(x).square().sum().backward()
        bare.step()
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), theirs.parameters()))
    # and the settings took effect: either one moves the weights off a bare step's
    moved = not all(torch.equal(a, b) for a, b in zip(ours.parameters(), plain.parameters()))
    assert moved == bool(l1 or grad_clip)


def _targets(shape, classes=None):
    gen = torch.Generator().manual_seed(1)
    if classes is None:
        return torch.randn(shape, generator=gen)
    return torch.randint(0, classes, shape, generator=gen)


LOSS_CASES = [  # (loss, output shape, targets)
    ("cross_entropy", (6, 3), _targets((6,), 3)),
    ("cross_entropy", (6, 5, 4), torch.where(_targets((6, 5), 4) == 0, IGNORE, _targets((6, 5), 4))),
    ("cross_entropy", (6, 4, 2, 2), _targets((6, 2, 2), 4)),
    ("bce_with_logits", (6, 1), _targets((6,), 2)),
    ("mse", (6, 2), _targets((6, 2))),
    ("l1", (6, 1), _targets((6,))),
]


@pytest.mark.parametrize("loss, out_shape, targets", LOSS_CASES, ids=lambda v: str(v) if isinstance(v, str) else "")
def test_the_exported_loss_is_the_trainers(loss, out_shape, targets):
    script, _ = _exported()
    out = torch.randn(out_shape, generator=torch.Generator().manual_seed(2))
    trainer = Objective(loss, torch.Size(out_shape), targets)
    exported = script["Objective"](loss, torch.Size(out_shape), targets)
    y = exported.prepare(targets)
    assert torch.equal(y, trainer.prepare(targets))
    assert torch.equal(exported.loss(out, y), trainer.loss(out, y))
    value, sums = script["loss_fn"](exported, out, y)
    assert torch.equal(value, trainer.loss(out, y))
    assert math.isclose(sums[0].item(), value.item() * len(y))
    if trainer.has_accuracy:
        right, counted = trainer.correct(out, y)
        assert sums[1:].tolist() == [right.item(), counted.item()]
        if loss == "cross_entropy" and (targets == IGNORE).any():
            assert counted.item() < targets.numel()  # padding counts for neither
    else:
        assert not exported.has_accuracy and sums[1:].tolist() == [0.0, 0.0]


def test_a_target_mismatch_reads_as_the_trainers():
    script, _ = _exported()
    targets = _targets((4, 2), 3)
    with pytest.raises(TargetMismatch) as ours:
        Objective("cross_entropy", torch.Size((4, 3)), targets, "data.npz")
    with pytest.raises(script["TargetMismatch"]) as theirs:
        script["Objective"]("cross_entropy", torch.Size((4, 3)), targets, "data.npz")
    assert str(theirs.value) == str(ours.value)


@pytest.mark.parametrize("helper", [optim.scheduled_lr, optim.torch_optimizer, optim.optimizer_step, optim._power,
                                    optim._cosine, losses.Objective, losses.TargetMismatch, losses._fmt, losses._numel])
def test_the_trainers_helpers_are_copied_from_their_source(helper):
    assert inspect.getsource(helper) in _TEMPLATE


def test_the_script_has_no_hand_copy_of_the_trainers_helpers():
    own = inspect.getsource(script_module)
    for name in ("def scheduled_lr", "def torch_optimizer", "def optimizer_step", "class Objective", "def _cosine"):
        assert name not in own
        assert _TEMPLATE.count(name) == 1
    # no loss, rate, optimizer, penalty or clipping of its own
    for call in ("F.", "math.", "torch.optim.", ".backward(", "clip_grad", ".abs()"):
        assert call not in own


def test_the_stand_ins_have_the_settings_an_export_writes():
    def keys(d):
        return {k: keys(v) if isinstance(v, dict) else None for k, v in d.items()}
    assert keys(script_module.TRAINING) == keys(training_settings(TrainingConfig()))


def _spiral(path: Path, n: int = 120) -> None:
    rng = np.random.default_rng(0)
    label = rng.integers(0, 3, n)
    t = rng.uniform(0.05, 1.0, n)
    angle = 4 * t + label * 2 * np.pi / 3
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], 1).astype(np.float32)
    np.savez(path, x=x, y=label, x_val=x[:30], y_val=label[:30])


@pytest.fixture
def spiral_script(monkeypatch):
    """The script module set up as the spiral's export sets it."""
    graph = load(SPIRAL)
    cfg = TrainingConfig.from_dict(graph.training)
    monkeypatch.setattr(script_module, "MODEL", lambda: compile_graph(graph))
    monkeypatch.setattr(script_module, "LOSS", "cross_entropy")
    monkeypatch.setattr(script_module, "TRAINING", training_settings(cfg))
    return graph


def test_the_script_module_trains_in_process(spiral_script, tmp_path, capsys):
    _spiral(tmp_path / "spiral.npz")
    out = tmp_path / "weights.pt"
    script_module.main([str(tmp_path / "spiral.npz"), "--epochs", "5", "--json", "--out", str(out)])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert all(0.0 <= r["accuracy"] <= 1.0 and 0.0 <= r["val_accuracy"] <= 1.0 for r in rows)
    assert rows[0]["lr"] == 0.01  # the spiral's adam rate
    state = torch.load(out)
    assert list(state) == list(compile_graph(spiral_script).state_dict())


def test_targets_that_do_not_fit_the_output_end_the_run_with_the_trainers_message(spiral_script, tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x=np.zeros((8, 2), np.float32), y=np.zeros((8, 2), np.int64))
    with pytest.raises(SystemExit) as info:
        script_module.main([str(path), "--epochs", "1", "--out", ""])
    assert str(info.value) == f"{path}: output [3] does not fit class targets [2]: expected [2, C] class scores"


def _script(tmp_path, monkeypatch, name: str, text: str):
    (tmp_path / f"{name}.py").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module(name)


def test_the_template_copies_a_helper_with_what_it_uses_and_the_imports_it_needs(tmp_path, monkeypatch):
    module = _script(tmp_path, monkeypatch, "script_rate", (
        '"""A script."""\n\nimport torch\n\nfrom studio.training.optim import scheduled_lr\n\n'
        '__RATE__ = 0.1\n\n# ---- code ----\n\nRATE = __RATE__\nprint(torch, scheduled_lr)\n'))
    template = script_template(module)
    assert template.startswith(DOCSTRING)
    body = template[len(DOCSTRING):]
    assert body.splitlines()[:5] == ["", "import math", "from typing import Any", "", "import torch"]
    order = [body.index(text) for text in ("__MODEL__", "def scheduled_lr", "def _power", "def _cosine",
                                           "# ---- code ----", "RATE = __RATE__")]
    assert order == sorted(order)
    assert "__RATE__ = 0.1" not in template and "torch_optimizer" not in template


@pytest.mark.parametrize("text, words", [
    # make_optimizer reads an OptimizerConfig, which only Studio has
    ("from studio.training.optim import make_optimizer\n\n__RATE__ = 1\n\nRATE = __RATE__\n",
     "binds OptimizerConfig from .config"),
    ("from studio.training.optim import scheduled_lr\n\n__RATE__ = 1\n__SPEED__ = 2\n\nRATE = __RATE__\n",
     "the code's markers ['__RATE__'] are not the stand-ins ['__RATE__', '__SPEED__']"),
    ("from studio.training.optim import scheduled_lr\n\n__RATE__ = 1\n\n\ndef _power():\n    return __RATE__\n",
     "defines ['_power'], which the copied helpers define too"),
    ("from studio.training.optim import scheduled_lr\n\n__RATE__ = 1\n\nimport studio\n\nRATE = __RATE__\n",
     "the script imports studio"),
])
def test_the_template_refuses_a_script_it_cannot_make_standalone(tmp_path, monkeypatch, text, words):
    name = f"script_{abs(hash(text))}"
    module = _script(tmp_path, monkeypatch, name, f'"""A script."""\n\n{text}')
    with pytest.raises(AssertionError) as info:
        script_template(module)
    assert words in str(info.value)
