"""The system libraries Qt's X11 platform (xcb) needs on Linux, checked before Qt starts.

Without them Qt aborts with "could not load the Qt platform plugin xcb" and
names one library at a time. This names them all, with the packages that
bring them, before a window is tried.
"""

from __future__ import annotations

import ctypes
import os
import sys

# soname -> Debian / Ubuntu package (the README lists them too).
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}


def uses_xcb() -> bool:
    """Whether Qt will open its window through X11 here."""
    if not sys.platform.startswith("linux"):
        return False
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.startswith("xcb")
    return bool(os.environ.get("DISPLAY")) and not os.environ.get("WAYLAND_DISPLAY")


def missing(libraries: dict[str, str] = XCB_LIBRARIES) -> dict[str, str]:
    """The libraries that cannot be loaded, with their packages."""
    gone = {}
    for soname, package in libraries.items():
        try:
            ctypes.CDLL(soname)
        except OSError:
            gone[soname] = package
    return gone


def message(gone: dict[str, str]) -> str:
    packages = " ".join(sorted(set(gone.values())))
    return ("studio: the window needs system libraries that are not installed: "
            + ", ".join(gone) + ".\n"
            f"  On Debian or Ubuntu: sudo apt-get install {packages}\n"
            "  Headless, studio validate / train / export work without them.")
