import math
from dataclasses import dataclass

import pytest

from studio.training import ConfigError, TrainingConfig
from studio.training.config import ScheduleConfig, limits
from studio.training.optim import Schedule
from studio.training.settings_fields import find, setting, specs, walk
from studio.training.settings_reader import read


def problems_of(data) -> list[str]:
    with pytest.raises(ConfigError) as info:
        TrainingConfig.from_dict(data)
    return info.value.problems


def test_defaults_round_trip_through_a_dict():
    cfg = TrainingConfig.from_dict({})
    assert cfg.task == "auto" and cfg.optimizer.name == "adam" and cfg.batch_size == 32
    assert cfg.early_stopping.enabled is False and cfg.device == "auto" and cfg.precision == "fp32"
    again = TrainingConfig.from_dict(cfg.to_dict())
    assert again == cfg
    assert cfg.to_dict()["optimizer"]["betas"] == [0.9, 0.999]


def test_every_value_is_read():
    data = {
        "task": "classification", "loss": "cross_entropy",
        "optimizer": {"name": "sgd", "lr": 0.5, "momentum": 0.9, "nesterov": True},
        "schedule": {"name": "step", "step_size": 3, "gamma": 0.5},
        "batch_size": 16, "epochs": 7, "weight_decay": 1e-4, "l1": 1e-5, "grad_clip": 1.0,
        "early_stopping": {"enabled": True, "patience": 2, "min_delta": 0.01},
        "seed": 3, "device": "cpu", "precision": "fp32",
        "probes": {"enabled": True, "every": 5, "budget": 0.05},
        "dataset": {"name": "xor"}, "gan": {"generator": "z", "discriminator": "x", "latent_size": 4, "d_steps": 2},
        "checkpoint": {"enabled": True, "every": 2},
    }
    cfg = TrainingConfig.from_dict(data)
    assert cfg.optimizer.nesterov and cfg.optimizer.momentum == 0.9
    assert cfg.schedule.gamma_value == 0.5 and cfg.grad_clip == 1.0 and cfg.l1 == 1e-5
    assert cfg.probes.every == 5 and cfg.gan.d_steps == 2 and cfg.dataset == {"name": "xor"}
    assert TrainingConfig.from_dict(cfg.to_dict()) == cfg


def test_bad_value_names_its_key():
    assert problems_of({"optimizer": {"lr": -1}}) == ["training.optimizer.lr: must be > 0, got -1"]


def test_every_problem_is_listed_with_its_key():
    found = problems_of({
        "batch_size": 0, "device": "tpu", "optimzer": {}, "epochs": "ten",
        "optimizer": {"betas": [0.9, 1.5]}, "schedule": {"name": "cyclic"}, "grad_clip": 0,
    })
    assert "training.batch_size: must be >= 1, got 0" in found
    assert "training.device: must be one of auto, cpu, cuda, mps, got 'tpu'" in found
    assert any(p.startswith("training.optimzer: unknown key (known: task, loss, optimizer") for p in found)
    assert "training.epochs: must be a whole number, got 'ten'" in found
    assert "training.optimizer.betas[1]: must be >= 0 and < 1, got 1.5" in found
    assert any(p.startswith("training.schedule.name: must be one of constant, step") for p in found)
    assert "training.grad_clip: must be > 0, got 0" in found
    assert len(found) == 7


def test_combinations_that_cannot_work():
    assert problems_of({"optimizer": {"name": "adam", "nesterov": True}}) == [
        "training.optimizer.nesterov: needs name sgd with momentum > 0"]
    assert problems_of({"precision": "fp16", "device": "cpu"}) == [
        "training.precision: fp16 runs on CUDA only, device is cpu"]
    assert problems_of({"task": "classification", "loss": "mse"}) == [
        "training.loss: classification needs cross_entropy or bce_with_logits, got 'mse'"]
    assert problems_of({"probes": {"every": 0}}) == ["training.probes.every: must be >= 1, got 0"]
    assert problems_of({"dataset": "spiral"}) == ["training.dataset: must be an object, got 'spiral'"]


def test_probes_false_is_short_for_off():
    assert TrainingConfig.from_dict({"probes": False}).probes.enabled is False


