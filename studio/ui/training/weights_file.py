"""File > Load Weights…: a weights file into the training panel, all or nothing.

The file is read as safetensors only (a pickle is refused, never unpickled)
and loaded into networks freshly compiled from the document, so every tensor
is checked against the graph before any of them is kept: the file's names,
shapes and kinds must all fit, else the message names the file and the
tensors that do not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QWidget

TRAINED_NAME = "model"  # what a supervised run calls its one network (studio.training.supervised)
WEIGHTS_FILTER = "Trained weights (*.safetensors);;Checkpoint training state (*.train.pt);;All files (*)"


class WeightsRefused(ValueError):
    """A weights file that cannot be used with the graph; the message names the file and why."""


def open_weights_name(parent: QWidget, directory: str = "") -> str:
    """The weights file a person picks ('' when cancelled)."""
    path, _ = QFileDialog.getOpenFileName(parent, "Load trained weights", directory, WEIGHTS_FILTER)
    return path


def read_weights(graph: Any, path: str | Path) -> dict[str, dict[str, Any]]:
    """The tensors of the weights file ``path`` as state dicts by network, checked against ``graph``.

    ``path`` is a ``.safetensors`` file (Save Trained Weights, ``studio import --weights``, a
    checkpoint's weights) or a checkpoint's ``.train.pt``, whose weights file beside it is read.
    Raises ``WeightsRefused`` naming the file: unreadable, not safetensors, or a tensor that does not
    fit the graph (missing, extra, another shape or kind)."""
    from studio.compile import compile_networks
    from studio.graph.errors import InvalidGraphError
    from studio.training import checkpoint

    p = Path(path)
    if p.name.endswith(".train.pt"):
        p = checkpoint.weights_path(p)  # a checkpoint's state names its weights beside it
    try:
        networks = compile_networks(graph)
    except InvalidGraphError as exc:
        first = exc.problems[0] if exc.problems else exc
        raise WeightsRefused(f"{p}: not loaded: the graph has {len(exc.problems)} problem(s) to fix first "
                             f"({first})") from None
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise WeightsRefused(f"{p}: no such file") from None
    except IsADirectoryError:
        raise WeightsRefused(f"{p}: a folder, not a weights file") from None
    except OSError as exc:
        raise WeightsRefused(f"{p}: cannot be read ({exc.strerror or exc})") from None
    text = checkpoint.looks_like_text(data)
    if text is not None:
        raise WeightsRefused(f"{p}: a text file ({text!r}…), not trained weights: choose the .safetensors file "
                             "that Save Trained Weights… or a checkpoint wrote")
    try:
        tensors, _ = checkpoint.read_weights(p, data)
        checkpoint.load_flat_state(networks, tensors, str(p))
    except checkpoint.CheckpointError as exc:
        raise WeightsRefused(str(exc)) from None
    states = {name: {k: v.detach().to("cpu").clone() for k, v in net.state_dict().items()}
              for name, net in networks.items()}
    if len(states) == 1:
        # Named as a run names its one network, so the next Train starts from them (a GAN's two
        # networks keep their graph names, which its run uses too).
        return {TRAINED_NAME: next(iter(states.values()))}
    return states


def summary(weights: dict[str, dict[str, Any]]) -> str:
    """"12 tensors, 61,706 values" of a set of state dicts."""
    tensors = sum(len(state) for state in weights.values())
    values = sum(int(t.numel()) for state in weights.values() for t in state.values())
    nets = f" in {len(weights)} networks" if len(weights) > 1 else ""
    return f"{tensors} tensors, {values:,} values{nets}"
