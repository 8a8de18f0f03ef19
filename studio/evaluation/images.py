"""An image file a person brings, decoded as small as the network needs.

Whatever the file holds (8 or 16 bits a channel, a palette, grey, RGB, an
alpha channel) becomes ``[C, H, W]`` floats in 0..1 at the network's size,
each pixel the mean of the area it covers, turned upright as its EXIF
orientation says (as every viewer shows a phone's photo). A large photo is reduced while it
decodes (JPEG) and resized in 8 bits, so a 9000 x 9000 image costs its pixels
once, not four float copies of them. Transparent pixels are paper: strokes drawn on
nothing (most pixels transparent) get paper of the opposite colour, so black
strokes on a transparent background stay strokes; a transparent margin of an
opaque picture continues its background.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .loading import EXIT_UNREADABLE
from .predict import PredictError

_ORIENTATION = 0x0112  # the EXIF tag saying how the camera was held
_WIDE = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")  # more than 8 bits a channel


def decode(path: Path, shown: str, channels: int, height: int, width: int) -> tuple[np.ndarray, float]:
    """(``[channels, height, width]`` in 0..1, the mean of the full image's border pixels in 0..1)."""
    from PIL import Image, UnidentifiedImageError

    from studio.data import DataError
    from studio.data.files.paths import open_regular
    from studio.data.limits import MAX_IMAGE_PIXELS

    try:
        f, size = open_regular(path, shown)
    except DataError as exc:
        raise PredictError(str(exc), EXIT_UNREADABLE) from None
    with f, warnings.catch_warnings():
        if size == 0:
            raise PredictError(f"{shown}: the file is empty (0 bytes): it holds no samples")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(f)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PredictError(f"{shown}: the image is too large to decode safely; images of at most "
                               f"{MAX_IMAGE_PIXELS:,} pixels are read", EXIT_UNREADABLE) from None
        except UnidentifiedImageError:
            raise PredictError(f"{shown}: cannot read the image: the file holds no PNG, JPEG, BMP, GIF, TIFF or "
                               "WebP data", EXIT_UNREADABLE) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise PredictError(f"{shown}: cannot read the image ({exc})", EXIT_UNREADABLE) from None
        with img:
            w, h = img.size
            if w * h > MAX_IMAGE_PIXELS:
                raise PredictError(f"{shown}: the image is {w:,} x {h:,} = {w * h:,} pixels; images of at most "
                                   f"{MAX_IMAGE_PIXELS:,} pixels are read", EXIT_UNREADABLE)
            try:
                return _pixels(img, channels, height, width)
            except (OSError, SyntaxError, ValueError, EOFError) as exc:  # truncated or corrupt data
                raise PredictError(f"{shown}: cannot read the image ({exc})", EXIT_UNREADABLE) from None


def _pixels(img, channels: int, height: int, width: int) -> tuple[np.ndarray, float]:
    from PIL import Image

    from PIL import ImageOps

    mode = "L" if channels == 1 else "RGB"
    turned = img.getexif().get(_ORIENTATION, 1) in (5, 6, 7, 8)  # a phone photo held sideways
    img.draft(mode, (height, width) if turned else (width, height))  # JPEG: decoded at 1/2, 1/4, 1/8 scale
    if img.getexif().get(_ORIENTATION, 1) != 1:
        img = ImageOps.exif_transpose(img)  # upright, as every viewer shows it
    if img.mode in _WIDE:
        img, scale = _wide_to_float(img)
        if channels == 3:
            grey = img.resize((width, height), Image.Resampling.BOX)
            a = np.repeat(np.asarray(grey, dtype=np.float32)[None] / scale, 3, axis=0)
        else:
            a = np.asarray(img.resize((width, height), Image.Resampling.BOX), dtype=np.float32)[None] / scale
        return np.clip(a, 0.0, 1.0), _border(img) / scale
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info) or (
            img.mode in ("L", "RGB") and "transparency" in img.info):
        img = _on_paper(img.convert("RGBA"), mode)
    else:
        img = img.convert(mode)
    small = img.resize((width, height), Image.Resampling.BOX)
    a = np.asarray(small, dtype=np.float32) / 255.0
    a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
    return a, _border(img) / 255.0


def _wide_to_float(img):
    """A 16-bit (or 32-bit integer, or float) grey image as mode F, and the value that is white."""
    f = img.convert("F") if img.mode != "F" else img
    top = float(f.getextrema()[1])
    if img.mode == "F":
        scale = 1.0 if top <= 1.0 else (255.0 if top <= 255.0 else 65535.0)
    else:
        scale = 255.0 if img.mode == "I" and top <= 255 else 65535.0
    return f, scale


def _on_paper(rgba, mode: str):
    """Transparent pixels as paper (see the module's docstring)."""
    from PIL import Image

    probe = rgba.resize((min(rgba.width, 256), min(rgba.height, 256)), Image.Resampling.BOX)  # enough to judge
    a = np.asarray(probe)
    alpha = a[..., 3].astype(np.float32) / 255.0
    grey = a[..., :3].astype(np.float32).mean(axis=-1)
    shown = alpha.sum()
    mean = float((grey * alpha).sum() / shown) if shown > 0 else 0.0
    if alpha.mean() < 0.5:  # little is visible: strokes on nothing, so paper is their opposite
        paper = 255 if mean < 128 else 0
    else:  # most is visible, the paper among it: a transparent margin continues it
        paper = 0 if mean < 128 else 255
    background = Image.new("RGBA", rgba.size, (paper, paper, paper, 255))
    return Image.alpha_composite(background, rgba).convert(mode)


def _border(img) -> float:
    """Mean of the outermost pixels (all channels), in the image's own units."""
    w, h = img.size
    strips = [img.crop(box) for box in ((0, 0, w, 1), (0, h - 1, w, h), (0, 0, 1, h), (w - 1, 0, w, h))]
    return float(np.mean(np.concatenate([np.asarray(s, dtype=np.float64).reshape(-1) for s in strips])))
