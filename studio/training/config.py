"""The training configuration, as stored in a graph file under ``training``.

``TrainingConfig.from_dict(graph.training)`` reads and checks every value;
each problem names its key the way a person finds it in the file, e.g.
``training.optimizer.lr: must be > 0, got -1``. ``to_dict()`` writes it back
with every default filled in, so a saved file says exactly how it trained.

Each setting is declared once, below, as a dataclass field: its type, default,
label, help and bounds or choices (``settings_fields``). The reader
(``settings_reader``), the settings form and the table in docs/training.md are
all built from these declarations.

Every number setting has a limit (``limits()``, keyed like ``optimizer.lr``):
a graph file may come from anyone, and a value beyond what a run can use
(``lr: 1e300``, ``seed: 2**70``, a million threads) is refused here, by its
key, instead of failing deep inside torch. Forms take their ranges from it.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any, Mapping

from .settings_fields import Limit, section, setting, walk
from .settings_reader import PATH_MAX, read

TASKS = ("auto", "classification", "regression", "sequence", "node_classification", "gan")
LOSSES = ("auto", "cross_entropy", "bce_with_logits", "mse", "l1")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "perceptron")
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

# Generous for any run a desktop trains, small enough that no count overflows a C integer
# on the way into torch (epochs x steps, seed x 1,000,003 + epoch) and a form's spin box holds it.
MANY = 1_000_000
SEED_MAX = 2**31 - 1  # torch takes 64-bit seeds; 31 bits keep every derived seed and every form in range
LR_MAX = 10.0
MAX_THREADS = 1024


def cores() -> int:
    """CPU cores of this machine (the most threads a run may ask for)."""
    return os.cpu_count() or 1


def _cores_note() -> str:
    n = cores()
    return f"a run takes at most this machine's {n} core{'s' if n != 1 else ''}"


class ConfigError(ValueError):
    """One or more bad values; ``problems`` lists them, each naming its key."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# ---- sections ----------------------------------------------------------------

ADAM_LIKE = ("adam", "adamw")


@dataclass
class OptimizerConfig:
    """``name``: sgd (with ``momentum``, ``nesterov``), adam and adamw (``betas``,
    ``eps``), rmsprop (``alpha``, ``momentum``, ``eps``); perceptron is Rosenblatt's
    rule, w <- w + lr (y - y_hat) x sample by sample, for one Linear with one output
    on two classes (it reports the share misclassified as its loss)."""

    name: str = setting("adam", "Optimizer", "How the weights move along the gradient (perceptron: Rosenblatt's "
                        "rule for one Linear with one output, no gradient).", choices=OPTIMIZERS)
    lr: float = setting(1e-3, "Learning rate", "Step size of each update, e.g. 0.01.",
                        low=0, high=LR_MAX, low_open=True)
    momentum: float = setting(0.0, "Momentum", "Share of the last step kept.",
                              low=0, high=1, high_open=True, when=("name", ("sgd", "rmsprop")))
    nesterov: bool = setting(False, "Nesterov", "Look ahead along the momentum (needs momentum > 0).",
                             when=("name", ("sgd",)))
    betas: tuple[float, float] = setting((0.9, 0.999), "Betas", "How slowly the running averages of the gradient "
                                         "and of its square forget (each of the two).",
                                         low=0, high=1, high_open=True, when=("name", ADAM_LIKE))
    eps: float = setting(1e-8, "Epsilon", "Added to the divisor so a tiny gradient cannot blow up a step.",
                         low=0, high=1, low_open=True, when=("name", (*ADAM_LIKE, "rmsprop")))
    alpha: float = setting(0.99, "Alpha", "How slowly the running average of the squared gradient forgets.",
                           low=0, high=1, high_open=True, when=("name", ("rmsprop",)))

    def _cross_checks(self, path: str) -> list[str]:
        if self.nesterov and (self.name != "sgd" or self.momentum <= 0):
            return [f"{path}.nesterov: needs name sgd with momentum > 0"]
        return []


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

    name: str = setting("constant", "LR schedule", "How the learning rate changes over the run.",
                        choices=SCHEDULES)
    step_size: int = setting(10, "Step every (epochs)", "Epochs between two multiplications by gamma.",
                             low=1, high=MANY, when=("name", ("step",)))
    gamma: float | None = setting(None, "Gamma", "Factor per step (none: 0.1 for step, 0.95 for exponential).",
                                  low=0, high=100, low_open=True, when=("name", ("step", "exponential")))
    min_lr: float = setting(0.0, "Lowest lr", "The learning rate at the end of the run.",
                            low=0, high=LR_MAX, when=("name", ("cosine", "warmup_cosine")))
    warmup_epochs: float = setting(1.0, "Warm-up (epochs)", "Epochs of the linear rise from 0.",
                                   low=0, high=MANY, when=("name", ("warmup_cosine",)))
    max_lr: float | None = setting(None, "Peak lr", "The highest lr (none: the optimizer's lr).",
                                   low=0, high=LR_MAX, low_open=True, when=("name", ("one_cycle",)))
    pct_start: float = setting(0.3, "Rising share", "Share of the run spent rising to the peak.",
                               low=0, high=1, low_open=True, high_open=True, when=("name", ("one_cycle",)))
    div_factor: float = setting(25.0, "Start divisor", "The run starts at the peak lr divided by this.",
                                low=1, high=1e6, when=("name", ("one_cycle",)))
    final_div_factor: float = setting(1e4, "End divisor", "The run ends at the start lr divided by this.",
                                      low=1, high=1e9, when=("name", ("one_cycle",)))

    @property
    def gamma_value(self) -> float:
        if self.gamma is not None:
            return self.gamma
        return 0.95 if self.name == "exponential" else 0.1