def test_validate_checks_values_set_in_code():
    cfg = TrainingConfig()
    assert cfg.validate() == []
    cfg.optimizer.lr = 0
    cfg.epochs = -2
    assert cfg.validate() == ["training.optimizer.lr: must be > 0, got 0", "training.epochs: must be >= 1, got -2"]


def test_loss_follows_the_task():
    cfg = TrainingConfig.from_dict({})
    assert cfg.resolved_loss(True, "classification") == "cross_entropy"
    assert cfg.resolved_loss(False, "regression") == "mse"
    assert cfg.resolved_loss(True, "sequence") == "cross_entropy"
    assert cfg.resolved_loss(False, "sequence") == "mse"
    assert TrainingConfig.from_dict({"loss": "l1"}).resolved_loss(False, "regression") == "l1"


def schedule(name, **options):
    return Schedule(ScheduleConfig(name=name, **options), base_lr=0.1, epochs=10, steps_per_epoch=10)


def test_schedules_give_the_learning_rate_of_each_step():
    assert schedule("constant").lr(57) == 0.1
    step = schedule("step", step_size=3, gamma=0.5)
    assert [step.lr(e * 10) for e in (0, 2, 3, 6)] == [0.1, 0.1, 0.05, 0.025]
    assert math.isclose(schedule("exponential").lr(20), 0.1 * 0.95 ** 2)
    cos = schedule("cosine", min_lr=0.01)
    assert cos.lr(0) == 0.1 and math.isclose(cos.lr(50), 0.055) and math.isclose(cos.lr(100), 0.01)
    warm = schedule("warmup_cosine", warmup_epochs=2)
    assert math.isclose(warm.lr(0), 0.005) and math.isclose(warm.lr(19), 0.1) and warm.lr(99) < 0.001
    one = schedule("one_cycle", max_lr=1.0, pct_start=0.3)
    assert math.isclose(one.lr(0), 1.0 / 25) and math.isclose(one.lr(30), 1.0)
    assert math.isclose(one.lr(100), 1.0 / 25 / 1e4)
    assert max(one.lr(s) for s in range(100)) == 1.0


def test_every_setting_is_declared_with_a_label_help_and_a_valid_default():
    for key, spec in walk(TrainingConfig):
        s = spec.setting
        assert s.label and s.help.endswith("."), key
        if spec.kind == "choice":
            assert spec.default in s.choices, key
        if s.when is not None:
            sibling = find(TrainingConfig, ".".join([*key.split(".")[:-1], s.when[0]]))
            assert all(v in (sibling.setting.choices or (True, False)) for v in s.when[1]), key
    assert find(TrainingConfig, "optimizer.lr").limit == limits()["optimizer.lr"]
    assert limits()["epochs"].whole and not limits()["optimizer.lr"].whole


@dataclass
class Toy:
    size: int = setting(3, "Size", "How many.", low=1, high=9)
    rate: float | None = setting(None, "Rate", "How fast.", low=0, high=1, low_open=True)
    mode: str = setting("a", "Mode", "Which.", choices=("a", "b"))


def test_one_declaration_is_all_the_reader_needs():
    toy, problems = read(Toy, {"size": 12, "rate": 0, "mode": "c", "colour": 1}, "toy")
    assert problems == [
        "toy.colour: unknown key (known: size, rate, mode)",
        "toy.size: must be >= 1 and <= 9, got 12",
        "toy.rate: must be > 0, got 0",
        "toy.mode: must be one of a, b, got 'c'",
    ]
    assert toy == Toy()  # a refused value reads as its default
    assert read(Toy, {"size": 4.0, "rate": None}, "toy") == (Toy(size=4), [])


def test_a_declaration_the_reader_cannot_read_fails_when_first_used():
    @dataclass
    class Unbounded:
        rate: float = setting(0.5, "Rate", "How fast.")

    @dataclass
    class Undeclared:
        rate: float = 0.5

    with pytest.raises(TypeError, match="Unbounded.rate: a number setting needs low and high"):
        specs(Unbounded)
    with pytest.raises(TypeError, match=r"Undeclared.rate: declare it with setting\(...\)"):
        specs(Undeclared)
