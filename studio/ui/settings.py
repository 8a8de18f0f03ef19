"""What the window remembers between runs: layout, theme, snapping and
recent files, in an INI file under the config directory. Tests and
screenshots point STUDIO_CONFIG_DIR somewhere temporary."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

MAX_RECENT = 8


def config_dir() -> Path:
    env = os.environ.get("STUDIO_CONFIG_DIR")
    if env:
        return Path(env)
    base = QStandardPaths.writableLocation(QStandardPaths.GenericConfigLocation)
    return Path(base) / "studio"


class AppSettings:
    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory) if directory is not None else config_dir()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.qsettings = QSettings(str(self.directory / "studio.ini"), QSettings.IniFormat)

    @property
    def recovery_dir(self) -> Path:
        return self.directory / "recovery"

    def _get(self, key: str, default):
        value = self.qsettings.value(key, default)
        return default if value is None else value

    @property
    def theme(self) -> str:
        value = str(self._get("theme", "dark"))
        return value if value in ("dark", "light") else "dark"

    @theme.setter
    def theme(self, name: str) -> None:
        self.qsettings.setValue("theme", name)

    @property
    def language(self) -> str:
        """The lessons' texts: "en", or "zh" for English with Chinese alongside. At first the
        system's language decides."""
        value = str(self._get("language", ""))
        if value in ("en", "zh"):
            return value
        from PySide6.QtCore import QLocale

        return "zh" if QLocale.system().language() == QLocale.Language.Chinese else "en"

    @language.setter
    def language(self, code: str) -> None:
        self.qsettings.setValue("language", code)

    @property
    def snapping(self) -> bool:
        return str(self._get("snap_to_grid", "true")).lower() == "true"

    @snapping.setter
    def snapping(self, on: bool) -> None:
        self.qsettings.setValue("snap_to_grid", "true" if on else "false")

    def recent_files(self) -> list[str]:
        value = self._get("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value if v][:MAX_RECENT]

    def add_recent(self, path: str | os.PathLike) -> list[str]:
        path = str(Path(path).resolve())
        files = [path] + [f for f in self.recent_files() if f != path]
        self.qsettings.setValue("recent_files", files[:MAX_RECENT])
        return files[:MAX_RECENT]

    def remove_recent(self, path: str) -> None:
        self.qsettings.setValue("recent_files", [f for f in self.recent_files() if f != path])

    def granted_outside(self, graph_path: str | os.PathLike | None) -> list[str]:
        """Places outside ``graph_path``'s folder the person allowed that file to use."""
        if not graph_path:
            return []
        value = self._get(self._granted_key(graph_path), [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value if v]

    def set_granted_outside(self, graph_path: str | os.PathLike, paths: list[str]) -> None:
        self.qsettings.setValue(self._granted_key(graph_path), list(paths))

    @staticmethod
    def _granted_key(graph_path: str | os.PathLike) -> str:
        # A key per file, by a digest of its full path: INI keys cannot hold every character a path can.
        import hashlib

        digest = hashlib.sha256(str(Path(graph_path).resolve()).encode("utf-8", "surrogatepass")).hexdigest()
        return f"granted_outside/{digest[:32]}"

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self.qsettings.value("window/geometry"), self.qsettings.value("window/state")

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)

    def sync(self) -> None:
        self.qsettings.sync()
