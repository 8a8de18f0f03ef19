"""Checkpoint files that are damaged, crafted or from two different saves: resuming refuses each
with a message naming the file and the key, never a bare KeyError, never a pickle loaded."""

import hashlib
import io
import os
import pickle
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from studio.cli.main import main
from studio.files import save as save_graph
from studio.graph import Graph
from studio.training import Trainer
from studio.training import checkpoint as ckpt
from studio.training.checkpoint import CheckpointError, state_path, weights_path


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def tiny_graph(hidden: int = 8, classes: int = 3) -> Graph:
    graph = Graph("tiny")
    graph.add_node("Input", {"shape": [2]}, (0, 0), "points")
    graph.add_node("Linear", {"out_features": hidden}, (200, 0), "hidden")
    graph.add_node("ReLU", {}, (400, 0), "relu")
    graph.add_node("Linear", {"out_features": classes}, (600, 0), "logits")
    graph.connect("points", "out", "hidden", "in")
    graph.connect("hidden", "out", "relu", "in")
    graph.connect("relu", "out", "logits", "in")
    graph.set_training({"dataset": {"name": "spiral", "points": 20, "seed": 0}, "epochs": 3, "threads": 1,
                        "device": "cpu", "probes": False, "optimizer": {"name": "adam", "lr": 0.01}})
    return graph


def saved_after(tmp_path, epochs: int, name: str = "run", graph: Graph | None = None):
    """A checkpoint saved by a real run after ``epochs`` epochs."""
    trainer = Trainer(graph or tiny_graph(), config={**tiny_graph().training, "epochs": epochs}, base_dir=tmp_path)
    assert trainer.run().status == "finished"
    return trainer.save_checkpoint(tmp_path / name)


def resume(path, graph: Graph | None = None):
    return Trainer(graph or tiny_graph(), resume_from=path).run()


def rewrite_state(path, change):
    s = state_path(path)
    payload = torch.load(s, weights_only=True)
    change(payload)
    torch.save(payload, s)


# ---- one unit: epoch N+1 weights beside epoch N state -------------------------------------

def test_weights_of_a_later_save_beside_an_earlier_state_are_refused_naming_both(tmp_path):
    one = saved_after(tmp_path, 1, "one")
    two = saved_after(tmp_path, 2, "two")
    # one file copied over from another save: epoch 2's weights beside epoch 1's state
    shutil.copyfile(two, one)
    result = resume(one)
    assert result.status == "failed"
    assert f"{one} and {state_path(one)} do not belong together" in result.message
    assert "the training state is of epoch 1" in result.message and "weights of epoch 2" in result.message
    assert result.steps == 0


def test_studio_train_resume_refuses_the_mixed_pair(tmp_path, capsys):
    one = saved_after(tmp_path, 1, "one")
    shutil.copyfile(saved_after(tmp_path, 2, "two"), one)
    graph_file = tmp_path / "tiny.json"
    save_graph(tiny_graph(), graph_file)
    code = main(["train", str(graph_file), "--resume", str(one)])
    err = capsys.readouterr().err
    assert code == 1
    assert "cannot resume from the checkpoint" in err and "do not belong together" in err
    assert "Traceback" not in err


def test_a_consistent_pair_resumes(tmp_path):
    path = saved_after(tmp_path, 1)
    result = resume(path)
    assert result.status == "finished" and result.epochs == 3
    assert load_file(str(path))  # a plain safetensors file still: studio export --weights reads it
    assert ckpt.read_weights(path, path.read_bytes())[1] == {"format": "studio-weights", "epoch": "1", "step": "2"}


def test_weights_saved_alone_over_a_checkpoint_are_not_mixed_with_its_state(tmp_path):
    path = saved_after(tmp_path, 1)
    ckpt.save_weights(path, {"model": {k: torch.zeros_like(v) for k, v in load_file(str(path)).items()}})
    result = resume(path)
    assert result.status == "failed" and "weights saved apart from it" in result.message


def test_a_state_from_before_the_weights_were_recorded_is_refused(tmp_path):
    path = saved_after(tmp_path, 1)
    rewrite_state(path, lambda p: (p.update(version=1), p.pop("weights")))
    result = resume(path)
    assert result.status == "failed" and "older Studio" in result.message and str(state_path(path)) in result.message


# ---- temporary files ---------------------------------------------------------------------

def test_the_next_save_removes_what_a_killed_save_left_and_only_that(tmp_path):
    path = saved_after(tmp_path, 1)
    gone_pid = 2**22 + 12345  # above any pid_max: no such process
    stale = [tmp_path / f".run.safetensors.{gone_pid}.tmp", tmp_path / f".run.train.pt.{gone_pid}.tmp",
             tmp_path / ".run.safetensors.tmp"]
    kept = [tmp_path / ".run.safetensors.notes.tmp", tmp_path / f".run.safetensors.{os.getppid()}.tmp",
            tmp_path / "run.safetensors.bak"]
    for p in stale + kept:
        p.write_bytes(b"half a file")
    trainer = Trainer(tiny_graph(), config={**tiny_graph().training, "epochs": 1}, base_dir=tmp_path)
    trainer.run()
    trainer.save_checkpoint(path)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)
    assert resume(path).status == "finished"


