"""A data set's path reaches the graph's folder and what the user granted, and only regular files are read."""

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.data import DataError, DataOutsideFolder, load_dataset, paths_in
from studio.data.files.paths import open_regular
from studio.files.reach import OutsideFolder, Reach

LINES = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" * 3


@pytest.fixture
def graph_dir(tmp_path):
    """A graph's folder, and beside it a folder holding a secret (a copy standing in for /etc/passwd)."""
    (tmp_path / "graph").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "passwd").write_text(LINES)
    return tmp_path / "graph"


def text(path, length=4):
    return {"name": "text", "path": path, "length": length}


@pytest.mark.parametrize("written", ["/etc/passwd", "../outside/passwd", "~/passwd", "data/../../outside/passwd"])
def test_a_path_out_of_the_graph_folder_is_refused_before_reading(graph_dir, written):
    with pytest.raises(DataOutsideFolder) as err:
        load_dataset(text(written), graph_dir)
    message = str(err.value)
    assert message.startswith(f"training.dataset.path: {written!r} is outside the graph's folder")
    assert "--allow-outside" in message and "confirm" in message
    assert isinstance(err.value, DataError) and isinstance(err.value.outside, OutsideFolder)
    assert err.value.outside.place == "training.dataset.path" and err.value.outside.written == written


def test_the_absolute_path_of_a_file_outside_is_refused_and_loads_once_granted(graph_dir):
    secret = graph_dir.parent / "outside" / "passwd"
    with pytest.raises(DataOutsideFolder) as err:
        load_dataset(text(str(secret)), graph_dir)
    # The app asks about what was refused, then loads again with it granted.
    granted = Reach.of(graph_dir).grant(err.value.outside.resolved)
    ds = load_dataset(text(str(secret)), granted)
    assert ds.preview(1).rows[0].startswith("root")
    assert load_dataset(text("../outside/passwd"), Reach.of(graph_dir, [secret.parent])).name == "text"


def test_a_link_inside_the_folder_that_points_out_is_refused(graph_dir):
    (graph_dir / "data").symlink_to(graph_dir.parent / "outside")
    with pytest.raises(DataOutsideFolder, match=r"^training.dataset.path: 'data/passwd' is outside"):
        load_dataset(text("data/passwd"), graph_dir)


def test_inside_the_folder_paths_load_with_a_path_a_string_a_reach_or_none(graph_dir, monkeypatch):
    shutil.copy(graph_dir.parent / "outside" / "passwd", graph_dir / "notes.txt")
    for base in (graph_dir, str(graph_dir), Reach.of(graph_dir)):
        assert load_dataset(text("notes.txt"), base).extra["characters"] == len(LINES)
    monkeypatch.chdir(graph_dir)
    assert load_dataset(text("notes.txt"), None).extra["characters"] == len(LINES)
    with pytest.raises(DataOutsideFolder):
        load_dataset(text("../outside/passwd"), None)


def test_every_file_data_set_goes_through_the_reach(graph_dir):
    outside = graph_dir.parent / "outside"
    np.savez(outside / "a.npz", x=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]))
    (outside / "a.csv").write_text("a,y\n1,0\n2,1\n")
    (outside / "pets").mkdir()
    for spec in ({"name": "npz", "path": "../outside/a.npz"}, {"name": "csv", "path": "../outside/a.csv"},
                 {"name": "image_folder", "path": "../outside/pets"}):
        with pytest.raises(DataOutsideFolder):
            load_dataset(spec, graph_dir)


def make_pets(root, classes=("cat", "dog"), per_class=2):
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.new("L", (4, 4), 40 * i).save(root / name / f"{i}.png")


