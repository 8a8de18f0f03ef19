"""The training configuration, as stored in a graph file under ``training``.

``TrainingConfig.from_dict(graph.training)`` reads and checks every value;
each problem names its key the way a person finds it in the file, e.g.
``training.optimizer.lr: must be > 0, got -1``. ``to_dict()`` writes it back
with every default filled in, so a saved file says exactly how it trained.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

TASKS = ("auto", "classification", "regression", "sequence", "node_classification", "gan")
LOSSES = ("auto", "cross_entropy", "bce_with_logits", "mse", "l1")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "step", "exponential", "cosine", "warmup_cosine", "one_cycle")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("fp32", "bf16", "fp16")

# The loss a task trains with when ``loss`` is "auto". Sequence tasks decide
# from their targets: integer tokens -> cross_entropy, values -> mse.
DEFAULT_LOSS: dict[str, str | None] = {
    "classification": "cross_entropy",
    "regression": "mse",
    "sequence": None,
    "node_classification": "cross_entropy",
    "gan": "bce_with_logits",
}


class ConfigError(ValueError):
    """One or more bad values; ``problems`` lists them, each naming its key."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# ---- reading helpers ---------------------------------------------------------

class _Reader:
    """Collects every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def section(self, value: Any, path: str, known: tuple[str, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, f"must be an object, got {_show(value)}")
            return {}
        for key in value:
            if key not in known:
                self.fail(f"{path}.{key}", f"unknown key (known: {', '.join(known)})")
        return dict(value)

    def number(self, d, key, path, default, *, gt=None, ge=None, le=None, lt=None, optional=False):
        value = d.get(key, default)
        where = f"{path}.{key}"
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(where, f"must be a number, got {_show(value)}")
            return default
        value = float(value)
        if not math.isfinite(value):
            self.fail(where, f"must be a finite number, got {value}")
            return default
        if not self._bounds(where, value, gt, ge, le, lt):
            return default
        return value

    def integer(self, d, key, path, default, *, gt=None, ge=None, le=None, optional=False):
        value = d.get(key, default)
        where = f"{path}.{key}"
        if value is None and optional:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"must be a whole number, got {_show(value)}")
            return default
        if not self._bounds(where, value, gt, ge, le, None):
            return default
        return value

    def boolean(self, d, key, path, default):
        value = d.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{path}.{key}", f"must be true or false, got {_show(value)}")
            return default
        return value

    def choice(self, d, key, path, default, choices):
        value = d.get(key, default)
        if value not in choices:
            self.fail(f"{path}.{key}", f"must be one of {', '.join(choices)}, got {_show(value)}")
            return default
        return value

    def text(self, d, key, path, default):
        value = d.get(key, default)
        if value is not None and not (isinstance(value, str) and value):
            self.fail(f"{path}.{key}", f"must be a name, got {_show(value)}")
            return default
        return value

    def _bounds(self, where, value, gt, ge, le, lt) -> bool:
        for bound, ok, word in ((gt, lambda b: value > b, ">"), (ge, lambda b: value >= b, ">="),
                                (le, lambda b: value <= b, "<="), (lt, lambda b: value < b, "<")):
            if bound is not None and not ok(bound):
                self.fail(where, f"must be {word} {_num(bound)}, got {_num(value)}")
                return False
        return True


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return _num(value) if isinstance(value, (int, float)) else type(value).__name__


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _keys(cls) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


# ---- sections ----------------------------------------------------------------

@dataclass
class OptimizerConfig:
    """``name``: sgd (with ``momentum``, ``nesterov``), adam and adamw (``betas``,
    ``eps``), rmsprop (``alpha``, ``momentum``, ``eps``)."""

    name: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    nesterov: bool = False
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    alpha: float = 0.99

    @classmethod
    def _read(cls, r: _Reader, value: Any, path: str) -> "OptimizerConfig":
        d = r.section(value, path, _keys(cls))
        out = cls(
            name=r.choice(d, "name", path, "adam", OPTIMIZERS),
            lr=r.number(d, "lr", path, 1e-3, gt=0),
            momentum=r.number(d, "momentum", path, 0.0, ge=0, lt=1),
            nesterov=r.boolean(d, "nesterov", path, False),
            eps=r.number(d, "eps", path, 1e-8, gt=0),
            alpha=r.number(d, "alpha", path, 0.99, ge=0, lt=1),
        )
        betas = d.get("betas", (0.9, 0.999))
        if (not isinstance(betas, (list, tuple)) or len(betas) != 2
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in betas)):
            r.fail(f"{path}.betas", f"must be two numbers like [0.9, 0.999], got {_show(betas)}")
        else:
            for i, b in enumerate(betas):
                if not 0 <= b < 1:
                    r.fail(f"{path}.betas[{i}]", f"must be >= 0 and < 1, got {_num(b)}")
            out.betas = (float(betas[0]), float(betas[1]))
        if out.nesterov and (out.name != "sgd" or out.momentum <= 0):
            r.fail(f"{path}.nesterov", "needs name sgd with momentum > 0")
        return out


@dataclass
class ScheduleConfig:
    """How the learning rate moves, computed per step from the base ``lr``:

    - constant
    - step: times ``gamma`` every ``step_size`` epochs
    - exponential: times ``gamma`` every epoch
    - cosine: from lr down to ``min_lr`` over the run
    - warmup_cosine: linear from 0 over ``warmup_epochs``, then cosine to ``min_lr``
    - one_cycle: up from ``max_lr / div_factor`` to ``max_lr`` over ``pct_start`` of
      the run, then down to ``max_lr / (div_factor * final_div_factor)``
      (``max_lr`` null means the optimizer's lr)
    """

    name: str = "constant"
    step_size: int = 10
    gamma: float | None = None  # null: 0.1 for step, 0.95 for exponential
    min_lr: float = 0.0
    warmup_epochs: float = 1.0
    max_lr: float | None = None
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4

    @property
    def gamma_value(self) -> float:
        if self.gamma is not None:
            return self.gamma
        return 0.95 if self.name == "exponential" else 0.1

    @classmethod
    def _read(cls, r: _Reader, value: Any, path: str) -> "ScheduleConfig":
        d = r.section(value, path, _keys(cls))
        return cls(
            name=r.choice(d, "name", path, "constant", SCHEDULES),
            step_size=r.integer(d, "step_size", path, 10, ge=1),
            gamma=r.number(d, "gamma", path, None, gt=0, optional=True),
            min_lr=r.number(d, "min_lr", path, 0.0, ge=0),
            warmup_epochs=r.number(d, "warmup_epochs", path, 1.0, ge=0),
            max_lr=r.number(d, "max_lr", path, None, gt=0, optional=True),
            pct_start=r.number(d, "pct_start", path, 0.3, gt=0, lt=1),
            div_factor=r.number(d, "div_factor", path, 25.0, ge=1),
            final_div_factor=r.number(d, "final_div_factor", path, 1e4, ge=1),
        )


@dataclass
class EarlyStoppingConfig:
    """Stop when the validation loss has not improved by ``min_delta`` for
    ``patience`` epochs; ``restore_best`` puts back the best epoch's weights."""

    enabled: bool = False
    patience: int = 5
    min_delta: float = 0.0
    restore_best: bool = True

    @classmethod
    def _read(cls, r: _Reader, value: Any, path: str) -> "EarlyStoppingConfig":
        d = r.section(value, path, _keys(cls))
        return cls(
            enabled=r.boolean(d, "enabled", path, False),
            patience=r.integer(d, "patience", path, 5, ge=1),
            min_delta=r.number(d, "min_delta", path, 0.0, ge=0),
            restore_best=r.boolean(d, "restore_best", path, True),
        )


@dataclass
class ProbesConfig:
    """Sampled views of the network. A whole probe comes at least every 0.4 s of a
    run and after its last step; ``budget`` (a share of the training time, measured
    as probes run) picks how detailed each is, from ``grid`` and ``batch`` down to
    a 16x16 grid and 32 samples, never whether it comes. Every ``every`` steps a
    further probe at full detail comes when the budget affords it, else the
    gradient norms alone."""

    enabled: bool = True
    every: int = 50
    budget: float = 0.02
    activations: bool = True
    gradients: bool = True
    boundary: bool = True
    samples: bool = True
    batch: int = 256  # samples the activation probe runs on
    bins: int = 30
    grid: int = 64  # decision-boundary grid is grid x grid

    @classmethod
    def _read(cls, r: _Reader, value: Any, path: str) -> "ProbesConfig":
        if isinstance(value, bool):  # "probes": false is the short form
            return cls(enabled=value)
        d = r.section(value, path, _keys(cls))
        return cls(
            enabled=r.boolean(d, "enabled", path, True),
            every=r.integer(d, "every", path, 50, ge=1),
            budget=r.number(d, "budget", path, 0.02, gt=0, le=1),
            activations=r.boolean(d, "activations", path, True),
            gradients=r.boolean(d, "gradients", path, True),
            boundary=r.boolean(d, "boundary", path, True),
            samples=r.boolean(d, "samples", path, True),
            batch=r.integer(d, "batch", path, 256, ge=1),
            bins=r.integer(d, "bins", path, 30, ge=2),
            grid=r.integer(d, "grid", path, 64, ge=2, le=512),
        )


@dataclass
class GanConfig:
    """Which network (as ``compile_networks`` names them) generates and which
    discriminates; ``latent_size`` null means the generator's input size.
    Each round trains the discriminator ``d_steps`` times, then the generator
    ``g_steps`` times."""

    generator: str | None = None
    discriminator: str | None = None
    latent_size: int | None = None
    d_steps: int = 1
    g_steps: int = 1

    @classmethod
    def _read(cls, r: _Reader, value: Any, path: str) -> "GanConfig":
        d = r.section(value, path, _keys(cls))
        return cls(
            generator=r.text(d, "generator", path, None),
            discriminator=r.text(d, "discriminator", path, None),
            latent_size=r.integer(d, "latent_size", path, None, ge=1, optional=True),
            d_steps=r.integer(d, "d_steps", path, 1, ge=1),
            g_steps=r.integer(d, "g_steps", path, 1, ge=1),
        )


@dataclass
class CheckpointConfig:
    """Save weights (safetensors) and the optimizer state every ``every`` epochs
    and at the end. ``path`` null means beside the graph file."""

    enabled: bool = False
    every: int = 1
    path: str | None = None

    @classmethod
    def _read(cls, r: _Reader, value: Any, path: str) -> "CheckpointConfig":
        d = r.section(value, path, _keys(cls))
        return cls(
            enabled=r.boolean(d, "enabled", path, False),
            every=r.integer(d, "every", path, 1, ge=1),
            path=r.text(d, "path", path, None),
        )


@dataclass
class TrainingConfig:
    """Everything a run needs besides the graph and the data.

    ``weight_decay`` is the L2 penalty (decoupled for adamw); ``l1`` adds
    ``l1 * sum(|w|)`` over the weights; ``grad_clip`` caps the gradients' global
    L2 norm (null: off). ``device`` auto picks CUDA, then MPS, then the CPU;
    ``precision`` bf16/fp16 autocast applies on CUDA only (fp16 with a gradient
    scaler). ``report_every``: steps between loss read-backs (one transfer each).
    ``val_fraction``: share of the samples held out when the data set has no
    validation split of its own. ``dataset`` is the data spec (see studio.data).
    """

    task: str = "auto"  # auto: the data set's task
    loss: str = "auto"
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    batch_size: int = 32
    epochs: int = 10
    weight_decay: float = 0.0
    l1: float = 0.0
    grad_clip: float | None = None
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    probes: ProbesConfig = field(default_factory=ProbesConfig)
    report_every: int = 10
    threads: int | None = None
    dataset: dict[str, Any] | None = None
    gan: GanConfig = field(default_factory=GanConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)

    # ---- reading and writing ---------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, path: str = "training") -> "TrainingConfig":
        """Read a ``training`` dict (missing keys take defaults); raises
        ``ConfigError`` listing every bad value by its key."""
        r = _Reader()
        d = r.section(data or {}, path, _keys(cls))
        p = path
        cfg = cls(
            task=r.choice(d, "task", p, "auto", TASKS),
            loss=r.choice(d, "loss", p, "auto", LOSSES),
            optimizer=OptimizerConfig._read(r, d.get("optimizer"), f"{p}.optimizer"),
            schedule=ScheduleConfig._read(r, d.get("schedule"), f"{p}.schedule"),
            batch_size=r.integer(d, "batch_size", p, 32, ge=1),
            epochs=r.integer(d, "epochs", p, 10, ge=1),
            weight_decay=r.number(d, "weight_decay", p, 0.0, ge=0),
            l1=r.number(d, "l1", p, 0.0, ge=0),
            grad_clip=r.number(d, "grad_clip", p, None, gt=0, optional=True),
            early_stopping=EarlyStoppingConfig._read(r, d.get("early_stopping"), f"{p}.early_stopping"),
            seed=r.integer(d, "seed", p, 0, ge=0),
            device=r.choice(d, "device", p, "auto", DEVICES),
            precision=r.choice(d, "precision", p, "fp32", PRECISIONS),
            probes=ProbesConfig._read(r, d.get("probes"), f"{p}.probes"),
            report_every=r.integer(d, "report_every", p, 10, ge=1),
            threads=r.integer(d, "threads", p, None, ge=1, optional=True),
            gan=GanConfig._read(r, d.get("gan"), f"{p}.gan"),
            checkpoint=CheckpointConfig._read(r, d.get("checkpoint"), f"{p}.checkpoint"),
        )
        dataset = d.get("dataset")
        if dataset is not None and not isinstance(dataset, Mapping):
            r.fail(f"{p}.dataset", f"must be an object, got {_show(dataset)}")
        elif dataset is not None:
            cfg.dataset = copy.deepcopy(dict(dataset))
        r.problems.extend(cfg._cross_checks(path))
        if r.problems:
            raise ConfigError(r.problems)
        return cfg

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (tuples become lists); ``dataset`` null is left out."""
        out = _jsonable(asdict(self))
        if out.get("dataset") is None:
            out.pop("dataset", None)
        return out

    def validate(self, path: str = "training") -> list[str]:
        """Problems of a config built or changed in code, e.g. ``cfg.optimizer.lr = -1``."""
        try:
            TrainingConfig.from_dict(self.to_dict(), path)
        except ConfigError as exc:
            return exc.problems
        return []

    def resolved_loss(self, integer_targets: bool, task: str | None = None) -> str:
        """The loss to train with: the explicit one, or the task's default."""
        if self.loss != "auto":
            return self.loss
        task = task or self.task
        if task == "auto":
            raise ValueError("the task must be known (from the data set) before the loss")
        default = DEFAULT_LOSS[task]
        if default is None:
            return "cross_entropy" if integer_targets else "mse"
        return default

    def _cross_checks(self, path: str) -> list[str]:
        problems = []
        if self.precision != "fp32" and self.device in ("cpu", "mps"):
            problems.append(f"{path}.precision: {self.precision} runs on CUDA only, device is {self.device}")
        if self.task == "gan" and self.loss not in ("auto", "bce_with_logits"):
            problems.append(f"{path}.loss: a gan trains with bce_with_logits, got {self.loss!r}")
        if self.task in ("classification", "node_classification") and self.loss in ("mse", "l1"):
            problems.append(f"{path}.loss: {self.task} needs cross_entropy or bce_with_logits, got {self.loss!r}")
        if self.early_stopping.enabled and self.task == "gan":
            problems.append(f"{path}.early_stopping: a gan has no validation loss to watch")
        return problems


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
