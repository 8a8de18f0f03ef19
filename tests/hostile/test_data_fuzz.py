"""Random CSV and npz files: loading one gives a valid data set or a DataError, never anything else."""

import io
import math
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch
from fuzzing import examples
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from studio.data import DataError, check_fits, load_dataset
from studio.graph import Graph

SETTINGS = settings(max_examples=examples(40), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check_valid(ds) -> None:
    """What every loaded data set promises, whatever the file held."""
    assert len(ds.train) > 0
    for part in (ds.train, ds.val):
        if part is None:
            continue
        x = part.x
        assert tuple(x.shape[1:]) == tuple(ds.input_shape)
        if x.dtype == torch.float32:
            assert bool(torch.isfinite(x).all())
        else:
            assert x.dtype == torch.int64 and int(x.min()) >= 0
        if ds.task == "classification":
            assert part.y.dtype == torch.int64
            assert 0 <= int(part.y.min()) and int(part.y.max()) < len(ds.class_names)
        else:
            assert part.y.dtype == torch.float32 and bool(torch.isfinite(part.y).all())
    ds.describe()
    ds.preview(8)
    g = Graph()
    g.add_node("Input", {"shape": list(ds.input_shape)}, id="x")
    check_fits(ds, g)


def load(spec, folder, count=True):
    try:
        ds = load_dataset(spec, folder)
    except DataError as exc:
        assert str(exc)
        if count:
            event(f"{spec['name']}: refused")
        return None
    check_valid(ds)
    if count:
        event(f"{spec['name']}: loaded")
    return ds


# ---- CSV ------------------------------------------------------------------------
NUMBERS = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e308", "-1e300", "1e39", "3.4e38", "nan", "NaN", "inf", "-Infinity", "1_000", "0x10",
                     "9" * 400, " 7 ", "1e-320", "+.5"]),
)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
CELLS = st.one_of(NUMBERS, NUMBERS, TEXT, st.just(""), st.sampled_from(["a", "b", "c", "\ufeff", "é", "猫"]),
                  st.sampled_from([100, 10_000, 140_000]).map(lambda k: "x" * k))  # past csv's field limit too


@st.composite
def csv_text(draw):
    """Half the files are well formed (so loading gets far), half hostile in every way the brief lists."""
    hostile = draw(st.booleans())
    columns = draw(st.integers(1, 5))
    delimiter = draw(st.sampled_from([",", ",", ";", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))

    def cell(text):
        ways = ["plain", "plain", "quoted", "open quote", "inner quote"] if hostile else ["plain", "quoted"]
        how = draw(st.sampled_from(ways))
        if how == "quoted" or (how == "plain" and any(c in text for c in delimiter + '"\r\n')):
            return '"' + text.replace('"', '""') + '"'
        if how == "open quote":
            return '"' + text
        if how == "inner quote":
            return text + '"' + text
        return text

    header = [draw(st.sampled_from(["a", "b", "y", "label", "x y", "", "é"])) + str(i) for i in range(columns)]
    if hostile and draw(st.booleans()):
        header[-1] = draw(TEXT)
    kinds = [draw(st.sampled_from(["number", "category"])) for _ in range(columns)]
    lines = [delimiter.join(cell(h) for h in header)]
    for _ in range(draw(st.integers(0 if hostile else 2, 12))):
        if hostile:
            width = columns if draw(st.integers(0, 5)) else draw(st.integers(0, columns + 2))
            lines.append(delimiter.join(cell(draw(CELLS)) for _ in range(width)))
        else:
            lines.append(delimiter.join(cell(draw(st.floats(-1e6, 1e6, allow_nan=False).map(repr) if k == "number"
                                                   else st.sampled_from(["a", "b", "c d", "é", '"q"', "x,y"])))
                                        for k in kinds))
    text = newline.join(lines) + draw(st.sampled_from(["", newline, newline * 3]))
    bom = draw(st.sampled_from(["", "", "\ufeff"]))
    return bom + text, delimiter, header


@SETTINGS
@given(csv_text(), st.sampled_from(["auto", "classification", "regression"]), st.integers(0, 6),
       st.sampled_from([0.0, 0.2, 0.5, 0.9]), st.sampled_from(["none", "zscore", "minmax"]))
def test_random_csv_loads_or_says_why(made, task, target_at, val_fraction, standardize):
    text, delimiter, header = made
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "r.csv").write_bytes(text.encode("utf-8", "surrogatepass"))
        target = header[target_at].strip() if target_at < len(header) else ""
        load({"name": "csv", "path": "r.csv", "delimiter": delimiter, "task": task, "target": target,
              "val_fraction": val_fraction, "standardize": standardize}, folder)


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_as_csv_or_text(data):
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "r.csv").write_bytes(data)
        load({"name": "csv", "path": "r.csv"}, folder)
        load({"name": "text", "path": "r.csv", "length": 2}, folder)


# ---- npz ------------------------------------------------------------------------
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint64", "float16", "float32", "float64",
          "complex64", "<U3", "S2", "datetime64[s]", "object"]
