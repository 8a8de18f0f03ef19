"""Export files are written as one unit: a failed export leaves every existing file as it was
and no temporary file behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.export.outputs import write_files

ROOT = Path(__file__).resolve().parents[2]


def _write(text: str):
    return lambda tmp: tmp.write_text(text)


def _fail_after_writing(tmp: Path, exc: BaseException = OSError(28, "No space left on device")):
    tmp.write_text("half")
    raise exc


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failing_file_leaves_every_target_as_it_was(tmp_path, exc):
    source, weights = tmp_path / "model.py", tmp_path / "model.pt"
    source.write_text("old source")
    weights.write_text("old weights")
    with pytest.raises(type(exc)):
        write_files({source: _write("new source"), weights: lambda tmp: _fail_after_writing(tmp, exc)})
    assert source.read_text() == "old source" and weights.read_text() == "old weights"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt", "model.py"]


def test_written_files_replace_their_targets_and_keep_their_mode(tmp_path):
    source, fresh = tmp_path / "model.py", tmp_path / "new.py"
    source.write_text("old")
    source.chmod(0o640)
    assert write_files({source: _write("new"), fresh: _write("fresh")}) == [source, fresh]
    assert source.read_text() == "new" and fresh.read_text() == "fresh"
    assert source.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.py", "new.py"]


@pytest.mark.parametrize("graph, fmt, name", [("lenet5", "python", "model.py"), ("xor_perceptron", "program", "m.pt2")])
def test_export_that_cannot_finish_writing_leaves_the_old_file(tmp_path, graph, fmt, name):
    pytest.importorskip("resource")  # the file-size limit is POSIX
    # a file-size limit below the output's size: the write fails part way, as on a full disk
    out = tmp_path / name
    out.write_text("the user's own copy\n")
    args = ["export", str(ROOT / "examples" / f"{graph}.json"), "--format", fmt, "-o", name]
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (512, resource.RLIM_INFINITY))\n"
        "from studio.cli.main import main\n"
        f"sys.exit(main({args!r}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith(f"studio export: cannot write {name}: ") and "Traceback" not in run.stderr
    assert out.read_text() == "the user's own copy\n"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_programs_of_several_networks_are_written_all_or_none(tmp_path, capsys):
    noise, sample = tmp_path / "gan-noise.pt2", tmp_path / "gan-sample.pt2"
    noise.write_text("old program")
    sample.mkdir()  # the second program cannot be written
    assert main(["export", str(ROOT / "examples" / "gan_ring2d.json"), "--format", "program",
                 "-o", str(tmp_path / "gan.pt2")]) == 2
    assert capsys.readouterr().err.startswith("studio export: cannot write ")
    assert noise.read_text() == "old program"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gan-noise.pt2", "gan-sample.pt2"]


def _weights(tmp_path: Path) -> tuple[Path, Path, dict]:
    """The XOR example's graph file, a weights file for it as a run saves one, and its state."""
    from studio.compile import compile_graph
    from studio.files import load
    from studio.training.checkpoint import save_weights

    graph_file = ROOT / "examples" / "xor_perceptron.json"
    state = compile_graph(load(graph_file)).state_dict()
    return graph_file, save_weights(tmp_path / "run", {"x": state}), state


def test_source_and_weights_are_written_together(tmp_path, capsys):
    import torch

    graph_file, weights, state = _weights(tmp_path)
    source = tmp_path / "model.py"
    assert main(["export", str(graph_file), "--format", "python", "-o", str(source), "--weights", str(weights)]) == 0
    written = torch.load(tmp_path / "model.pt")
    assert list(written) == list(state) and all(torch.equal(written[k], v) for k, v in state.items())
    assert "GRAPH_NAME = 'XOR perceptron'" in source.read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_weights_that_would_overwrite_the_source_are_refused(tmp_path, capsys):
    graph_file, weights, _ = _weights(tmp_path)
    out = tmp_path / "model.pt"
    out.write_text("keep")
    assert main(["export", str(graph_file), "--format", "python", "-o", str(out), "--weights", str(weights)]) == 2
    assert "the weights would go to the same file (model.pt)" in capsys.readouterr().err
    assert out.read_text() == "keep"
