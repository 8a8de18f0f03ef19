"""Train a graph file headless, with the training configuration it carries.

``studio train FILE [--epochs N] [--device auto|cpu|cuda|mps] [--seed S] [--json]
[--resume CHECKPOINT] [--checkpoint PATH] [--weights W] [--allow-outside PATH ...]``

The file's ``training`` section (optimizer, schedule, data set...) is used as
it is; the flags override its ``epochs``, ``device`` and ``seed``. Probes are
off: they feed the app's live views, and a terminal shows none of them. On a
terminal a progress bar follows each epoch and one line sums it up; with
``--json`` each epoch is one JSON object on its own line, and a last line
repeats the best epoch with ``"best": true``.

A graph file reaches only its own folder: a data set or ``checkpoint.path``
outside it is refused unless ``--allow-outside`` grants that place. Paths
given as flags (``--resume``, ``--checkpoint``, ``--weights``) are the user's
own and may point anywhere. ``--weights W`` starts from the weights in W (a
``.safetensors`` file: a run's, or what ``studio import --weights`` wrote),
refused naming the file and the first tensors that do not fit the graph.

Exit status: 0 the run finished, 1 the graph, configuration or data were
refused or training failed (the message on stderr names the place), 2 the
file cannot be read or the arguments are wrong, 130 stopped by Ctrl+C (after
the current step; the summary is still printed).
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, TextIO

PROG = "studio train"
EXIT_OK, EXIT_REFUSED, EXIT_UNREADABLE, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="graph file (.json) with a training section")
    parser.add_argument("--epochs", type=_positive_int, help="number of epochs (overrides the file)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"),
                        help="where to train (overrides the file; auto: CUDA, then MPS, then CPU)")
    parser.add_argument("--seed", type=_seed, help="random seed (overrides the file)")
    parser.add_argument("--json", action="store_true", help="one JSON object per epoch, then the best epoch")
    parser.add_argument("--resume", metavar="CHECKPOINT",
                        help="continue the run saved in CHECKPOINT (its .safetensors or .train.pt file)")
    parser.add_argument("--checkpoint", metavar="PATH",
                        help="save checkpoints to PATH (.safetensors and .train.pt), every checkpoint.every "
                             "epochs and at the end (turns checkpoints on)")
    parser.add_argument("--weights", metavar="W",
                        help="start from these weights (a .safetensors file: a run's checkpoint, or what "
                             "studio import wrote) instead of freshly drawn ones")
    parser.add_argument("--allow-outside", metavar="PATH", action="append", default=[],
                        help="let the file's data set and checkpoint paths reach PATH (a file, or a folder "
                             "and everything in it) outside the file's folder; repeat for more")


def _whole(key: str):
    """An argparse type for a flag that overrides the whole-number setting ``key``, within its limit."""
    def parse(text: str) -> int:
        from studio.training.config import limits

        lim = limits()[key]
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text[:40]!r}") from None
        if value < lim.low:
            raise argparse.ArgumentTypeError(f"must be {'at least 1' if lim.low == 1 else '0 or more'}, got {value}")
        if value > lim.high:
            raise argparse.ArgumentTypeError(f"must be at most {int(lim.high)}, got {value}")
        return value

    return parse


_positive_int = _whole("epochs")
_seed = _whole("seed")


class Refused(Exception):
    """The run cannot start; ``code`` is the exit status, the text says where."""

    def __init__(self, message: str, code: int = EXIT_REFUSED):
        super().__init__(message)
        self.code = code


def run(args: argparse.Namespace) -> int:
    from studio.graph.text import terminal_lines

    out = sys.stdout
    try:
        trainer = prepare(args)
    except Refused as exc:
        print(f"{PROG}: {terminal_lines(str(exc))}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:  # before the first step there is nothing to sum up
        print(f"\n{PROG}: interrupted before training started", file=sys.stderr)
        return EXIT_INTERRUPTED
    reporter = (JsonReporter if args.json else TextReporter)(out, trainer.config.epochs)
    trainer.callback = reporter
    try:
        with _stop_on_interrupt(trainer.stop) as interrupted:
            result = trainer.run()
    except KeyboardInterrupt:  # the second Ctrl+C: abort without waiting for the step
        print(f"\n{PROG}: aborted", file=sys.stderr)
        return EXIT_INTERRUPTED
    reporter.finish(result)
    if result.status == "failed":
        print(f"{PROG}: {terminal_lines(f'{args.file}: training failed: {result.message}')}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_INTERRUPTED if interrupted() else EXIT_OK


# ---- before training ------------------------------------------------------------

def prepare(args: argparse.Namespace):
    """The graph file, its configuration with the flags applied, and its data
    set, each checked; returns a ``Trainer`` ready to run or raises ``Refused``."""
    from studio.files import GraphFileError, load

    path = Path(args.file)
    try:
        graph = load(path)
    except GraphFileError as exc:
        raise Refused(str(exc), EXIT_UNREADABLE) from None

    from studio.training import ConfigError, Trainer, TrainingConfig, TrainingSetupError
    from studio.training.preflight import checked

    training = dict(graph.training or {})
    for key in ("epochs", "device", "seed"):
        value = getattr(args, key)
        if value is not None:
            training[key] = value
    checkpoint_to = getattr(args, "checkpoint", None)
    if checkpoint_to is not None:
        section = training.get("checkpoint")
        training["checkpoint"] = {**(section if isinstance(section, dict) else {}), "enabled": True}
    try:
        config = TrainingConfig.from_dict(training)
    except ConfigError as exc:
        raise Refused(_lines(path, exc.problems)) from None
    # probes feed the app's live views; a run in a terminal shows none of them
    config = replace(config, probes=replace(config.probes, enabled=False))

    from studio.files.reach import Reach

    resume = getattr(args, "resume", None)
    if resume is not None and getattr(args, "weights", None) is not None:
        raise Refused("--weights and --resume both give the starting weights; choose one", EXIT_UNREADABLE)
    reach = Reach.of(path.parent, getattr(args, "allow_outside", None) or ())
    try:
        # the settings, the graph, the checkpoint's place; then the data set is loaded and fitted
        found = checked(graph, reach, config=config, checkpoint_chosen=checkpoint_to is not None)
        # CPU threads: the file's ``threads``, else the Trainer's default of every core but
        # one; more threads than free cores make small networks many times slower
        trainer = Trainer(graph, checked=found, graph_path=path,
                          checkpoint_path=Path(checkpoint_to).absolute() if checkpoint_to is not None else None,
                          resume_from=Path(resume).absolute() if resume is not None else None)
        trainer.prepare()  # compiles, and resumes where asked: nothing is checked again
        start_from(trainer, getattr(args, "weights", None))
    except TrainingSetupError as exc:
        raise Refused(_lines(path, [str(p) for p in exc.problems], _headline(exc))) from None
    except (ValueError, RuntimeError) as exc:  # a missing device, an unreadable checkpoint
        raise Refused(f"{path}: {exc}") from None
    return trainer


def start_from(trainer, weights: str | None) -> None:
    """The trainer's networks take the weights of ``weights``; refused naming the file and the
    first tensors that do not fit."""
    if weights is None:
        return
    from studio.training.checkpoint import CheckpointError, load_weights

    try:
        load_weights(weights, trainer.networks)
    except CheckpointError as exc:
        raise Refused(f"--weights {exc}") from None
    kept = getattr(trainer, "_kept", None)
    if kept is not None:  # a first epoch that fails falls back on these weights, not the ones drawn
        kept.epoch_done(0, keep_as_best=False)


def _headline(exc) -> str:
    text = str(exc)
    return text.split(":\n", 1)[0] if ":\n" in text else "cannot train"


def _lines(path: Path, problems: list[str], headline: str | None = None) -> str:
    if headline is None and len(problems) == 1:
        return f"{path}: {problems[0]}"
    head = f"{path}: {headline or 'the training configuration has problems'}:"
    return "\n".join([head, *(f"  {p}" for p in problems)])


class _stop_on_interrupt:
    """Ctrl+C asks the trainer to stop after the current step; a second Ctrl+C
    interrupts at once. The previous handler comes back afterwards."""

    def __init__(self, stop: Callable[[], None]):
        self._stop = stop
        self._hit = False
        self._previous: Any = None

    def __enter__(self) -> Callable[[], bool]:
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: nobody can press Ctrl+C for us
            self._previous = None
        return lambda: self._hit

    def _handle(self, signum, frame) -> None:
        if self._hit:
            raise KeyboardInterrupt
        self._hit = True
        print(f"\n{PROG}: stopping after this step (Ctrl+C again to abort)", file=sys.stderr, flush=True)
        self._stop()

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


# ---- reporting --------------------------------------------------------------------

def epoch_record(event) -> dict[str, Any]:
    """One epoch as the JSON line carries it (accuracies only where they apply)."""
    return {k: _clean(v) for k, v in event.to_json().items()}


def _clean(value: Any) -> Any:
    # JSON has no NaN or infinity; a diverged loss reads as null
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class JsonReporter:
    """One JSON object per epoch, then the best epoch with ``"best": true``."""

    def __init__(self, out: TextIO, epochs: int):
        self.out = out

    def __call__(self, event) -> None:
        from studio.training.events import EpochEvent

        if isinstance(event, EpochEvent):
            self._write(epoch_record(event))

    def finish(self, result) -> None:
        best = result.best
        line = epoch_record(best) if best is not None else {"epoch": 0}
        line.update({"best": True, "status": result.status, "epochs_run": result.epochs})
        self._write(line)

    def _write(self, record: dict[str, Any]) -> None:
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()


class TextReporter:
    """A progress bar per epoch (redrawn with \\r on a terminal) and a line per epoch."""

    BAR = 24

    def __init__(self, out: TextIO, epochs: int):
        self.out = out
        self.epochs = epochs
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.width = len(str(epochs))
        self.started = time.perf_counter()
        self._last_draw = 0.0

    def __call__(self, event) -> None:
        from studio.training.events import EpochEvent, StepsEvent

        if isinstance(event, StepsEvent):
            if self.tty:
                self._progress(event)
        elif isinstance(event, EpochEvent):
            self._line(summary_line(event, self.epochs, self.width))

    def _progress(self, event) -> None:
        now = time.perf_counter()
        per_epoch = max(event.steps_per_epoch, 1)
        done = event.first_step + len(event.losses) - (event.epoch - 1) * per_epoch
        if now - self._last_draw < 0.1 and done < per_epoch:
            return  # a terminal needs no more than ten frames a second
        self._last_draw = now
        done = min(max(done, 0), per_epoch)
        filled = round(self.BAR * done / per_epoch)
        loss = event.losses[-1] if event.losses else float("nan")
        self.out.write(f"\repoch {event.epoch:>{self.width}}/{self.epochs} "
                       f"[{'#' * filled}{'.' * (self.BAR - filled)}] {done}/{per_epoch}  loss {loss:.4f}\x1b[K")
        self.out.flush()

    def _line(self, text: str) -> None:
        if self.tty:
            text = "\r" + text + "\x1b[K"
        self.out.write(text + "\n")
        self.out.flush()

    def finish(self, result) -> None:
        elapsed = time.perf_counter() - self.started
        what = {"finished": "finished", "stopped": "stopped", "early_stopped": "stopped early",
                "failed": "failed"}.get(result.status, result.status)
        self._line(f"{what} after {result.epochs} epoch(s) in {elapsed:.1f} s")
        if result.best is not None:
            self._line("best " + summary_line(result.best, self.epochs, self.width))


def summary_line(event, epochs: int, width: int) -> str:
    parts = [f"epoch {event.epoch:>{width}}/{epochs}", f"train_loss {event.train_loss:.4f}"]
    if event.val_loss is not None:
        parts.append(f"val_loss {event.val_loss:.4f}")
    if event.train_acc is not None:
        parts.append(f"train_acc {event.train_acc:.3f}")
    if event.val_acc is not None:
        parts.append(f"val_acc {event.val_acc:.3f}")
    for key, value in event.extra.items():  # e.g. a GAN's generator_loss and modes_covered
        parts.append(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}")
    parts.append(f"lr {event.lr:.2e}")
    parts.append(f"{event.seconds:.2f} s")
    parts.append(f"{event.samples_per_s:,.0f} samples/s")
    return "  ".join(parts)
