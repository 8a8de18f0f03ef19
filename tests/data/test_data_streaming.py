"""The fast CSV reader, memory-mapped NumPy files and data sets streamed from the cache."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.data import DataError, load_dataset
from studio.data import progress, stream
from studio.data.files import csv_file


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(folder))
    return folder / "data"


@pytest.fixture
def always_stream(monkeypatch, cache):
    monkeypatch.setattr(stream, "should_stream", lambda nbytes: True)
    return cache


def table(path, rows=300, bad=None):
    lines = ["a,b,colour,label"]
    for i in range(rows):
        lines.append(f"{i * 0.5},{(i * 7) % 11 - 3.25},{('red', 'green', 'blue')[i % 3]},{('cat', 'dog')[i % 2]}")
    if bad is not None:
        line, text = bad
        lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n")
    return path


def same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert torch.equal(a, b)


# ---- CSV: the fast reader ---------------------------------------------------------------
@pytest.mark.parametrize("line, text, message", [
    (260, "1.5,oops,red,cat", r"^t.csv line 260, column 'b': 'oops' is not a number \(the column holds numbers\)$"),
    (7, "1.5,,red,cat", r"^t.csv line 7, column 'b': empty cell"),
    (120, "1.5,2,red", r"^t.csv line 120: 3 cells but the header names 4 columns$"),
    (250, "1.5,inf,red,cat", r"^t.csv line 250, column 'b': 'inf' is not a finite number$"),
])
def test_a_bad_cell_past_the_first_rows_is_still_named_by_line_and_column(tmp_path, line, text, message):
    table(tmp_path / "t.csv", bad=(line, text))
    with pytest.raises(DataError, match=message):
        load_dataset({"name": "csv", "path": "t.csv"}, tmp_path)


def test_the_fast_reader_gives_what_the_careful_reader_gives(tmp_path):
    table(tmp_path / "t.csv")
    spec = {"name": "csv", "path": "t.csv", "val_fraction": 0.25, "standardize": "zscore"}
    fast = load_dataset(spec, tmp_path)
    from studio.data.catalog import info
    from studio.data.options import read_options

    opts = read_options("csv", info("csv").options, spec)
    careful = csv_file._load_careful(opts, tmp_path / "t.csv", "t.csv")
    assert fast.extra == careful.extra and fast.class_names == careful.class_names == ["cat", "dog"]
    assert fast.extra["feature_names"] == ["a", "b", "colour=blue", "colour=green", "colour=red"]
    for part in ("train", "val"):
        same(getattr(fast, part).x, getattr(careful, part).x)
        same(getattr(fast, part).y, getattr(careful, part).y)
    same(fast.scaler.shift, careful.scaler.shift)


def test_a_quoted_header_as_r_writes_it_takes_the_fast_reader(tmp_path, monkeypatch):
    careful, original = [], csv_file._load_careful
    monkeypatch.setattr(csv_file, "_load_careful", lambda *a: careful.append(a) or original(*a))
    rows = ['"x","the y","label"'] + [f"{i * 0.5},{i % 7},{'ab'[i % 2]}" for i in range(300)]
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n")
    ds = load_dataset({"name": "csv", "path": "r.csv", "target": "label"}, tmp_path)
    assert careful == []  # read by the fast reader
    assert ds.extra["feature_names"] == ["x", "the y"] and ds.class_names == ["a", "b"]
    monkeypatch.undo()
    from studio.data.catalog import info
    from studio.data.options import read_options

    opts = read_options("csv", info("csv").options, {"name": "csv", "path": "r.csv", "target": "label"})
    slow = csv_file._load_careful(opts, tmp_path / "r.csv", "r.csv")
    assert slow.extra == ds.extra and slow.class_names == ds.class_names
    same(slow.train.x, ds.train.x)
    # a header whose quote never closes is for the careful reader, which names it
    (tmp_path / "r.csv").write_text('"x,"y",label\n1,2,3\n')
    with pytest.raises(DataError, match=r"^r.csv line"):
        load_dataset({"name": "csv", "path": "r.csv"}, tmp_path)


def test_quoted_cells_load_and_bad_quoting_is_named_by_line(tmp_path, monkeypatch):
    careful, original = [], csv_file._load_careful
    monkeypatch.setattr(csv_file, "_load_careful", lambda *a: careful.append(a) or original(*a))
    rows = ["x,name,y"] + [f'{i},"{("Smith, J", "Doe, A", "Roe, B")[i % 3]}",{i % 2}' for i in range(300)]
    (tmp_path / "q.csv").write_text("\n".join(rows) + "\n")
    ds = load_dataset({"name": "csv", "path": "q.csv", "val_fraction": 0}, tmp_path)
    assert ds.extra["feature_names"] == ["x", "name=Doe, A", "name=Roe, B", "name=Smith, J"]
    assert careful == []  # read by the fast reader
    rows[280] = '280,"Doe, A" ,1'  # text after the closing quote: pandas would take it, csv does not
    (tmp_path / "q.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.undo()
    with pytest.raises(DataError, match=r"^q.csv line 281: ' ' follows a closing quote"):
        load_dataset({"name": "csv", "path": "q.csv"}, tmp_path)


# ---- NumPy files, mapped ------------------------------------------------------------------
def _mapped_file(t: torch.Tensor) -> str | None:
    """The file whose mapping holds the tensor's memory (Linux)."""
    address = t.data_ptr()
    with open("/proc/self/maps") as f:
        for line in f:
            span, *_, name = line.split(maxsplit=5) if len(line.split()) >= 6 else (line.split()[0], "")
            low, high = (int(v, 16) for v in span.split("-"))
            if low <= address < high:
                return name.strip()
    return None


