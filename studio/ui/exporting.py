"""File > Export: the same studio.export functions as `studio export`, with
every failure turned into one message that says what to fix."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from studio.graph import Graph

KINDS = ("python", "torchrun", "program", "onnx", "onnx-int8")


class ExportFailed(Exception):
    """An export that wrote nothing; the message is for the person."""


def export_graph(graph: Graph, kind: str, target: Path, graph_path: Path | None = None,
                 weights: dict | None = None, carried: list[bool] | None = None) -> list[Path]:
    """Write ``graph`` as ``kind`` to ``target``; returns the files written.

    ``graph_path`` (the open file) names the torchrun script's weights, as the CLI does.
    ``weights``: the training panel's trained weights (state dicts by network), which the ONNX
    kinds carry where they fit the graph. ``onnx-int8`` returns each ONNX file followed by its
    int8 copy. ``carried``, when given, gets whether the ONNX files carry ``weights`` (False: the
    graph was edited past them, and the files hold fresh initial weights).
    """
    from studio.export import ExportError, export_program, export_python, export_torchrun_script
    from studio.graph import InvalidGraphError
    from studio.training import ConfigError

    if kind not in KINDS:
        raise ValueError(kind)
    try:
        if kind == "program":
            return export_program(graph, target)
        if kind in ("onnx", "onnx-int8"):
            from studio.export import export_onnx

            networks, loaded = trained(graph, weights)
            if carried is not None:
                carried.append(loaded)
            results = export_onnx(graph, target, networks, int8=kind == "onnx-int8")
            return [path for r in results for path in (r.path, r.int8_path) if path is not None]
        if kind == "python":
            text = export_python(graph)
        else:
            text = export_torchrun_script(graph, graph_path or target.with_name(target.stem.removeprefix("train_")))
        _write_text(target, text)
        return [target]
    except InvalidGraphError as exc:
        problems = "\n".join(f"  {p}" for p in exc.problems)
        raise ExportFailed(f"The graph is invalid ({len(exc.problems)} problem"
                           f"{'s' if len(exc.problems) != 1 else ''}); fix these first:\n{problems}") from None
    except ConfigError as exc:
        problems = "\n".join(f"  {p}" for p in exc.problems)
        raise ExportFailed(f"The training settings are invalid:\n{problems}") from None
    except ExportError as exc:
        raise ExportFailed(f"Cannot export as {'ONNX' if kind.startswith('onnx') else kind}: {exc}") from None
    except OSError as exc:
        raise ExportFailed(write_failure(target, exc)) from None
    except Exception as exc:  # noqa: BLE001 - an export that fails in torch must not take the editor with it
        raise ExportFailed(f"Cannot export as {kind}: {type(exc).__name__}: {exc}") from exc


def write_failure(target: Path, exc: OSError) -> str:
    """Why ``target`` could not be written, naming it (not the temporary file beside it that the
    error may name) and the folder at fault."""
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        why = f"{folder} is a file, not a folder"
    elif folder != target.parent:
        why = f"the folder {target.parent} does not exist"
    elif not os.access(folder, os.W_OK | os.X_OK):
        why = f"the folder {folder} is not writable"
    else:
        why = exc.strerror or str(exc)
        if exc.filename and Path(exc.filename).parent != folder and Path(exc.filename) != target:
            why += f" ({exc.filename})"
    return f"Cannot write {target}: {why}"


def trained(graph: Graph, weights: dict | None) -> tuple[dict, bool]:
    """The graph compiled, with the panel's trained weights where they fit it as it is now, and
    whether they did."""
    from studio.export import compiled_networks

    networks = compiled_networks(graph)
    if weights and len(networks) == 1 and len(weights) == 1:
        (net,), (state,) = networks.values(), weights.values()
        own = net.state_dict()
        # all or nothing: a graph edited since the run keeps its own initial weights
        if set(own) == set(state) and all(tuple(own[k].shape) == tuple(state[k].shape) for k in own):
            net.load_state_dict(state)
            return networks, True
    return networks, False


def _write_text(target: Path, text: str) -> None:
    """A temporary file beside the target, then a rename: never half a file."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
