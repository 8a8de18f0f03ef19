"""Checkpoints beside the graph file: weights in safetensors, and the training
state (optimizer, epoch, step) in a ``weights_only`` torch file. Neither holds
code: the weights are never unpickled (a pickle in their place is refused),
and the state is read by torch's restricted loader, which builds tensors and
plain values only.

``model.safetensors`` holds the weights; ``model.train.pt`` beside it holds
what a resumed run needs. Keys of several networks are ``<network>.<name>``.

The two files are one unit. Both are written in full to temporary names
beside them, then renamed, the state first: the state records the SHA-256 of
the weights it belongs with, so once it is in place it is the save's commit
record. A save killed before that rename leaves the last pair whole; one
killed between the two renames leaves the new state beside the new weights'
temporary file, and loading finishes that save (renames the temporary file
whose digest the state names) before it resumes. Any other mix (one file
copied over from another save) is refused naming both files, never trained
on with the wrong optimizer. Temporary files a killed save left behind are
removed by the next save.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

FORMAT = "studio-training-state"
VERSION = 2  # 2: the state records the digest of its weights file
WEIGHTS_FORMAT = "studio-weights"
TEMP_SUFFIX = ".tmp"


class CheckpointError(RuntimeError):
    pass


def weights_path(path: str | os.PathLike) -> Path:
    """The weights file of a checkpoint named by either of its two files."""
    p = Path(path)
    if p.name.endswith(".train.pt"):
        return p.with_name(p.name[: -len(".train.pt")] + ".safetensors")
    return p if p.suffix == ".safetensors" else p.with_name(p.name + ".safetensors")


def state_path(path: str | os.PathLike) -> Path:
    w = weights_path(path)
    return w.with_name(w.name[: -len(".safetensors")] + ".train.pt")


def flat_state(networks: Mapping[str, nn.Module]) -> dict[str, torch.Tensor]:
    """Every network's state in one flat dict (prefixed when there are several)."""
    return flatten({name: net.state_dict() for name, net in networks.items()})


