"""File > Export Blocks… and File > Import Blocks…: a graph's own blocks (group
definitions) written to a library file, and read into another graph as one undo step."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from studio.files import GraphFileError
from studio.files.library_file import import_definitions, read_library, save_library
from studio.graph import GraphError
from studio.graph.fixes import Journal

from . import dialogs
from .document.commands import JournalCommand

LIBRARY_FILTER = "Studio blocks (*.blocks.json *.json);;All files (*)"


def library_save_name(parent: QWidget, suggested: str = "") -> str:
    """Where to export blocks ('' when cancelled); always a ``.json`` name. Tests replace this."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export blocks", suggested, LIBRARY_FILTER)
    if path and not path.lower().endswith(".json"):
        path += ".blocks.json"
    return path


def library_open_name(parent: QWidget, directory: str = "") -> str:
    """The library file to import ('' when cancelled). Tests replace this."""
    path, _ = QFileDialog.getOpenFileName(parent, "Import blocks", directory, LIBRARY_FILTER)
    return path


def blocks_to_export(window) -> list[str]:
    """The definitions of the selected group nodes, or every definition when none is selected."""
    graph = window.editor.graph
    library = graph.library
    chosen = [graph.node(n).block for n in window.scene.selected_node_ids()
              if n in graph and graph.node(n).block in library.definitions]
    return list(dict.fromkeys(chosen)) or list(library.definitions)


def export_blocks(window, names: list[str] | None = None) -> list[str]:
    """Ask where, then write the chosen blocks (``names``, else the selected groups' or all) and
    those they use; returns the names written."""
    names = list(names) if names else blocks_to_export(window)
    if not names:
        dialogs.show_error(window, "Nothing to export",
                           "This graph has no blocks of its own yet: select blocks and group them (Ctrl+G) first.")
        return []
    folder = window.path.parent if getattr(window, "path", None) else Path.home()
    suggested = str(folder / f"{names[0] if len(names) == 1 else 'blocks'}.blocks.json")
    path = library_save_name(window, suggested)
    if not path:
        return []
    try:
        written = save_library(window.editor.graph, names, path)
    except GraphFileError as exc:
        dialogs.show_error(window, "Could not export the blocks", str(exc))
        return []
    window.statusBar().showMessage(f"Exported {', '.join(written)} to {path}", 8000)
    return written


def import_blocks(window, path: str | None = None) -> dict[str, str]:
    """Ask which file, then add its blocks to the document's library as one undo step;
    returns each imported block's name in this graph."""
    if path is None:
        folder = str(window.path.parent) if getattr(window, "path", None) else ""
        path = library_open_name(window, folder)
    if not path:
        return {}
    try:
        scratch = read_library(path)
    except GraphFileError as exc:
        dialogs.show_error(window, "Could not import the blocks", str(exc))
        return {}
    editor = window.editor
    top = getattr(editor, "document", editor.graph)
    names: dict[str, str] = {}

    def apply():
        journal, found = import_definitions(top, scratch, str(path))
        names.update(found)
        if not journal.steps:  # every block is here already: no undo step for nothing
            raise GraphError(f"the blocks of {Path(path).name} are already in this graph")
        return journal

    command = JournalCommand(top, f"Import blocks from {Path(path).name}", apply)
    editor.undo_stack.push(command)
    if command.refusal and not names:
        dialogs.show_error(window, "Could not import the blocks", command.refusal)
        return {}
    renamed = [f"{old} as {new}" for old, new in names.items() if old != new]
    if command.journal is None:
        message = f"The blocks of {Path(path).name} are already in this graph"
    else:
        added = len(command.journal.steps)
        message = f"Imported {added} block{'s' * (added != 1)} from {Path(path).name}"
    if renamed:
        message += f" ({', '.join(renamed)}: the names were taken)"
    window.statusBar().showMessage(message, 8000)
    return names


def remove_block(editor, name: str) -> str | None:
    """Take an unused block out of the document's library, as one undo step; None, or why not."""
    top = getattr(editor, "document", editor.graph)
    library = top.library

    def apply():
        journal = Journal()
        index = library.index(name)
        journal.steps.append(("undefine", library, library.remove(name), index))
        return journal

    command = JournalCommand(top, f"Remove block {name}", apply)
    editor.undo_stack.push(command)
    return command.refusal


def add_block_library_actions(window, menu: QMenu) -> tuple[QAction, QAction]:
    """File > Export Blocks… and File > Import Blocks…, added to ``menu``."""
    export = QAction("Export &Blocks…", window)
    export.setObjectName("export_blocks")
    export.setStatusTip("The selected groups' blocks (or all of this graph's blocks) to a file other graphs can import")
    export.triggered.connect(lambda: export_blocks(window))
    importing = QAction("Import Bl&ocks…", window)
    importing.setObjectName("import_blocks")
    importing.setStatusTip("Blocks exported from another graph, into My blocks")
    importing.triggered.connect(lambda: import_blocks(window))
    menu.addActions([importing, export])
    return export, importing