def test_an_image_that_links_out_of_the_folder_is_refused_naming_it(graph_dir):
    make_pets(graph_dir / "pets")
    outside = graph_dir.parent / "outside"
    Image.new("L", (4, 4), 255).save(outside / "secret.png")
    (graph_dir / "pets" / "dog" / "2.png").symlink_to(outside / "secret.png")
    with pytest.raises(DataOutsideFolder) as err:
        load_dataset({"name": "image_folder", "path": "pets"}, graph_dir)
    assert str(err.value).startswith(f"training.dataset.path: pets/dog/2.png links to {outside / 'secret.png'}, "
                                     "outside the graph's folder")
    assert err.value.outside.resolved == outside / "secret.png"
    granted = Reach.of(graph_dir).grant(err.value.outside.resolved)
    assert len(load_dataset({"name": "image_folder", "path": "pets", "val_fraction": 0}, granted).train) == 5


def test_a_class_folder_that_links_out_is_refused(graph_dir):
    make_pets(graph_dir / "pets")
    make_pets(graph_dir.parent / "outside" / "more", classes=("bird",))
    (graph_dir / "pets" / "bird").symlink_to(graph_dir.parent / "outside" / "more" / "bird")
    with pytest.raises(DataOutsideFolder, match=r"^training.dataset.path: pets/bird links to"):
        load_dataset({"name": "image_folder", "path": "pets"}, graph_dir)


def test_paths_in_lists_what_a_spec_reaches_without_loading():
    assert paths_in({"name": "text", "path": "/etc/passwd"}) == [("training.dataset.path", "/etc/passwd")]
    assert paths_in({"name": "csv", "path": "data/iris.csv"}) == [("training.dataset.path", "data/iris.csv")]
    assert paths_in({"name": "spiral"}) == [] and paths_in("iris") == [] and paths_in({"name": "csv"}) == []
    assert paths_in(None) == [] and paths_in({"name": "npz", "path": 3}) == []


# ---- files that are not regular files ------------------------------------------
fifo_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")


@fifo_only
@pytest.mark.timeout(10)
@pytest.mark.parametrize("name,spec", [
    ("pipe.csv", {"name": "csv"}), ("pipe.txt", {"name": "text"}), ("pipe.npz", {"name": "npz"}),
])
def test_a_fifo_is_refused_not_waited_on(tmp_path, name, spec):
    os.mkfifo(tmp_path / name)
    with pytest.raises(DataError) as err:
        load_dataset({**spec, "path": name}, tmp_path)
    assert str(err.value).startswith(f"training.dataset.path: {name!r} is a FIFO (named pipe), not a regular file")


@fifo_only
@pytest.mark.timeout(10)
def test_a_fifo_in_an_image_folder_is_refused_naming_it(tmp_path):
    make_pets(tmp_path / "pets")
    os.mkfifo(tmp_path / "pets" / "cat" / "9.png")
    with pytest.raises(DataError, match=r"^pets/cat/9.png: the file is a FIFO \(named pipe\), not a regular file"):
        load_dataset({"name": "image_folder", "path": "pets"}, tmp_path)


@fifo_only
@pytest.mark.timeout(10)
def test_a_fifo_swapped_in_after_the_check_is_refused_on_open(tmp_path):
    os.mkfifo(tmp_path / "late.csv")
    with pytest.raises(DataError, match=r"^late.csv: the file is a FIFO \(named pipe\), not a regular file"):
        open_regular(tmp_path / "late.csv", "late.csv")


@pytest.mark.skipif(not Path("/dev/zero").exists() or sys.platform == "win32", reason="no /dev/zero")
@pytest.mark.timeout(10)
def test_a_device_is_refused_even_when_granted(tmp_path):
    reach = Reach.of(tmp_path, ["/dev/zero"])
    with pytest.raises(DataError, match=r"^training.dataset.path: '/dev/zero' is a character device, not a regular"):
        load_dataset({"name": "text", "path": "/dev/zero"}, reach)
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    with pytest.raises(DataOutsideFolder):
        load_dataset({"name": "csv", "path": "zero.csv"}, tmp_path)


def test_a_folder_where_a_file_belongs_is_named(tmp_path):
    (tmp_path / "data.csv").mkdir()
    with pytest.raises(DataError, match=r"^training.dataset.path: 'data.csv' is a folder, not a regular file"):
        load_dataset({"name": "csv", "path": "data.csv"}, tmp_path)