def _resident() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="reads the process's memory map")
def test_a_npy_file_is_memory_mapped_not_read(tmp_path):
    x = np.arange(16_384 * 1024, dtype=np.float32).reshape(16_384, 1024)  # 64 MiB
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.arange(len(x)) % 3)
    del x
    before = _resident()
    ds = load_dataset({"name": "npz", "path": "x.npy", "y": "y.npy", "val_fraction": 0}, tmp_path)
    grown = _resident() - before
    assert _mapped_file(ds.train.x) == str(tmp_path / "x.npy")
    assert grown < 16 * 2**20, grown  # not the 64 MiB of the file
    assert "memory-mapped from x.npy" in ds.describe()
    assert ds.train.x.shape == (16_384, 1024) and ds.class_names == ["0", "1", "2"]
    batch = ds.train.x[torch.tensor([5, 16_000])]  # what the trainer does per step
    assert torch.equal(batch[1], torch.from_numpy(np.load(tmp_path / "x.npy")[16_000]))
    ds.train.x[0, 0] = 123.0  # copy on write: writable, and the file keeps its values
    assert np.load(tmp_path / "x.npy", mmap_mode="r")[0, 0] != 123.0


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="reads the process's memory map")
def test_uncompressed_npz_members_are_mapped_and_compressed_ones_read(tmp_path):
    x = np.arange(4000, dtype=np.float32).reshape(1000, 4)
    y = np.arange(1000) % 2
    np.savez(tmp_path / "s.npz", x=x, y=y)
    np.savez_compressed(tmp_path / "c.npz", x=x, y=y)
    stored = load_dataset({"name": "npz", "path": "s.npz", "val_fraction": 0}, tmp_path)
    packed = load_dataset({"name": "npz", "path": "c.npz", "val_fraction": 0}, tmp_path)
    assert _mapped_file(stored.train.x) == str(tmp_path / "s.npz")
    assert _mapped_file(packed.train.x) != str(tmp_path / "c.npz")
    assert torch.equal(stored.train.x, torch.from_numpy(x)) and torch.equal(stored.train.y, torch.from_numpy(y))
    assert torch.equal(packed.train.x.sort(dim=0).values, stored.train.x)


