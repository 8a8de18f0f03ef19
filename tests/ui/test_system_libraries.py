"""A machine without Qt's X11 libraries is told which packages to install, before Qt aborts."""

from __future__ import annotations

from studio.ui import app, system_libraries


def test_missing_libraries_are_named_with_their_packages(monkeypatch, capsys):
    libraries = {**system_libraries.XCB_LIBRARIES, "libstudio-absent.so.9": "libstudio-absent9"}
    gone = system_libraries.missing(libraries)
    assert gone["libstudio-absent.so.9"] == "libstudio-absent9"
    monkeypatch.setattr(system_libraries, "missing", lambda: {"libxcb-cursor.so.0": "libxcb-cursor0",
                                                              "libxcb-icccm.so.4": "libxcb-icccm4"})
    monkeypatch.setattr(system_libraries, "uses_xcb", lambda: True)
    monkeypatch.setattr(app, "no_display", lambda: False)
    assert app.main([]) == 2
    err = capsys.readouterr().err
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4" in err
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4" in err


def test_which_platform_needs_them(monkeypatch):
    monkeypatch.setattr(system_libraries.sys, "platform", "linux")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert not system_libraries.uses_xcb()
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert system_libraries.uses_xcb()
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert system_libraries.uses_xcb()


def test_the_readme_lists_every_package():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for package in system_libraries.XCB_LIBRARIES.values():
        assert f" {package}" in readme, package