def test_a_link_placed_under_our_temporary_name_is_not_written_through(tmp_path):
    path = saved_after(tmp_path, 1)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / f".run.safetensors.{os.getpid()}.tmp").symlink_to(victim)
    saved_after(tmp_path, 1)
    assert victim.read_text() == "precious"
    assert resume(path).status == "finished"


# ---- the training state: every key checked ------------------------------------------------

@pytest.mark.parametrize("change, words", [
    (lambda p: p.pop("epoch"), "epoch: missing (must be a whole number >= 0)"),
    (lambda p: p.pop("step"), "step: missing"),
    (lambda p: p.pop("optimizers"), "optimizers: missing"),
    (lambda p: p.pop("weights"), "weights: missing"),
    (lambda p: p.update(epoch="3"), "epoch: must be a whole number >= 0, got '3'"),
    (lambda p: p.update(epoch=-1), "epoch: must be a whole number >= 0, got -1"),
    (lambda p: p.update(step=True), "step: must be a whole number >= 0, got true"),
    (lambda p: p.update(step=1.5), "step: must be a whole number >= 0, got 1.5"),
    (lambda p: p.update(optimizers=[1]), "optimizers: must be an object, got a list"),
    (lambda p: p["optimizers"]["0"].pop("param_groups"), "optimizers.0.param_groups: missing"),
    (lambda p: p["optimizers"]["0"].update(state=[]), "optimizers.0.state: must be an object, got a list"),
    (lambda p: p["optimizers"]["0"]["param_groups"][0].update(params="all"),
     "optimizers.0.param_groups[0].params: must be a list of whole numbers, got 'all'"),
    (lambda p: p.update(rng={"cpu": torch.zeros(3)}), "rng.cpu: must be the CPU generator's state"),
    (lambda p: p.update(rng=7), "rng: must be an object or null, got 7"),
    (lambda p: p.update(scaler=[]), "scaler: must be an object of objects or null"),
    (lambda p: p.update(best="yes"), "best: must be an object or null, got 'yes'"),
    (lambda p: p["weights"].update(sha256="abc"), "weights.sha256: must be a SHA-256 digest"),
    (lambda p: p.update(version="2"), "version: must be a whole number, got '2'"),
    (lambda p: p.update(version=99), "written by a newer version (format 99"),
    (lambda p: p.update(format="other"), "not a studio training state"),
])
def test_a_state_with_a_missing_key_or_a_wrong_type_names_the_file_and_the_key(tmp_path, change, words):
    path = saved_after(tmp_path, 1)
    rewrite_state(path, change)
    result = resume(path)
    assert result.status == "failed"
    assert f"{state_path(path)}: {words}" in result.message or (
        str(state_path(path)) in result.message and words in result.message), result.message
    assert "KeyError" not in result.message and "Traceback" not in result.message
    with pytest.raises(CheckpointError):
        ckpt.load_state(path)


def test_an_optimizer_state_that_does_not_fit_the_run_is_named(tmp_path):
    path = saved_after(tmp_path, 1)
    rewrite_state(path, lambda p: p["optimizers"]["0"]["state"][0].update(exp_avg=torch.zeros(5)))
    result = resume(path)
    assert result.status == "failed"
    assert f"{state_path(path)}: optimizers.0: state.0.exp_avg has shape [5], its parameter [8, 2]" in result.message
    rewrite_state(path, lambda p: p["optimizers"]["0"]["param_groups"][0].update(params=[0]))
    result = resume(path)
    assert result.status == "failed" and "optimizers.0: does not fit this run's optimizer" in result.message
    rewrite_state(path, lambda p: p.update(optimizers={"0": p["optimizers"]["0"], "1": p["optimizers"]["0"]}))
    assert "holds 2 optimizer(s)" in resume(path).message


def test_a_rng_state_of_the_wrong_size_is_named(tmp_path):
    path = saved_after(tmp_path, 1)
    rewrite_state(path, lambda p: p.update(rng={"cpu": torch.zeros(3, dtype=torch.uint8)}))
    result = resume(path)
    assert result.status == "failed" and f"{state_path(path)}: rng: not a random generator's state" in result.message


@pytest.mark.parametrize("content", [
    b'{"format": "studio-training-state", "epoch": 1}', b"", b"\x00" * 100, os.urandom(2000),
])
def test_a_state_file_that_is_not_one_is_refused(tmp_path, content):
    path = saved_after(tmp_path, 1)
    state_path(path).write_bytes(content)
    result = resume(path)
    assert result.status == "failed"
    assert f"{state_path(path)}: not a readable training state" in result.message