def test_a_mapped_array_with_a_nan_is_named_by_row(tmp_path):
    x = np.zeros((5000, 3), dtype=np.float32)
    x[4321, 2] = np.nan
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.zeros(5000, dtype=int))
    with pytest.raises(DataError, match=r"^x.npy: array 'x' holds nan at row 4321 \(index \[4321, 2\]\)"):
        load_dataset({"name": "npz", "path": "x.npy", "y": "y.npy"}, tmp_path)
    with pytest.raises(DataError, match=r"^training.dataset.y: x.npy holds one array, the features; name the "):
        load_dataset({"name": "npz", "path": "x.npy"}, tmp_path)


# ---- streaming from the cache ------------------------------------------------------------
def _parts_equal(streamed, held):
    for part in ("train", "val"):
        a, b = getattr(streamed, part), getattr(held, part)
        assert torch.allclose(a.x, b.x, rtol=1e-6, atol=1e-6) and a.x.dtype == b.x.dtype
        same(a.y, b.y)
    assert streamed.class_names == held.class_names and streamed.output_shape == held.output_shape


def test_a_streamed_csv_gives_the_tensors_the_in_memory_one_gives(tmp_path, monkeypatch, cache):
    table(tmp_path / "t.csv")
    spec = {"name": "csv", "path": "t.csv", "val_fraction": 0.2, "standardize": "zscore"}
    held = load_dataset(spec, tmp_path)
    monkeypatch.setattr(stream, "should_stream", lambda nbytes: True)
    streamed = load_dataset(spec, tmp_path)
    _parts_equal(streamed, held)
    assert torch.allclose(streamed.scaler.shift, held.scaler.shift) and streamed.extra["feature_names"] == \
        held.extra["feature_names"]
    assert "read from disk a batch at a time" in streamed.describe()
    assert "read from disk" not in held.describe()
    assert _mapped_file(streamed.train.x).startswith(str(cache))


def test_a_streamed_image_folder_and_npz_give_the_in_memory_tensors(tmp_path, monkeypatch, cache):
    rng = np.random.default_rng(1)
    for c in ("cat", "dog"):
        (tmp_path / "pets" / c).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(rng.integers(0, 255, (5, 7, 3), dtype=np.uint8)).save(tmp_path / "pets" / c / f"{i}.png")
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(50, 3)), y=np.arange(50) % 2)  # float64: converted
    specs = [{"name": "image_folder", "path": "pets", "channels": "rgb", "size": [4, 4], "standardize": "minmax"},
             {"name": "npz", "path": "d.npz", "val_fraction": 0.3}]
    held = [load_dataset(s, tmp_path) for s in specs]
    monkeypatch.setattr(stream, "should_stream", lambda nbytes: True)
    for spec, h in zip(specs, held):
        _parts_equal(load_dataset(spec, tmp_path), h)
    assert len(list(cache.iterdir())) == 2


def test_the_cache_is_used_again_and_replaced_when_the_file_changes(tmp_path, always_stream):
    path = table(tmp_path / "t.csv")
    spec = {"name": "csv", "path": "t.csv"}
    first = load_dataset(spec, tmp_path)
    entries = list(always_stream.iterdir())
    assert len(entries) == 1
    made = (entries[0] / "x.npy").stat().st_mtime_ns
    again = load_dataset(spec, tmp_path)
    assert (entries[0] / "x.npy").stat().st_mtime_ns == made and torch.equal(again.train.x, first.train.x)
    table(path, rows=310)
    os.utime(path, ns=(made + 10**9, made + 10**9))
    changed = load_dataset(spec, tmp_path)
    assert len(changed.train) + len(changed.val) == 310
    assert [e.name for e in always_stream.iterdir()] != [entries[0].name]
    assert len(list(always_stream.iterdir())) == 1  # the stale entry is gone


