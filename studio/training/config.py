"""The training configuration, as stored in a graph file under ``training``.

``TrainingConfig.from_dict(graph.training)`` reads and checks every value;
each problem names its key the way a person finds it in the file, e.g.
``training.optimizer.lr: must be > 0, got -1``. ``to_dict()`` writes it back
with every default filled in, so a saved file says exactly how it trained.

Every number setting has a limit (``limits()``, keyed like ``optimizer.lr``):
a graph file may come from anyone, and a value beyond what a run can use
(``lr: 1e300``, ``seed: 2**70``, a million threads) is refused here, by its
key, instead of failing deep inside torch. Forms take their ranges from it.
"""

from __future__ import annotations

import copy
import math
import os
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

PATH_MAX = 4096  # characters in checkpoint.path


class ConfigError(ValueError):
    """One or more bad values; ``problems`` lists them, each naming its key."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# ---- limits ------------------------------------------------------------------

@dataclass(frozen=True)
class Limit:
    """The values a number setting takes: ``low`` to ``high``; with ``low_open`` /
    ``high_open`` the bound itself is refused. ``whole``: a whole number.
    ``note``: why the bound is what it is, said when a value passes it."""

    low: float
    high: float
    whole: bool = False
    low_open: bool = False
    high_open: bool = False
    note: str = ""

    def allows(self, value: float) -> bool:
        # compared as given: a huge int is compared exactly, never turned into a float
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return bool(above and below)

    @property
    def low_text(self) -> str:
        return f"{'>' if self.low_open else '>='} {_num(self.low)}"

    @property
    def high_text(self) -> str:
        return f"{'<' if self.high_open else '<='} {_num(self.high)}"

    def refusal(self, value: float) -> str:
        """Why ``value`` is refused: the bound it passed (both bounds when it is too large)."""
        low_ok = value > self.low if self.low_open else value >= self.low
        if not low_ok:
            return f"must be {self.low_text}, got {_num(value)}"
        note = f" ({self.note})" if self.note else ""
        return f"must be {self.low_text} and {self.high_text}{note}, got {_num(value)}"


# Generous for any run a desktop trains, small enough that no count overflows a C integer
# on the way into torch (epochs x steps, seed x 1,000,003 + epoch) and a form's spin box holds it.
MANY = 1_000_000
SEED_MAX = 2**31 - 1  # torch takes 64-bit seeds; 31 bits keep every derived seed and every form in range
LR_MAX = 10.0
MAX_THREADS = 1024


def cores() -> int:
    """CPU cores of this machine (the most threads a run may ask for)."""
    return os.cpu_count() or 1


def limits() -> dict[str, Limit]:
    """Every number setting's limit, keyed by its place under ``training`` (``optimizer.lr``,
    ``epochs``; ``optimizer.betas`` holds for each of the two). ``threads`` follows this machine."""
    whole = lambda low, high=MANY, **kw: Limit(low, high, whole=True, **kw)  # noqa: E731
    n = cores()
    return {
        "optimizer.lr": Limit(0, LR_MAX, low_open=True),
        "optimizer.momentum": Limit(0, 1, high_open=True),
        "optimizer.betas": Limit(0, 1, high_open=True),
        "optimizer.eps": Limit(0, 1, low_open=True),
        "optimizer.alpha": Limit(0, 1, high_open=True),
        "schedule.step_size": whole(1),
        "schedule.gamma": Limit(0, 100, low_open=True),
        "schedule.min_lr": Limit(0, LR_MAX),
        "schedule.warmup_epochs": Limit(0, MANY),
        "schedule.max_lr": Limit(0, LR_MAX, low_open=True),
        "schedule.pct_start": Limit(0, 1, low_open=True, high_open=True),
        "schedule.div_factor": Limit(1, 1e6),
        "schedule.final_div_factor": Limit(1, 1e9),
        "batch_size": whole(1),
        "epochs": whole(1),
        "weight_decay": Limit(0, 10),
        "l1": Limit(0, 10),
        "grad_clip": Limit(0, 1e6, low_open=True),
        "early_stopping.patience": whole(1),
        "early_stopping.min_delta": Limit(0, 1e6),
        "seed": whole(0, SEED_MAX),
        "probes.every": whole(1),
        "probes.budget": Limit(0, 1, low_open=True),
        "probes.batch": whole(1, 65536),
        "probes.bins": whole(2, 1000),
        "probes.grid": whole(2, 512),
        "report_every": whole(1),
        # A file made on a big machine still trains on a small one: a run takes at most the cores
        # it may use (device.cpu_threads); the bound only keeps a crafted number from the thread library.
        "threads": whole(1, MAX_THREADS, note=f"a run takes at most this machine's {n} core{'s' if n != 1 else ''}"),
        "gan.latent_size": whole(1),
        "gan.d_steps": whole(1, 1000),
        "gan.g_steps": whole(1, 1000),
        "checkpoint.every": whole(1),
    }


# ---- reading helpers ---------------------------------------------------------

class _Reader:
    """Collects every problem instead of stopping at the first."""

    def __init__(self, root: str) -> None:
        self.problems: list[str] = []
        self.root = root
        self.limits = limits()

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def limit(self, where: str) -> Limit:
        return self.limits[where[len(self.root) + 1:]]

    def section(self, value: Any, path: str, known: tuple[str, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, f"must be an object, got {_show(value)}")
            return {}
        for key in value:
            if key not in known:
                self.fail(f"{path}.{_key(key)}", f"unknown key (known: {', '.join(known)})")
        return dict(value)

    def number(self, d, key, path, default, *, optional=False):
        value = d.get(key, default)
        where = f"{path}.{key}"
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(where, f"must be a number, got {_show(value)}")
            return default
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(where, f"must be a finite number, got {value}")
            return default
        if not self._within(where, value):
            return default
        return float(value)

    def integer(self, d, key, path, default, *, optional=False):
        value = d.get(key, default)
        where = f"{path}.{key}"
        if value is None and optional:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"must be a whole number, got {_show(value)}")
            return default
        if not self._within(where, value):
            return default
        return int(value)

    def boolean(self, d, key, path, default):
        value = d.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{path}.{key}", f"must be true or false, got {_show(value)}")
            return default
        return value

    def choice(self, d, key, path, default, choices):
        value = d.get(key, default)
        if not isinstance(value, str) or value not in choices:
            self.fail(f"{path}.{key}", f"must be one of {', '.join(choices)}, got {_show(value)}")
            return default
        return value

    def text(self, d, key, path, default):
        value = d.get(key, default)
        if value is not None and not (isinstance(value, str) and value):
            self.fail(f"{path}.{key}", f"must be a name, got {_show(value)}")
            return default
        return value

    def file_path(self, d, key, path, default):
        """A path as the file writes it: text the file system can take (no NUL, no lone
        surrogate, not absurdly long). Where it may point is the trainer's question."""
        value = d.get(key, default)
        where = f"{path}.{key}"
        if value is None:
            return None
        if not (isinstance(value, str) and value):
            self.fail(where, f"must be a path, got {_show(value)}")
            return default
        if len(value) > PATH_MAX:
            self.fail(where, f"must be a path of at most {PATH_MAX} characters, got {len(value)}")
            return default
        try:
            os.fsencode(value)
        except UnicodeError:
            self.fail(where, f"must be a path this system can write, got {_show(value)} (a character it cannot encode)")
            return default
        if "\x00" in value:
            self.fail(where, f"must be a path without a NUL character, got {_show(value)}")
            return default
        return value

    def _within(self, where: str, value: float) -> bool:
        lim = self.limit(where)
        if lim.allows(value):
            return True
        self.fail(where, lim.refusal(value))
        return False


