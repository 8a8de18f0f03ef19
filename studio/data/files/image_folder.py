"""A folder of images, one sub-folder per class, read with Pillow."""

from __future__ import annotations

import os
import shlex
import stat
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from blocks import Param

from studio.files.reach import OutsideFolder

from .. import stream
from ..assemble import assemble
from ..catalog import DatasetInfo, register
from ..errors import DataError, DataOutsideFolder
from ..limits import MAX_IMAGE_PIXELS
from ..options import AUGMENT, SPLIT, STANDARDIZE, place
from ..progress import report
from ..splitting import split_indices
from .paths import kind_of, open_regular, reach_of, resolve

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def read_image(path, shown: str, mode: str, size: tuple[int, int] | None) -> np.ndarray:
    """One image as float32 [C, H, W] in [0, 1]; ``size`` is (H, W)."""
    from PIL import Image

    with _opened(path, shown) as img:
        try:
            img = img.convert(mode)  # decodes the whole file, so truncated data fails here
            if size is not None and img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            a = np.asarray(img, dtype=np.float32) / 255.0
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise DataError(f"cannot read the image ({exc})", shown) from None
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


@contextmanager
def _opened(path, shown: str):
    """The image opened with Pillow, its header read: refused when Pillow takes it for a decompression bomb."""
    from PIL import Image, UnidentifiedImageError

    f, _ = open_regular(path, shown)
    with f, warnings.catch_warnings():
        # Pillow only warns between its limit and twice it; such an image is refused all the same.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(f)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DataError(f"the image is too large to decode safely ({exc}); images of at most "
                            f"{MAX_IMAGE_PIXELS:,} pixels are read", shown) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise DataError(f"cannot read the image ({exc})", shown) from None
        with img:
            w, h = img.size
            if w * h > MAX_IMAGE_PIXELS:  # also when Pillow's own limit was lifted elsewhere
                raise DataError(f"the image is {w} x {h} = {w * h:,} pixels; images of at most "
                                f"{MAX_IMAGE_PIXELS:,} pixels are read", shown)
            yield img


def _size_of(path, shown: str) -> tuple[int, int]:
    """(H, W) from the image's header, without decoding it."""
    with _opened(path, shown) as img:
        return img.size[1], img.size[0]


def _walk(root, shown: str, reach) -> tuple[list[str], list[tuple[int, Any, str]], list[tuple]]:
    """Class names, (class, file, shown name) of every image, each inside the graph's reach, and each
    file's (class, name, size, time): what the cache of a folder too large for memory is named by."""
    def inside(p, label: str) -> None:
        real = os.path.realpath(p)
        if not reach.allows(Path(real)):
            raise DataOutsideFolder(
                OutsideFolder(label, Path(real), reach.folder, place("path")),
                f"{label} links to {real}, outside the graph's folder ({reach.folder}); a graph file reaches "
                f"only its own folder. If you trust it, allow it with --allow-outside {shlex.quote(real)} "
                "(in the app: confirm when asked)")

    classes = []
    for p in sorted(root.iterdir()):
        if p.name.startswith(".") or not p.is_dir():
            continue
        inside(p, f"{shown.rstrip('/')}/{p.name}")
        classes.append(p.name)
    if len(classes) < 2:
        raise DataError(f"needs one sub-folder per class (at least 2), found {len(classes)}", shown)
    files: list[tuple[int, Any, str]] = []
    stamps: list[tuple] = []
    for c, name in enumerate(classes):
        found = []
        for p in sorted((root / name).iterdir()):
            if p.suffix.lower() not in EXTENSIONS or p.name.startswith("."):
                continue
            label = f"{shown.rstrip('/')}/{name}/{p.name}"
            try:
                mode = p.stat().st_mode
            except OSError as exc:
                raise DataError(f"cannot read the image ({exc.strerror or exc})", label) from None
            if stat.S_ISDIR(mode):
                continue
            stamps.append((name, p.name, *stream.file_stamp(p)))
            if not stat.S_ISREG(mode):
                raise DataError(f"the file is {kind_of(mode)}, not a regular file; "
                                "data is read only from regular files", label)
            inside(p, label)
            found.append((c, p, label))
        if not found:
            raise DataError(f"no images ({', '.join(sorted(EXTENSIONS))})", f"{shown.rstrip('/')}/{name}")
        files += found
        report(0.0, len(files), "files found")
    return classes, files, stamps


