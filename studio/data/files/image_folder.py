"""A folder of images, one sub-folder per class, read with Pillow."""

from __future__ import annotations

from typing import Any

import numpy as np
from blocks import Param

from ..assemble import assemble
from ..catalog import DatasetInfo, register
from ..errors import DataError
from ..options import AUGMENT, SPLIT, STANDARDIZE, place
from .paths import resolve

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def read_image(path, shown: str, mode: str, size: tuple[int, int] | None) -> np.ndarray:
    """One image as float32 [C, H, W] in [0, 1]; ``size`` is (H, W)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert(mode)  # decodes the whole file, so truncated data fails here
            if size is not None and img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            a = np.asarray(img, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"cannot read the image ({exc})", shown) from None
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


def _load(o: dict[str, Any], base) -> Any:
    root, shown = resolve(o["path"], base, want_dir=True)
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise DataError(f"needs one sub-folder per class (at least 2), found {len(classes)}", shown)
    files: list[tuple[int, Any]] = []
    for c, name in enumerate(classes):
        found = sorted(p for p in (root / name).iterdir()
                       if p.is_file() and p.suffix.lower() in EXTENSIONS and not p.name.startswith("."))
        if not found:
            raise DataError(f"no images ({', '.join(sorted(EXTENSIONS))})", f"{shown.rstrip('/')}/{name}")
        files += [(c, p) for p in found]
    mode = "L" if o["channels"] == "grayscale" else "RGB"
    size = o["size"]
    if size is not None:
        size = (size, size) if isinstance(size, int) else tuple(size)
    images, labels = [], []
    for c, p in files:
        label = f"{shown.rstrip('/')}/{p.relative_to(root).as_posix()}"
        # Without a size, every image takes the first one's size.
        a = read_image(p, label, mode, size)
        if size is None:
            size = a.shape[1:]
        images.append(a)
        labels.append(c)
    x = np.stack(images)
    return assemble("image_folder", "classification", x, np.array(labels), o, class_names=classes,
                    extra={"files": [str(p) for _, p in files]})


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
