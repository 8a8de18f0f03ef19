"""``studio [FILE]`` opens the editor; ``studio --screenshot OUT.png [FILE]``
renders the window with that graph to a PNG and exits (works offscreen)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

WINDOW_SIZE = (1600, 1000)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="studio", description="Open the Studio editor.")
    parser.add_argument("file", nargs="?", help="a graph file to open")
    parser.add_argument("--screenshot", metavar="OUT.png", help="render the window to OUT.png and exit")
    parser.add_argument("--theme", choices=("dark", "light"), help="colour theme (remembered)")
    parser.add_argument("--size", default=f"{WINDOW_SIZE[0]}x{WINDOW_SIZE[1]}",
                        help="window size for --screenshot, WIDTHxHEIGHT")
    parser.add_argument("--select", metavar="NODE", action="append", default=[],
                        help="with --screenshot: select these nodes (shows the inspector)")
    return parser.parse_args(argv)


def no_display() -> bool:
    """True on a Linux machine with no screen to open a window on."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def application():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    app.setApplicationName("Studio")
    app.setOrganizationName("Studio")
    return app


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.screenshot:
        if no_display():
            os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
        return screenshot(args)
    if no_display():
        print("studio: no display to open the editor on (DISPLAY is not set).\n"
              "  Headless, use: studio validate FILE, studio train FILE,\n"
              "  or studio --screenshot OUT.png FILE to render the window.", file=sys.stderr)
        return 2
    from .system_libraries import message, missing, uses_xcb

    gone = missing() if uses_xcb() else {}
    if gone:
        print(message(gone), file=sys.stderr)
        return 2
    app = application()
    from . import torch_loader
    from .main_window import MainWindow

    torch_loader.plan()  # started below, once the window is up
    window = MainWindow()
    if args.theme:
        window.set_theme(args.theme)
    # torch and what uses it load on a background thread once the window has painted and made its
    # training dock: the window appears without waiting for them, and the first Train press finds
    # them loaded. Meanwhile garbage is collected on this thread only (a collection on the loader's
    # thread would destroy Qt objects there); once loaded, the start-up heap is collected and frozen
    # here, so no later full collection walks it (200 ms, a visible stall, every time one ran).
    # Connected before the window shows: a question at start (recovering a crash's work) paints
    # the window in its own loop, before open_at_start returns.
    from .collector import install as collect_on_this_thread

    collect_on_this_thread().hold_until(torch_loader.loaded)
    window.startedUp.connect(torch_loader.load_in_background)
    window.show()
    window.open_at_start(args.file)
    return app.exec()


def screenshot(args: argparse.Namespace) -> int:
    """Render the window offscreen with ``args.file`` and write ``args.screenshot``."""
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        print(f"studio: --size must look like 1600x1000, got {args.size!r}", file=sys.stderr)
        return 2
    app = application()
    from studio import files

    from .main_window import MainWindow
    from .settings import AppSettings

    graph = None
    if args.file:
        try:
            graph = files.load(args.file)
        except (files.GraphFileError, OSError) as exc:
            print(f"studio: {exc}", file=sys.stderr)
            return 1
    # A throwaway settings directory: a screenshot never reads or changes the user's.
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(AppSettings(Path(tmp)))
        window.set_theme(args.theme or "dark")
        window.resize(width, height)
        window.show()
        window.training_panel  # noqa: B018 (the dock is in the picture, made now rather than after a paint)
        if graph is not None:
            window.set_document(graph, Path(args.file))
        window.counter.compute_now()
        app.processEvents()
        window.view.frame_readable()
        if args.select:
            window.scene.select_nodes(args.select)
        for _ in range(3):  # counts -> status text -> status bar layout
            app.processEvents()
        out = Path(args.screenshot)
        out.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(out))
        window.editor.undo_stack.setClean()
        window.close()
    if not ok:
        print(f"studio: could not write {out}", file=sys.stderr)
        return 1
    print(out)
    return 0
