"""The list of data sets by name, with their options, and ``load_dataset``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from blocks import Param

from .dataset import Dataset
from .errors import DataError
from .options import PLACE, read_options

if TYPE_CHECKING:
    from studio.files.reach import Reach

    from .progress import Progress

# (options, the graph file's reach) -> Dataset
Loader = Callable[[dict[str, Any], Any], Dataset]


@dataclass(frozen=True)
class DatasetInfo:
    """One entry of the catalogue. ``source``: "builtin" (generated or shipped)
    or "file" (the user's own data, named by a ``path`` option)."""

    name: str
    task: str
    doc: str
    options: tuple[Param, ...]
    load: Loader
    source: str = "builtin"
    # Options a graph can tell (an image folder's size from the Input's shape):
    # (options, graph) -> options to use where the spec leaves them out.
    from_graph: Callable[[Mapping[str, Any], Any], dict[str, Any]] | None = None
    # Training settings that suit this data set for a first run (``graph.training`` keys):
    # a new graph gets them when this data set is chosen, so its first run learns.
    suggested: Mapping[str, Any] = field(default_factory=dict)

    def defaults(self) -> dict[str, Any]:
        return {"name": self.name, **{p.name: p.default for p in self.options}}


_CATALOG: dict[str, DatasetInfo] = {}


def register(info: DatasetInfo) -> DatasetInfo:
    if info.name in _CATALOG:
        raise ValueError(f"data set {info.name!r} is already registered")
    _CATALOG[info.name] = info
    return info


def _load_all() -> None:
    # Registration happens on import; Python imports each module once.
    from . import builtin, files  # noqa: F401


def catalog() -> list[DatasetInfo]:
    """Every data set, built-in ones first, in declaration order."""
    _load_all()
    return sorted(_CATALOG.values(), key=lambda i: i.source != "builtin")


def names() -> list[str]:
    return [i.name for i in catalog()]


def info(name: str) -> DatasetInfo:
    _load_all()
    try:
        return _CATALOG[name]
    except KeyError:
        known = ", ".join(names())
        raise DataError(f"unknown data set {name!r} (known: {known})", f"{PLACE}.name") from None


def load_dataset(spec: Mapping[str, Any] | str, base_dir: "Reach | str | Path | None" = None,
                 graph: Any = None, progress: "Progress | None" = None) -> Dataset:
    """Load the data set ``spec`` describes. ``base_dir`` is the graph file's reach:
    a ``Reach`` (its folder plus what the user granted) or a plain folder (that
    folder, nothing granted; the working directory when None). Relative paths
    resolve in its folder; a path outside it raises ``DataOutsideFolder``. With
    ``graph``, options the spec leaves out may be taken from it (an image
    folder's size and channels from the Input's shape). ``progress(fraction,
    done, unit)`` hears how far a file is read, on the loading thread (without
    it a load that takes long prints its progress to stderr). Raises ``DataError``."""
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping):
        raise DataError(f"a data set is described by an object with a name, got {spec!r}", PLACE)
    name = spec.get("name")
    if not isinstance(name, str):
        raise DataError(f"a data set needs a name, got {name!r}", f"{PLACE}.name")
    entry = info(name)
    if graph is not None and entry.from_graph is not None:
        told = {k: v for k, v in entry.from_graph(spec, graph).items() if k not in spec}
        spec = {**spec, **told}
    opts = read_options(name, entry.options, spec)
    from .files.paths import reach_of

    from .progress import reporting

    with reporting(progress, name):
        return entry.load(opts, reach_of(base_dir))


def paths_in(spec: Any) -> list[tuple[str, str]]:
    """Every (place, written path) a data set spec names, without loading anything.

    Training and the app use it to tell what a graph file reaches before asking
    or loading: ``[("training.dataset.path", "data/iris.csv")]``.
    """
    if not isinstance(spec, Mapping):
        return []
    written = spec.get("path")  # the option that names a file or folder
    found = [(f"{PLACE}.path", written)] if isinstance(written, str) and written else []
    targets = spec.get("y")  # an npz set whose path is a .npy names its targets' .npy file
    if found and spec.get("name") == "npz" and isinstance(targets, str) and targets.lower().endswith(".npy"):
        found.append((f"{PLACE}.y", targets))
    return found