def test_progress_is_reported_while_a_file_is_read(tmp_path, monkeypatch, cache):
    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    table(tmp_path / "t.csv")
    heard = []
    load_dataset({"name": "csv", "path": "t.csv"}, tmp_path, progress=lambda *a: heard.append(a))
    assert heard[-1] == (1.0, 300, "rows")
    assert all(0 <= f <= 1 for f, _, _ in heard)
    (tmp_path / "pets" / "a").mkdir(parents=True)
    (tmp_path / "pets" / "b").mkdir(parents=True)
    for i in range(3):
        Image.new("L", (4, 4), i).save(tmp_path / "pets" / ("a", "b")[i % 2] / f"{i}.png")
    heard.clear()
    load_dataset({"name": "image_folder", "path": "pets"}, tmp_path, progress=lambda *a: heard.append(a))
    assert [(f, n, u) for f, n, u in heard if u == "files"] == [(1 / 3, 1, "files"), (2 / 3, 2, "files"),
                                                              (1.0, 3, "files"), (1.0, 3, "files")]


def test_a_npy_path_names_its_targets_file_among_the_paths_it_reaches():
    from studio.data import paths_in

    assert paths_in({"name": "npz", "path": "x.npy", "y": "../labels.npy"}) == [
        ("training.dataset.path", "x.npy"), ("training.dataset.y", "../labels.npy")]
    assert paths_in({"name": "npz", "path": "a.npz", "y": "y"}) == [("training.dataset.path", "a.npz")]


def test_a_load_without_a_listener_that_takes_long_says_how_far_it_is_on_stderr(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(progress, "QUIET_S", 0.0)
    monkeypatch.setattr(progress, "EVERY_S", 0.0)
    table(tmp_path / "t.csv")
    load_dataset({"name": "csv", "path": "t.csv"}, tmp_path)
    assert capsys.readouterr().err.splitlines()[-1] == "loading csv: 100% (300 rows)"
    monkeypatch.setattr(progress, "QUIET_S", 60.0)
    load_dataset({"name": "csv", "path": "t.csv"}, tmp_path)
    assert capsys.readouterr().err == ""  # a quick load is quiet


def test_a_set_larger_than_memory_and_than_the_free_disk_is_refused_naming_both(tmp_path, always_stream, monkeypatch):
    import shutil
    from collections import namedtuple

    table(tmp_path / "t.csv")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: usage(10**9, 10**9 - 10**6, 10**6))
    with pytest.raises(DataError, match=r"^t.csv: the data set is larger than memory and is read from a cache file "
                                        r"of 6.0 kB, but .+ has 1.0 MB free; free some disk or set STUDIO_CACHE_DIR"):
        load_dataset({"name": "csv", "path": "t.csv"}, tmp_path)
    assert not [p for p in always_stream.iterdir()]  # nothing half-written left behind


def test_the_trainer_learns_from_a_streamed_set_through_the_map(tmp_path, always_stream):
    from studio.files import load
    from studio.training import Trainer

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2))
    label = np.digitize(np.arctan2(x[:, 1], x[:, 0]), [-1.0, 1.0])  # three sectors, as the spiral net has
    lines = ["x0,x1,label"] + [f"{a:.5f},{b:.5f},{c}" for (a, b), c in zip(x, label)]
    (tmp_path / "p.csv").write_text("\n".join(lines) + "\n")
    spec = {"name": "csv", "path": "p.csv", "target": "label", "standardize": "zscore"}
    ds = load_dataset(spec, tmp_path)
    assert _mapped_file(ds.train.x).startswith(str(always_stream))
    graph = load(Path(__file__).resolve().parents[2] / "examples" / "spiral_mlp.json")
    graph.set_training({**graph.training, "dataset": spec, "epochs": 3, "batch_size": 32, "threads": 1,
                        "probes": {"every": 100, "grid": 8}})
    result = Trainer(graph, dataset=ds, base_dir=tmp_path).run()
    assert result.status == "finished" and result.best.val_acc > 0.9, result.message  # learnt from the map
    assert _mapped_file(ds.train.x).startswith(str(always_stream))


def test_a_cache_folder_that_cannot_be_made_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "should_stream", lambda nbytes: True)
    (tmp_path / "afile").write_text("not a folder")
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "afile"))
    table(tmp_path / "t.csv")
    with pytest.raises(DataError, match=r"^t.csv: cannot make the data cache folder .*afile/data .*set STUDIO_CACHE_DIR"):
        load_dataset({"name": "csv", "path": "t.csv"}, tmp_path)