@dataclass
class EarlyStoppingConfig:
    """Stop when the validation loss has not improved by ``min_delta`` for
    ``patience`` epochs; ``restore_best`` puts back the best epoch's weights."""

    enabled: bool = setting(False, "Early stopping", "Stop when the validation loss stops improving.")
    patience: int = setting(5, "Patience (epochs)", "Epochs without improvement before the run stops.",
                            low=1, high=MANY, when=("enabled", (True,)))
    min_delta: float = setting(0.0, "Smallest improvement", "A fall of the validation loss smaller than this "
                               "is no improvement.", low=0, high=1e6, when=("enabled", (True,)))
    restore_best: bool = setting(True, "Restore best weights", "At the stop, put back the best epoch's weights.",
                                 when=("enabled", (True,)))


@dataclass
class ProbesConfig:
    """Sampled views of the network. A whole probe comes at least every 0.4 s of a
    run and after its last step; ``budget`` (a share of the training time, measured
    as probes run) picks how detailed each is, from ``grid`` and ``batch`` down to
    a 16x16 grid and 32 samples, never whether it comes. Every ``every`` steps a
    further probe at full detail comes when the budget affords it, else the
    gradient norms alone."""

    enabled: bool = setting(True, "Probes", "Sampled views of the network while it trains "
                            '("probes": false is short for off).')
    every: int = setting(50, "Probe every (steps)", "Steps between further full-detail probes.",
                         low=1, high=MANY, when=("enabled", (True,)))
    budget: float = setting(0.02, "Probe budget", "Share of the training time the probes may take; a smaller "
                            "budget makes them coarser, never absent.", low=0, high=1, low_open=True,
                            when=("enabled", (True,)))
    activations: bool = setting(True, "Activations", "Probe each layer's activation statistics.",
                                when=("enabled", (True,)))
    gradients: bool = setting(True, "Gradients", "Probe each layer's gradient norm.", when=("enabled", (True,)))
    boundary: bool = setting(True, "Decision boundary", "Probe the decision boundary over a grid (2-D inputs).",
                             when=("enabled", (True,)))
    samples: bool = setting(True, "Samples", "Show a sequence's prediction beside its truth, a GAN's points "
                            "beside real ones.", when=("enabled", (True,)))
    batch: int = setting(256, "Probe batch", "Samples the activation probe runs on.",
                         low=1, high=65536, when=("enabled", (True,)))
    bins: int = setting(30, "Histogram bins", "Bins of each activation histogram.",
                        low=2, high=1000, when=("enabled", (True,)))
    grid: int = setting(64, "Boundary grid", "The decision-boundary grid is grid x grid points.",
                        low=2, high=512, when=("enabled", (True,)))


@dataclass
class GanConfig:
    """Which network (as ``compile_networks`` names them) generates and which
    discriminates; ``latent_size`` null means the generator's input size.
    Each round trains the discriminator ``d_steps`` times, then the generator
    ``g_steps`` times."""

    generator: str | None = setting(None, "Generator", "The network that generates (none: the one that does not "
                                    "take a real sample).")
    discriminator: str | None = setting(None, "Discriminator", "The network that judges (none: the one that takes a "
                                        "real sample).")
    latent_size: int | None = setting(None, "Latent size", "Size of the generator's random input (none: its "
                                      "input size).", low=1, high=MANY)
    d_steps: int = setting(1, "Discriminator steps", "Discriminator updates in each round.", low=1, high=1000)
    g_steps: int = setting(1, "Generator steps", "Generator updates in each round, after the discriminator's.",
                           low=1, high=1000)


