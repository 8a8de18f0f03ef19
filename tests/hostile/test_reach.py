"""A graph file reaches its own folder and what the user granted, nothing else."""

import os
from pathlib import Path

import pytest

from studio.files.reach import OutsideFolder, Reach


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "graphs" / "data").mkdir(parents=True)
    (tmp_path / "graphs" / "data" / "a.csv").write_text("x\n1\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "b.csv").write_text("x\n1\n")
    return tmp_path


@pytest.mark.parametrize("written", ["data/a.csv", "./data/a.csv", "data/../data/a.csv", "new/sub/file"])
def test_paths_inside_the_folder_resolve(folder, written):
    reach = Reach.of(folder / "graphs")
    assert reach.resolve(written) == Path(os.path.realpath(folder / "graphs" / written))


@pytest.mark.parametrize("written", ["/etc/passwd", "../elsewhere/b.csv", "data/../../elsewhere/b.csv", "~/x.csv",
                                     "../../../../../../etc/passwd", "../graphs-evil/x"])
def test_paths_outside_are_refused_naming_the_path(folder, written):
    with pytest.raises(OutsideFolder) as err:
        Reach.of(folder / "graphs").resolve(written, "training.dataset.path")
    assert repr(written) in str(err.value) and "--allow-outside" in str(err.value)
    assert err.value.place == "training.dataset.path"


def test_a_link_that_points_out_is_outside(folder):
    (folder / "graphs" / "data" / "link").symlink_to(folder / "elsewhere")
    with pytest.raises(OutsideFolder):
        Reach.of(folder / "graphs").resolve("data/link/b.csv")


def test_a_granted_folder_or_file_is_reachable(folder):
    reach = Reach.of(folder / "graphs").grant(folder / "elsewhere")
    assert reach.resolve("../elsewhere/b.csv") == Path(os.path.realpath(folder / "elsewhere" / "b.csv"))
    only_file = Reach.of(folder / "graphs", [folder / "elsewhere" / "b.csv"])
    assert only_file.resolve(str(folder / "elsewhere" / "b.csv"))
    with pytest.raises(OutsideFolder):
        only_file.resolve("../elsewhere/c.csv")


def test_the_message_quotes_a_path_for_the_shell(folder):
    with pytest.raises(OutsideFolder) as err:
        Reach.of(folder / "graphs").resolve("/tmp/it's here")
    assert "--allow-outside '/tmp/it'\"'\"'s here'" in str(err.value)