def flatten(states: Mapping[str, Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """State dicts by network in one flat dict (keys prefixed by network when there are several)."""
    single = len(states) == 1
    return {key if single else f"{name}.{key}": value
            for name, state in states.items() for key, value in state.items()}


def place_in(reach: Any, written: str, place: str = "training.checkpoint.path") -> Path:
    """The weights file a graph file's ``checkpoint.path`` names, resolved in the graph's
    ``reach`` (a ``studio.files.reach.Reach``): both files of the checkpoint must lie inside it,
    else ``OutsideFolder`` naming ``place`` and the folder they would go in (what to grant)."""
    from studio.files.reach import OutsideFolder

    full = reach.full(written)
    w = weights_path(full)
    if not (reach.allows(w) and reach.allows(state_path(w))):
        raise OutsideFolder(written, Path(os.path.realpath(w.parent)), reach.folder, place)
    return w


# ---- writing -------------------------------------------------------------------

def _weights_bytes(states: Mapping[str, Mapping[str, torch.Tensor]], metadata: dict[str, str]) -> bytes:
    from safetensors.torch import save

    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in flatten(states).items()}
    return save(tensors, metadata={"format": WEIGHTS_FORMAT, **metadata})


def save_weights(path: str | os.PathLike, states: Mapping[str, Mapping[str, torch.Tensor]]) -> Path:
    """The weights file of a checkpoint alone (what ``studio export --weights`` reads), written to a
    temporary name and renamed; returns its path."""
    w = weights_path(path)
    w.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_temp(w, _weights_bytes(states, {}))
    _commit(tmp, w)
    return w


@dataclass
class TrainingState:
    epoch: int  # epochs completed
    step: int  # steps completed
    optimizers: dict[str, Any]
    best: dict[str, Any] | None = None
    scaler: dict[str, Any] | None = None
    rng: dict[str, Any] | None = None  # random number generators' states
    weights_sha256: str | None = None  # of the weights file saved with this state


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: str | os.PathLike, networks: Mapping[str, nn.Module], state: TrainingState) -> Path:
    """Write both files as one unit; returns the weights path. Both are written in full to
    temporary names first, then renamed, the state first (the commit record): a save cut short
    leaves the last pair whole, or the new state beside the new weights' temporary file, which
    ``load`` renames into place."""
    w, s = weights_path(path), state_path(path)
    w.parent.mkdir(parents=True, exist_ok=True)
    data = _weights_bytes({name: net.state_dict() for name, net in networks.items()},
                          {"epoch": str(state.epoch), "step": str(state.step)})
    payload = {
        "format": FORMAT, "version": VERSION, "epoch": state.epoch, "step": state.step,
        "weights": {"file": w.name, "sha256": hashlib.sha256(data).hexdigest()},
        "optimizers": _to_cpu(state.optimizers), "best": state.best, "scaler": state.scaler,
        "rng": _to_cpu(state.rng),
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    w_tmp = _write_temp(w, data)
    try:
        s_tmp = _write_temp(s, buffer.getvalue())
    except BaseException:
        _unlink(w_tmp)
        raise
    try:
        _commit(s_tmp, s)
    except BaseException:
        _unlink(w_tmp)
        raise
    _commit(w_tmp, w)
    return w


def _temp_name(target: Path, pid: int) -> Path:
    return target.with_name(f".{target.name}.{pid}{TEMP_SUFFIX}")


def clear_stale_temps(target: Path) -> list[Path]:
    """Remove the temporary files a killed save of ``target`` left beside it: only names of our
    own making (``.<name>.<pid>.tmp`` of a process that is gone, and the older ``.<name>.tmp``);
    returns those removed."""
    head = f".{target.name}."
    removed = []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(head) and name.endswith(TEMP_SUFFIX)):
            continue
        middle = name[len(head): -len(TEMP_SUFFIX)]
        if middle and not (middle.isdigit() and (int(middle) == os.getpid() or not _alive(int(middle)))):
            continue  # not ours, or a save still running in another process
        if _unlink(target.parent / name):
            removed.append(target.parent / name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _write_temp(target: Path, data: bytes) -> Path:
    clear_stale_temps(target)
    tmp = _temp_name(target, os.getpid())
    # a fresh file only: never through a link or over a file someone placed under our name
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _commit(tmp: Path, target: Path) -> None:
    try:
        os.replace(tmp, target)
    except BaseException:
        _unlink(tmp)
        raise
    try:  # the rename itself survives a power cut
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _unlink(path: Path) -> bool:
    try:
        os.unlink(path)
        return True
    except OSError:
        return False


# ---- reading -------------------------------------------------------------------

def _read_file(path: Path, what: str) -> bytes:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such {what}") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise CheckpointError(f"{path}: not a regular file (a folder, pipe or device), so not a {what}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _pickle_kind(data: bytes) -> str | None:
    if data[8:9] == b"{":
        # safetensors: an 8-byte header length, then its JSON header. A length of 640 or 896 bytes
        # begins with the same two bytes as a pickle, so the JSON decides, not the first bytes.
        return None
    if data.startswith(b"PK\x03\x04"):
        return "a torch .pt archive (pickled)"
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a pickle"
    return None


def looks_like_text(data: bytes) -> str | None:
    """The first words of ``data`` when it is text (a graph's JSON, a CSV, a script picked by mistake),
    else None. A safetensors file starts with its header's length as 8 binary bytes; without this,
    text is read as a length of exabytes and called a truncated file."""
    head = data[:40]
    try:
        shown = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(head) < 9 or not all(c.isprintable() or c in "\t\r\n" for c in shown):
        return None
    return " ".join(shown.split())[:24]


def read_weights(path: Path, data: bytes) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and metadata of a safetensors file's ``data``; anything else (a pickle, a
    truncated file, junk) is refused, never unpickled."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    kind = _pickle_kind(data)
    if kind is not None:
        raise CheckpointError(f"{path}: holds {kind}, not safetensors; Studio never loads pickles, which can "
                              "run code. Save the weights as .safetensors")
    text = looks_like_text(data)
    if text is not None:
        raise CheckpointError(f"{path}: a text file ({text!r}…), not trained weights (a .safetensors file)")
    metadata = _header_metadata(path, data)
    try:
        tensors = load(data)
    except (SafetensorError, ValueError, TypeError, RuntimeError, OverflowError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from None
    return tensors, metadata


def _header_metadata(path: Path, data: bytes) -> dict[str, str]:
    if len(data) < 8:
        raise CheckpointError(f"{path}: not a safetensors file (only {len(data)} bytes)")
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        raise CheckpointError(f"{path}: not a complete safetensors file (its header claims {size} bytes, "
                              f"{len(data) - 8} follow; truncated?)")
    try:
        header = json.loads(data[8: 8 + size])
    except (ValueError, RecursionError):
        raise CheckpointError(f"{path}: not a safetensors file (its header is not JSON)") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return {k: v for k, v in meta.items() if isinstance(v, str)} if isinstance(meta, dict) else {}


def load_weights(path: str | os.PathLike, networks: Mapping[str, nn.Module]) -> None:
    """The weights file of a checkpoint into ``networks`` (the weights alone: ``studio export``)."""
    w = weights_path(path)
    tensors, _ = read_weights(w, _read_file(w, "weights file"))
    load_flat_state(networks, tensors, str(w))


def load_flat_state(networks: Mapping[str, nn.Module], flat: Mapping[str, torch.Tensor], where: str) -> None:
    """``flat`` into ``networks``, all or nothing: every tensor the graph needs, of its shape and
    kind, and none it has no place for, else ``CheckpointError`` naming them."""
    single = len(networks) == 1
    wanted: dict[str, tuple[nn.Module, str, torch.Tensor]] = {}
    for name, net in networks.items():
        prefix = "" if single else f"{name}."
        for key, value in net.state_dict().items():
            wanted[prefix + key] = (net, key, value)
    missing = sorted(set(wanted) - set(flat))
    if missing:
        raise CheckpointError(f"{where}: no weights for {_some(missing)} (was it saved from another graph?)")
    extra = sorted(set(flat) - set(wanted))
    if extra:
        raise CheckpointError(f"{where}: holds weights this graph has no place for: {_some(extra)} "
                              "(was it saved from another graph?)")
    wrong = []
    for key, (_, _, value) in wanted.items():
        own = flat[key]
        if tuple(own.shape) != tuple(value.shape):
            wrong.append(f"{key} has shape {list(own.shape)}, the graph needs {list(value.shape)}")
        elif _kind(own) != _kind(value):
            wrong.append(f"{key} holds {str(own.dtype).replace('torch.', '')} values, the graph needs "
                         f"{str(value.dtype).replace('torch.', '')}")
    if wrong:
        raise CheckpointError(f"{where}: " + "; ".join(wrong[:5]) + (f"; and {len(wrong) - 5} more"
                                                                     if len(wrong) > 5 else ""))
    by_net: dict[int, tuple[nn.Module, dict[str, torch.Tensor]]] = {}
    for key, (net, own_key, _) in wanted.items():
        by_net.setdefault(id(net), (net, {}))[1][own_key] = flat[key]
    for net, state in by_net.values():
        net.load_state_dict(state)


def _kind(t: torch.Tensor) -> str:
    if t.dtype == torch.bool:
        return "bool"
    if t.is_complex():
        return "complex"
    return "float" if t.is_floating_point() else "int"


def _some(names: list[str], n: int = 5) -> str:
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def load_state(path: str | os.PathLike) -> TrainingState:
    """The training state beside a checkpoint's weights, every key checked: a missing key or one
    of the wrong kind is a ``CheckpointError`` naming the file and the key."""
    s = state_path(path)
    if not s.exists():
        raise CheckpointError(f"{s}: no training state beside the weights (saved without the optimizer?)")
    data = _read_file(s, "training state")
    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable or unsafe content is refused the same way
        raise CheckpointError(f"{s}: not a readable training state ({_first_line(exc)})") from None
    return _check_state(s, payload)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _check_state(s: Path, payload: Any) -> TrainingState:
    def bad(key: str, needs: str, value: Any = None, present: bool = True) -> CheckpointError:
        if not present:
            return CheckpointError(f"{s}: {key}: missing (must be {needs})")
        return CheckpointError(f"{s}: {key}: must be {needs}, got {_what(value)}")

    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{s}: not a studio training state")
    version = payload.get("version")
    if not _whole(version) or version < 1:
        raise bad("version", "a whole number", version)
    if version > VERSION:
        raise CheckpointError(f"{s}: written by a newer version (format {version}, this reads up to {VERSION})")
    if version < VERSION:
        raise CheckpointError(f"{s}: written by an older Studio that did not record which weights file it "
                              "belongs with, so resuming from it could mix two saves; train again from the start")
    for key, needs in (("epoch", "a whole number >= 0"), ("step", "a whole number >= 0"),
                       ("weights", "an object naming the weights file"), ("optimizers", "an object")):
        if key not in payload:
            raise bad(key, needs, present=False)
    for key in ("epoch", "step"):
        if not _whole(payload[key]) or payload[key] < 0:
            raise bad(key, "a whole number >= 0", payload[key])
    weights = payload["weights"]
    if not isinstance(weights, dict):
        raise bad("weights", "an object naming the weights file", weights)
    digest = weights.get("sha256")
    if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        raise bad("weights.sha256", "a SHA-256 digest (64 hex digits)", digest)
    optimizers = payload["optimizers"]
    if not isinstance(optimizers, dict):
        raise bad("optimizers", "an object", optimizers)
    for name, opt in optimizers.items():
        where = f"optimizers.{name}"
        if not isinstance(name, str) or not isinstance(opt, dict):
            raise bad(where, "an optimizer's state (an object)", opt)
        if not isinstance(opt.get("state"), dict):
            raise bad(f"{where}.state", "an object", opt.get("state"), "state" in opt)
        groups = opt.get("param_groups")
        if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
            raise bad(f"{where}.param_groups", "a list of objects", groups, "param_groups" in opt)
        for i, g in enumerate(groups):
            if not isinstance(g.get("params"), list) or not all(_whole(p) for p in g["params"]):
                raise bad(f"{where}.param_groups[{i}].params", "a list of whole numbers", g.get("params"),
                          "params" in g)
        for pid, per in opt["state"].items():
            if not isinstance(per, dict):
                raise bad(f"{where}.state.{pid}", "an object", per)
    best = payload.get("best")
    if best is not None and not isinstance(best, dict):
        raise bad("best", "an object or null", best)
    scaler = payload.get("scaler")
    if scaler is not None and not (isinstance(scaler, dict) and all(isinstance(v, dict) for v in scaler.values())):
        raise bad("scaler", "an object of objects or null", scaler)
    rng = payload.get("rng")
    if rng is not None:
        if not isinstance(rng, dict):
            raise bad("rng", "an object or null", rng)
        if not _byte_tensor(rng.get("cpu")):
            raise bad("rng.cpu", "the CPU generator's state (a tensor of bytes)", rng.get("cpu"), "cpu" in rng)
        cuda = rng.get("cuda")
        if cuda is not None and not (isinstance(cuda, (list, tuple)) and all(_byte_tensor(t) for t in cuda)):
            raise bad("rng.cuda", "the CUDA generators' states (tensors of bytes)", cuda)
    return TrainingState(payload["epoch"], payload["step"], optimizers, best, scaler, rng, digest)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _byte_tensor(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.dtype == torch.uint8 and value.dim() == 1


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and (not isinstance(value, float) or math.isfinite(value)):
        return repr(value) if abs(value) < 1e15 else type(value).__name__
    if isinstance(value, str):
        return repr(value[:40])
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).replace('torch.', '')} tensor of shape {list(value.shape)}"
    return {dict: "an object", list: "a list", tuple: "a list"}.get(type(value), type(value).__name__)