@dataclass
class CheckpointConfig:
    """Save weights (safetensors) and the optimizer state every ``every`` epochs
    and at the end. ``path`` null means beside the graph file."""

    enabled: bool = setting(False, "Save checkpoints", "Weights and optimizer state beside the graph file, every "
                            "few epochs and at the end (studio export --weights and studio train read them).")
    every: int = setting(1, "Checkpoint every (epochs)", "Epochs between two saves (the end is always saved).",
                         low=1, high=MANY, when=("enabled", (True,)))
    path: str | None = setting(None, "Checkpoint path", "Where to save, inside the graph's folder (none: beside "
                               f"the graph file, named after it); at most {PATH_MAX:,} characters.", path=True,
                               when=("enabled", (True,)))


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

    task: str = setting("auto", "Task", "What the network learns to do (auto: the data set's task).", choices=TASKS)
    loss: str = setting("auto", "Loss", "auto: cross entropy for classes, mean squared error for values.",
                        choices=LOSSES)
    optimizer: OptimizerConfig = section(OptimizerConfig, "Optimizer", "How the weights are updated.")
    schedule: ScheduleConfig = section(ScheduleConfig, "LR schedule", "How the learning rate moves over the run.")
    batch_size: int = setting(32, "Batch size", "Samples per step.", low=1, high=MANY)
    epochs: int = setting(10, "Epochs", "Passes over the training data.", low=1, high=MANY)
    weight_decay: float = setting(0.0, "Weight decay (L2)", "Pulls weights towards 0 to fight overfitting "
                                  "(decoupled for adamw).", low=0, high=10)
    l1: float = setting(0.0, "L1", "Adds l1 × Σ|w|: drives weights to exactly 0.", low=0, high=10)
    grad_clip: float | None = setting(None, "Clip gradient norm", "Caps the gradients' total norm (none: off).",
                                      low=0, high=1e6, low_open=True)
    early_stopping: EarlyStoppingConfig = section(EarlyStoppingConfig, "Early stopping",
                                                  "Stop when the validation loss stops improving.")
    seed: int = setting(0, "Seed", "Same seed, same run: weights and batches repeat exactly.", low=0, high=SEED_MAX)
    device: str = setting("auto", "Device", "auto picks CUDA, then MPS (Apple), then the CPU.", choices=DEVICES)
    precision: str = setting("fp32", "Precision", "bf16/fp16: faster on CUDA GPUs only.", choices=PRECISIONS)
    probes: ProbesConfig = section(ProbesConfig, "Probes", "Sampled views of the network while it trains.",
                                   shorthand="enabled")
    report_every: int = setting(10, "Report every (steps)", "Steps between loss read-backs (one transfer each).",
                                low=1, high=MANY)
    # A file made on a big machine still trains on a small one: a run takes at most the cores
    # it may use (device.cpu_threads); the bound only keeps a crafted number from the thread library.
    threads: int | None = setting(None, "CPU threads", "Threads a run on the CPU uses; a run takes at most the "
                                  "cores it may use (none: every core but one).", low=1, high=MAX_THREADS,
                                  note=_cores_note())
    dataset: dict[str, Any] | None = setting(None, "Data set", "The data set to train on (see data.md).")
    gan: GanConfig = section(GanConfig, "GAN", "Which networks play generator and discriminator, and how often.")
    checkpoint: CheckpointConfig = section(CheckpointConfig, "Checkpoints", "Saving the run as it goes.")

    # ---- reading and writing ---------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, path: str = "training") -> "TrainingConfig":
        """Read a ``training`` dict (missing keys take defaults); raises
        ``ConfigError`` listing every bad value by its key."""
        cfg, problems = read(cls, {} if data is None else data, path)
        if problems:
            raise ConfigError(problems)
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
        if self.optimizer.name == "perceptron" and self.task not in ("auto", "classification"):
            problems.append(f"{path}.optimizer.name: the perceptron rule learns two classes, the task is {self.task}")
        if self.early_stopping.enabled and self.task == "gan":
            problems.append(f"{path}.early_stopping: a gan has no validation loss to watch")
        return problems


def limits() -> dict[str, Limit]:
    """Every number setting's limit, keyed by its place under ``training`` (``optimizer.lr``,
    ``epochs``; ``optimizer.betas`` holds for each of the two)."""
    return {key: spec.limit for key, spec in walk(TrainingConfig) if spec.limit is not None}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
