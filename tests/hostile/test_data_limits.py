"""Small files that would take all the memory are refused, with the numbers, before the memory is taken."""

import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from studio.data import DataError, catalog, load_dataset
from studio.data import limits


def ids_csv(path, rows=30_000):
    """The case as found: 30,000 unique ids beside two numbers, about 574 kB."""
    lines = ["user_id,score,label"] + [f"u{i:07d}-{i * 7919 % 100_000:05d},{i % 97},{i % 2}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_unique_text_column_is_refused_before_one_hot_encoding(tmp_path):
    ids_csv(tmp_path / "ids.csv")
    assert 500_000 < (tmp_path / "ids.csv").stat().st_size < 700_000
    catalog()  # the catalogue's imports are not the load's memory
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as err:
            load_dataset({"name": "csv", "path": "ids.csv", "target": "label"}, tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(err.value)
    assert message.startswith("ids.csv, column 'user_id': the text column holds 30,000 distinct values")
    assert "1,000" in message and "ignore: 'user_id'" in message and "target" in message and "Embedding" in message
    # The cells themselves, not a 30000 x 30001 table (7.2 GB of float64, 3.6 GB of float32).
    assert peak < 100e6, peak
    ds = load_dataset({"name": "csv", "path": "ids.csv", "target": "label", "ignore": "user_id"}, tmp_path)
    assert ds.input_shape == (1,) and ds.class_names == ["0", "1"]


def test_a_text_column_within_the_cap_is_one_hot_encoded(tmp_path):
    rows = ["colour,y"] + [f"c{i % limits.MAX_ONE_HOT_VALUES},{i % 2}" for i in range(2 * limits.MAX_ONE_HOT_VALUES)]
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n")
    ds = load_dataset({"name": "csv", "path": "c.csv", "val_fraction": 0}, tmp_path)
    assert ds.input_shape == (limits.MAX_ONE_HOT_VALUES,) and float(ds.train.x.sum()) == len(rows) - 1


def png(path, width, height):
    """A valid 1-bit PNG of all-black pixels, written a row at a time: tiny on disk, huge decoded."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    squeeze = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte, then the bits
    idat = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def pets(root, per_class=2, size=(4, 4)):
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.new("L", size, 60 * i).save(root / name / f"{i}.png")


@pytest.mark.parametrize("width,height", [(30_000, 30_000), (10_000, 10_000)])
def test_a_decompression_bomb_is_refused_naming_the_file(tmp_path, width, height):
    # 30000 x 30000 is past twice Pillow's limit (an error there); 10000 x 10000 only past it (a warning there).
    pets(tmp_path / "pets")
    png(tmp_path / "pets" / "dog" / "bomb.png", width, height)
    if width == 30_000:
        assert (tmp_path / "pets" / "dog" / "bomb.png").stat().st_size < 200_000
    with pytest.raises(DataError) as err:
        load_dataset({"name": "image_folder", "path": "pets", "size": [4, 4]}, tmp_path)
    assert str(err.value).startswith("pets/dog/bomb.png: the image is too large to decode safely")
    assert "89,478,485 pixels" in str(err.value)


def test_a_bomb_is_refused_even_when_pillows_limit_was_lifted(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    pets(tmp_path / "pets")
    png(tmp_path / "pets" / "cat" / "bomb.png", 10_000, 10_000)
    with pytest.raises(DataError, match=r"^pets/cat/bomb.png: the image is 10000 x 10000 = 100,000,000 pixels"):
        load_dataset({"name": "image_folder", "path": "pets", "size": [4, 4]}, tmp_path)


def test_an_image_folder_too_large_for_memory_streams_from_disk(tmp_path, monkeypatch):
    pets(tmp_path / "pets")
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(limits, "available_memory", lambda: 20_000_000)
    data = load_dataset({"name": "image_folder", "path": "pets", "size": [512, 512], "channels": "rgb"}, tmp_path)
    assert "read from disk" in data.describe()
    assert list(data.train.x.shape[1:]) == [3, 512, 512]
    assert any((tmp_path / "cache").rglob("*.npy"))


def test_text_windows_that_could_not_fit_anywhere_are_refused(tmp_path):
    (tmp_path / "t.txt").write_text("abcdefghij" * 30_000)
    with pytest.raises(DataError, match=r"^training.dataset.length: 200,000 windows x 100,000 characters x 8 bytes "
                                        r"= 160.0 GB in memory"):
        load_dataset({"name": "text", "path": "t.txt", "length": 100_000}, tmp_path)


def test_a_text_file_over_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_TEXT_BYTES", 1000)
    from studio.data.files import text_file
    monkeypatch.setattr(text_file, "MAX_TEXT_BYTES", 1000)
    (tmp_path / "t.txt").write_text("a" * 1001)
    with pytest.raises(DataError, match=r"^t.txt: the file is 1.0 kB; a text data set reads at most 1.0 kB"):
        load_dataset({"name": "text", "path": "t.txt"}, tmp_path)


def test_a_csv_too_large_to_read_stops_at_a_line(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 200 * limits.CSV_CELL_BYTES)
    # A row too wide (the last) takes the careful reader, which holds cells as it reads
    (tmp_path / "big.csv").write_text("a,b\n" + "1,2\n" * 200 + "1,2,3\n")
    with pytest.raises(DataError, match=r"^big.csv line 52: the table is too large to read: 102 cells"):
        load_dataset({"name": "csv", "path": "big.csv"}, tmp_path)


def test_an_npz_whose_header_claims_a_huge_array_is_refused_before_reading(tmp_path):
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as z:
        with z.open("x.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False,
                                                     "shape": (10**6, 10**6)})
        with z.open("y.npy", "w") as f:
            np.save(f, np.zeros(10**6, dtype=np.int64))
    with pytest.raises(DataError, match=r"^huge.npz: array 'x' \[1000000, 1000000\] of float64 \(twice: as stored "
                                        r"and for training\) = 16.0 TB in memory"):
        load_dataset({"name": "npz", "path": "huge.npz"}, tmp_path)


@pytest.mark.parametrize("spec,place", [
    ({"name": "blobs", "points": 1_000_000, "features": 10_000}, "training.dataset.points"),
    ({"name": "sine", "samples": 1_000_000, "length": 10_000}, "training.dataset.samples"),
    ({"name": "reverse", "samples": 1_000_000, "length": 4096}, "training.dataset.samples"),
])
def test_built_in_sets_too_large_for_memory_are_refused(spec, place):
    with pytest.raises(DataError, match=rf"^{place}: .* GB in memory, more than a data set may take"):
        load_dataset(spec)