def _show(value: Any) -> str:
    if isinstance(value, str):
        shown = repr(value)
        return shown if len(shown) <= 60 else shown[:57] + "...'"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return _num(value) if isinstance(value, (int, float)) else type(value).__name__


def _key(key: Any) -> str:
    text = key if isinstance(key, str) else repr(key)
    return text if len(text) <= 40 else text[:37] + "..."


def _num(x: float) -> str:
    if isinstance(x, int):
        if x.bit_length() <= 256:
            return str(x)
        digits = int(x.bit_length() * math.log10(2)) + 1  # str() of a huge int is slow or refused
        return f"{'-' if x < 0 else ''}a number of about {digits} digits"
    if math.isfinite(x) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


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
            lr=r.number(d, "lr", path, 1e-3),
            momentum=r.number(d, "momentum", path, 0.0),
            nesterov=r.boolean(d, "nesterov", path, False),
            eps=r.number(d, "eps", path, 1e-8),
            alpha=r.number(d, "alpha", path, 0.99),
        )
        betas = d.get("betas", (0.9, 0.999))
        if (not isinstance(betas, (list, tuple)) or len(betas) != 2
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in betas)):
            r.fail(f"{path}.betas", f"must be two numbers like [0.9, 0.999], got {_show(betas)}")
        else:
            lim = r.limit(f"{path}.betas")
            bad = [i for i, b in enumerate(betas) if not lim.allows(b)]
            for i in bad:  # both bounds said: a beta of 1.5 is as wrong as one of -1
                r.fail(f"{path}.betas[{i}]", f"must be {lim.low_text} and {lim.high_text}, got {_num(betas[i])}")
            if not bad:
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
            step_size=r.integer(d, "step_size", path, 10),
            gamma=r.number(d, "gamma", path, None, optional=True),
            min_lr=r.number(d, "min_lr", path, 0.0),
            warmup_epochs=r.number(d, "warmup_epochs", path, 1.0),
            max_lr=r.number(d, "max_lr", path, None, optional=True),
            pct_start=r.number(d, "pct_start", path, 0.3),
            div_factor=r.number(d, "div_factor", path, 25.0),
            final_div_factor=r.number(d, "final_div_factor", path, 1e4),
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
            patience=r.integer(d, "patience", path, 5),
            min_delta=r.number(d, "min_delta", path, 0.0),
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
            every=r.integer(d, "every", path, 50),
            budget=r.number(d, "budget", path, 0.02),
            activations=r.boolean(d, "activations", path, True),
            gradients=r.boolean(d, "gradients", path, True),
            boundary=r.boolean(d, "boundary", path, True),
            samples=r.boolean(d, "samples", path, True),
            batch=r.integer(d, "batch", path, 256),
            bins=r.integer(d, "bins", path, 30),
            grid=r.integer(d, "grid", path, 64),
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
            latent_size=r.integer(d, "latent_size", path, None, optional=True),
            d_steps=r.integer(d, "d_steps", path, 1),
            g_steps=r.integer(d, "g_steps", path, 1),
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
            every=r.integer(d, "every", path, 1),
            path=r.file_path(d, "path", path, None),
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
        r = _Reader(path)
        d = r.section({} if data is None else data, path, _keys(cls))
        p = path
        cfg = cls(
            task=r.choice(d, "task", p, "auto", TASKS),
            loss=r.choice(d, "loss", p, "auto", LOSSES),
            optimizer=OptimizerConfig._read(r, d.get("optimizer"), f"{p}.optimizer"),
            schedule=ScheduleConfig._read(r, d.get("schedule"), f"{p}.schedule"),
            batch_size=r.integer(d, "batch_size", p, 32),
            epochs=r.integer(d, "epochs", p, 10),
            weight_decay=r.number(d, "weight_decay", p, 0.0),
            l1=r.number(d, "l1", p, 0.0),
            grad_clip=r.number(d, "grad_clip", p, None, optional=True),
            early_stopping=EarlyStoppingConfig._read(r, d.get("early_stopping"), f"{p}.early_stopping"),
            seed=r.integer(d, "seed", p, 0),
            device=r.choice(d, "device", p, "auto", DEVICES),
            precision=r.choice(d, "precision", p, "fp32", PRECISIONS),
            probes=ProbesConfig._read(r, d.get("probes"), f"{p}.probes"),
            report_every=r.integer(d, "report_every", p, 10),
            threads=r.integer(d, "threads", p, None, optional=True),
            gan=GanConfig._read(r, d.get("gan"), f"{p}.gan"),
            checkpoint=CheckpointConfig._read(r, d.get("checkpoint"), f"{p}.checkpoint"),
        )
        dataset = d.get("dataset")
        if dataset is not None and not isinstance(dataset, Mapping):
            r.fail(f"{p}.dataset", f"must be an object, got {_show(dataset)}")
        elif dataset is not None:
            try:
                cfg.dataset = copy.deepcopy(dict(dataset))
            except RecursionError:
                r.fail(f"{p}.dataset", "is nested too deeply")
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
