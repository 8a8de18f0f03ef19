"""File > Export: the same studio.export functions as `studio export`, with
every failure turned into one message that says what to fix."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from studio.graph import Graph

KINDS = ("python", "torchrun", "program")


class ExportFailed(Exception):
    """An export that wrote nothing; the message is for the person."""


def export_graph(graph: Graph, kind: str, target: Path, graph_path: Path | None = None) -> list[Path]:
    """Write ``graph`` as ``kind`` to ``target``; returns the files written.

    ``graph_path`` (the open file) names the torchrun script's weights, as the CLI does.
    """
    from studio.export import ExportError, export_program, export_python, export_torchrun_script
    from studio.graph import InvalidGraphError
    from studio.training import ConfigError

    if kind not in KINDS:
        raise ValueError(kind)
    try:
        if kind == "program":
            return export_program(graph, target)
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
        raise ExportFailed(f"Cannot export as {kind}: {exc}") from None
    except OSError as exc:
        raise ExportFailed(f"Cannot write {exc.filename or target}: {exc.strerror or exc}") from None
    except Exception as exc:  # noqa: BLE001 - an export that fails in torch must not take the editor with it
        raise ExportFailed(f"Cannot export as {kind}: {type(exc).__name__}: {exc}") from exc


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