def load(path: str | os.PathLike, networks: Mapping[str, nn.Module]) -> TrainingState:
    """Both files of a checkpoint: the state, checked, then the weights it was saved with into
    ``networks``. A pair from two different saves is refused naming both files."""
    w, s = weights_path(path), state_path(path)
    if not w.exists() and not s.exists():
        raise CheckpointError(f"{w}: no such weights file")
    state = load_state(path)
    data = _read_file(w, "weights file") if w.exists() else None
    if data is None or hashlib.sha256(data).hexdigest() != state.weights_sha256:
        data = _finish_cut_save(w, state.weights_sha256) or data
    if data is None:
        raise CheckpointError(f"{w}: no such weights file (the training state {s} is there)")
    tensors, metadata = read_weights(w, data)
    if hashlib.sha256(data).hexdigest() != state.weights_sha256:
        theirs = (f"weights of epoch {metadata['epoch']} (step {metadata.get('step', '?')})"
                  if "epoch" in metadata else "weights saved apart from it")
        raise CheckpointError(
            f"{w} and {s} do not belong together: the training state is of epoch {state.epoch} (step "
            f"{state.step}) and names other weights; the weights file holds {theirs}. A save was cut short "
            "or one file was replaced. Resume from a checkpoint whose two files were saved together, or "
            "train from the start")
    load_flat_state(networks, tensors, str(w))
    return state


def _finish_cut_save(w: Path, digest: str | None) -> bytes | None:
    """A save killed between its two renames left its state in place and its weights under a
    temporary name: rename the temporary file whose bytes are the ones the state names into
    place (what the save would have done) and return them; None when there is none."""
    head, tail = f".{w.name}.", TEMP_SUFFIX
    try:
        names = sorted(os.listdir(w.parent))
    except OSError:
        return None
    for name in names:
        middle = name[len(head): -len(tail)] if name.startswith(head) and name.endswith(tail) else ""
        if not (middle.isdigit() and int(middle) != os.getpid() and not _alive(int(middle))):
            continue  # not a temporary file of ours, or a save still running
        tmp = w.parent / name
        try:
            if not stat.S_ISREG(os.lstat(tmp).st_mode):
                continue
            with open(tmp, "rb") as f:  # hashed in pieces: a big stray file is never read whole
                found = hashlib.file_digest(f, "sha256").hexdigest()
        except OSError:
            continue
        if found == digest:
            _commit(tmp, w)
            return _read_file(w, "weights file")
    return None


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu")
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(v) for v in value)
    return value