SPECIALS = [0.0, 1.0, -1.0, math.nan, math.inf, -math.inf, 1e300, -1e39, 2.0**63, 2.0**64, 0.5, -3.0]


@st.composite
def array(draw, samples):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    ndim = draw(st.sampled_from([0, 1, 1, 2, 2, 3]))
    shape = (samples if draw(st.integers(0, 4)) else draw(st.integers(0, 5)),) + tuple(
        draw(st.integers(0, 3)) for _ in range(max(0, ndim - 1)))
    shape = shape[:ndim]
    size = int(np.prod(shape))
    values = draw(st.lists(st.sampled_from(SPECIALS) | st.floats(-100, 100), min_size=size, max_size=size))
    raw = np.array(values, dtype=np.float64).reshape(shape)
    if dtype.kind in "US":
        return raw.astype(str).astype(dtype)
    if dtype.kind == "M":
        return np.zeros(shape, dtype=dtype)
    if dtype.kind == "O":
        return np.array(raw.tolist(), dtype=object) if ndim else np.array(None, dtype=object)
    with np.errstate(all="ignore"):
        if dtype.kind in "iub":
            raw = np.nan_to_num(raw, nan=0, posinf=0, neginf=0)
            info = np.iinfo(dtype) if dtype.kind != "b" else None
            if info is not None:
                raw = np.clip(raw, info.min, info.max)
        return raw.astype(dtype)


@st.composite
def npz_bytes(draw):
    samples = draw(st.integers(1, 6))
    if draw(st.booleans()):  # well formed: features [samples, ...] and labels or targets [samples]
        features = (samples,) + tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
        x = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=int(np.prod(features)),
                                   max_size=int(np.prod(features))))).reshape(features)
        x = x.astype(draw(st.sampled_from(["float32", "float64", "int64", "uint8"])))
        y = np.array(draw(st.lists(st.integers(-3, 3), min_size=samples, max_size=samples)))
        arrays = {"x": np.abs(x) if x.dtype.kind == "i" else x,
                  "y": y.astype(draw(st.sampled_from(["int64", "float64", "uint8", "bool"])))}
    else:
        keys = draw(st.lists(st.sampled_from(["x", "y", "class_names", "other"]), unique=True, max_size=4))
        arrays = {k: draw(array(samples)) for k in keys}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    damage = draw(st.sampled_from(["none", "none", "none", "truncate", "flip"]))
    if damage == "truncate" and data:
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif damage == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]
    return data


@SETTINGS
@given(npz_bytes(), st.sampled_from(["auto", "classification", "regression"]), st.booleans(),
       st.sampled_from([0.0, 0.3]), st.sampled_from(["none", "zscore"]))
def test_random_npz_loads_or_says_why(data, task, tokens, val_fraction, standardize):
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "r.npz").write_bytes(data)
        load({"name": "npz", "path": "r.npz", "task": task, "tokens": tokens, "val_fraction": val_fraction,
              "standardize": standardize if not tokens else "none"}, folder)


def test_a_zip_that_is_not_an_npz_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "r.npz", "w") as z:
        z.writestr("x.npy", b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 100)
        z.writestr("y.npy", b"")
    assert load({"name": "npz", "path": "r.npz"}, tmp_path, count=False) is None


@st.composite
def image_bytes(draw):
    """A small valid image in a random format and mode, then perhaps damaged."""
    from PIL import Image

    fmt, suffix = draw(st.sampled_from([("PNG", ".png"), ("GIF", ".gif"), ("BMP", ".bmp"), ("TIFF", ".tif"),
                                        ("JPEG", ".jpg"), ("WEBP", ".webp")]))
    modes = {"JPEG": ["L", "RGB"], "WEBP": ["RGB", "RGBA"], "PNG": ["1", "L", "P", "RGB", "RGBA", "LA", "I;16"],
             "TIFF": ["1", "L", "P", "RGB", "RGBA", "I;16"]}.get(fmt, ["1", "L", "P", "RGB"])
    mode = draw(st.sampled_from(modes))
    size = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, fmt)
    data = buffer.getvalue()
    damage = draw(st.sampled_from(["none", "truncate", "flip", "bytes"]))
    if damage == "truncate":
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif damage == "flip":
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    elif damage == "bytes":
        data = draw(st.binary(max_size=200))
    return data, suffix


@SETTINGS
@given(image_bytes(), st.sampled_from(["grayscale", "rgb"]), st.sampled_from([None, [4, 4]]))
def test_random_images_load_or_say_why(image, channels, size):
    from PIL import Image

    data, suffix = image
    with tempfile.TemporaryDirectory() as folder:
        for name in ("cat", "dog"):
            Path(folder, "pets", name).mkdir(parents=True)
            Image.new("L", (3, 2), 9).save(Path(folder, "pets", name, "0.png"))
        Path(folder, "pets", "dog", "1" + suffix).write_bytes(data)
        load({"name": "image_folder", "path": "pets", "channels": channels, "size": size}, folder)