def _load(o: dict[str, Any], base) -> Any:
    reach = reach_of(base)
    root, shown = resolve(o["path"], reach, want_dir=True)
    classes, files, stamps = _walk(root, shown, reach)
    channels = 1 if o["channels"] == "grayscale" else 3
    mode = "L" if channels == 1 else "RGB"
    size = o["size"]
    if size is not None:
        size = (size, size) if isinstance(size, int) else tuple(size)
    else:
        # Without a size, every image takes the first one's size.
        size = _size_of(files[0][1], files[0][2])
    h, w = size
    n = len(files)
    labels = np.array([c for c, _, _ in files])
    extra = {"files": [str(p) for _, p, _ in files]}
    if stream.should_stream(2 * n * channels * h * w * 4):
        return _streamed(o, root, shown, classes, files, stamps, labels, mode, size, extra)
    x = np.empty((n, channels, h, w), dtype=np.float32)
    for i, (_, p, label) in enumerate(files):
        x[i] = read_image(p, label, mode, size)
        report((i + 1) / n, i + 1, "files")
    report(1.0, n, "files", force=True)
    return assemble("image_folder", "classification", x, labels, o, class_names=classes, extra=extra)


# Images decoded and written to the cache per block: small, so the progress bar moves.
IMAGE_BLOCK = 64


def _streamed(o, root, shown, classes, files, stamps, labels, mode, size, extra):
    """A folder too large for memory: decoded once into the cache, in split order, and mapped."""
    n = len(files)
    tr, va = split_indices(n, o["val_fraction"], o["seed"], labels)
    if len(tr) == 0:
        raise DataError(f"no training samples left: {n} samples with val_fraction {o['val_fraction']}",
                        place("val_fraction"))
    order = np.concatenate([tr, va])
    options = {k: v for k, v in o.items() if k != "path"}
    options["size"] = list(size)
    name = stream.entry_name(Path(root), stamps, options)
    entry = stream.open_entry(name)
    if entry is None:
        channels = 1 if mode == "L" else 3

        def rows(idx: np.ndarray) -> np.ndarray:
            out = np.empty((len(idx), channels, *size), dtype=np.float32)
            for j, i in enumerate(idx):
                _, p, label = files[i]
                out[j] = read_image(p, label, mode, size)
            return out

        entry = stream.build(name, (n, channels, *size), order, rows, len(tr), o["standardize"], {}, shown,
                             "files", block=IMAGE_BLOCK)
    return stream.streamed("image_folder", "classification", entry, labels[order], o, class_names=classes,
                           extra=extra)


def from_graph(spec, graph) -> dict[str, Any]:
    """Size and channels from the graph's only image Input ([1 or 3, H, W])."""
    shapes = [tuple(n.params.get("shape", ())) for n in graph.nodes.values() if n.spec.is_input]
    images = [s for s in shapes if len(s) == 3 and s[0] in (1, 3)]
    if len(images) != 1:
        return {}
    c, h, w = images[0]
    return {"size": [h, w], "channels": "grayscale" if c == 1 else "rgb"}


register(DatasetInfo(
    "image_folder", "classification",
    "A folder with one sub-folder of images per class (cat/, dog/, ...), read as grayscale or RGB, "
    "resized to [H, W], scaled to [0, 1]: samples [C, H, W].",
    (
        Param("path", "str", "", "the folder, relative to the graph file's folder"),
        Param("channels", "choice", "grayscale", "grayscale (1 channel) or rgb (3 channels)",
              choices=("grayscale", "rgb")),
        Param("size", "ints", None, "[H, W] every image is resized to (none: the first image's size)",
              min=1, max=4096, length=2, optional=True),
        *SPLIT, STANDARDIZE, *AUGMENT,
    ),
    _load, source="file", from_graph=from_graph,
))