class Boom:
    """A pickle that would create a file when loaded."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickled_state_never_runs(tmp_path):
    path = saved_after(tmp_path, 1)
    marker = tmp_path / "ran"
    buffer = io.BytesIO()
    torch.save({"format": "studio-training-state", "version": 2, "boom": Boom(marker)}, buffer)
    state_path(path).write_bytes(buffer.getvalue())
    result = resume(path)
    assert result.status == "failed" and "not a readable training state" in result.message
    assert not marker.exists()


# ---- the weights file --------------------------------------------------------------------

@pytest.mark.parametrize("how", ["pickle", "torch"])
def test_a_weights_file_holding_a_pickle_is_refused_and_never_loaded(tmp_path, how):
    marker = tmp_path / "ran"
    path = saved_after(tmp_path, 1, "evil")  # a real training state beside it
    if how == "pickle":
        path.write_bytes(pickle.dumps({"hidden.weight": Boom(marker)}))
    else:
        torch.save({"hidden.weight": Boom(marker)}, path)
    for attempt in (lambda: resume(path).message, lambda: _export_load(path)):
        message = attempt()
        assert f"{path}: holds a" in message and "never loads pickles" in message
    assert not marker.exists()


def _export_load(path):
    from studio.training.model import compile_single

    with pytest.raises(CheckpointError) as info:
        ckpt.load_weights(path, {"model": compile_single(tiny_graph())})
    return str(info.value)


def test_truncated_weights_are_refused(tmp_path):
    path = saved_after(tmp_path, 1)
    data = path.read_bytes()
    for cut in (len(data) // 2, 40, 5):
        path.write_bytes(data[:cut])
        message = resume(path).message
        assert str(path) in message and ("not a complete safetensors file" in message
                                         or "not a safetensors file" in message
                                         or "not a readable safetensors file" in message), message


def test_weights_that_are_not_a_regular_file_are_refused(tmp_path):
    path = saved_after(tmp_path, 1)
    path.unlink()
    path.mkdir()
    assert "not a regular file" in resume(path).message
    path.rmdir()
    os.mkfifo(path)  # reading it would wait forever
    assert "not a regular file" in resume(path).message
    path.unlink()
    path = saved_after(tmp_path, 1, "again")
    state_path(path).unlink()
    os.mkfifo(state_path(path))
    message = resume(path).message
    assert f"{state_path(path)}: not a regular file" in message


def test_weights_for_another_graph_name_what_is_missing_extra_or_misshaped(tmp_path):
    path = saved_after(tmp_path, 1)
    good = load_file(str(path))

    def refused(tensors):
        save_file(tensors, str(path), metadata={"format": "studio-weights"})
        with pytest.raises(CheckpointError) as info:
            from studio.training.model import compile_single

            ckpt.load_weights(path, {"model": compile_single(tiny_graph())})
        return str(info.value)

    assert "no weights for logits.bias" in refused({k: v for k, v in good.items() if k != "logits.bias"})
    assert "has no place for: extra.weight" in refused({**good, "extra.weight": torch.zeros(2)})
    assert "hidden.weight has shape [4, 2], the graph needs [8, 2]" in refused({**good, "hidden.weight": torch.zeros(4, 2)})
    assert "hidden.bias holds int64 values, the graph needs float32" in refused(
        {**good, "hidden.bias": torch.zeros(8, dtype=torch.int64)})
    # and through a resume, the pair's own check comes first, then the graph's
    other = saved_after(tmp_path, 1, "wide", tiny_graph(hidden=16))
    message = resume(other).message
    assert "hidden.weight has shape [16, 2], the graph needs [8, 2]" in message


def test_the_digest_is_of_the_file_on_disk(tmp_path):
    path = saved_after(tmp_path, 1)
    state = ckpt.load_state(path)
    assert state.weights_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert weights_path(state_path(path)) == path


@pytest.mark.parametrize("header", [640, 896, 1152, 1408])
def test_safetensors_whose_header_length_begins_like_a_pickle_are_read(tmp_path, header):
    """A header of 640 bytes is written 80 02 00 ..., the first bytes of a pickle: the JSON
    header that follows says what the file is."""
    from safetensors.torch import save

    tensors = {"hidden.weight": torch.ones(2, 3)}
    for pad in range(2000):
        data = save(tensors, metadata={"pad": "x" * pad})
        if int.from_bytes(data[:8], "little") == header:
            break
    else:
        raise AssertionError(f"no padding gives a {header}-byte header")
    assert data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
    path = tmp_path / "w.safetensors"
    path.write_bytes(data)
    read, _ = ckpt.read_weights(path, data)
    assert torch.equal(read["hidden.weight"], tensors["hidden.weight"])


def test_a_text_file_named_as_weights_is_called_text_not_a_truncated_file(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_text("epoch,loss\n1,0.5\n")
    with pytest.raises(CheckpointError) as info:
        ckpt.read_weights(path, path.read_bytes())
    assert str(info.value) == f"{path}: a text file ('epoch,loss 1,0.5'…), not trained weights (a .safetensors file)"
