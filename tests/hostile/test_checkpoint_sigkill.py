"""A process killed (SIGKILL) while it saves checkpoints, at random moments and between the two
renames: every checkpoint left on disk resumes as one save (the last whole one, or the one the kill
cut short, finished), and the next save leaves no temporary file behind."""

import os
import random
import signal
import time

import pytest
import torch
from torch import nn

from studio.training import checkpoint as ckpt
from studio.training.checkpoint import CheckpointError, state_path, weights_path

ROUNDS = 8

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def network() -> dict[str, nn.Module]:
    # about 4 MB of weights and as much optimizer state: a save takes long enough to be cut in its middle
    return {"model": nn.Sequential(nn.Linear(2, 1000), nn.ReLU(), nn.Linear(1000, 1000), nn.Linear(1000, 3))}


def state_of(epoch: int) -> ckpt.TrainingState:
    """A training state with an optimizer's moments (taken on a network of its own)."""
    params = [p for net in network().values() for p in net.parameters()]
    opt = torch.optim.Adam(params)
    for p in params:
        p.grad = torch.full_like(p, 0.1)
    opt.step()
    return ckpt.TrainingState(epoch=epoch, step=epoch * 10, optimizers={"0": opt.state_dict()},
                              rng=ckpt.rng_state())


def set_epoch(nets, epoch: int) -> None:
    with torch.no_grad():  # every weight says which save it belongs to
        for net in nets.values():
            for p in net.parameters():
                p.fill_(float(epoch))


def saving_forever(path, first_epoch: int, nets, state) -> None:
    """The child: save epoch after epoch until killed."""
    torch.set_num_threads(1)
    epoch = first_epoch
    while True:
        set_epoch(nets, epoch)
        state.epoch, state.step = epoch, epoch * 10
        ckpt.save(path, nets, state)
        epoch += 1


def outcome(path) -> int:
    """The epoch of the save the checkpoint resumes as, its weights and state of that same save."""
    nets = network()
    state = ckpt.load(path, nets)  # a CheckpointError here is the failure
    values = {p.flatten()[0].item() for net in nets.values() for p in net.parameters()}
    assert values == {float(state.epoch)}, (values, state.epoch)
    return state.epoch


def test_a_save_killed_at_random_moments_never_leaves_a_silent_mix(tmp_path):
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    path = tmp_path / "run"
    nets = network()
    set_epoch(nets, 0)
    state = state_of(0)
    ckpt.save(path, nets, state)
    seen = []
    for round_ in range(ROUNDS):
        pid = os.fork()
        if pid == 0:  # never return into pytest from the child
            try:
                saving_forever(path, 1000 * (round_ + 1), nets, state)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        seen.append(outcome(path))
    # one more save, by a process that is not the one killed: a whole pair and no temporary file
    set_epoch(nets, 7)
    ckpt.save(path, nets, state_of(7))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.safetensors", "run.train.pt"], (seed, seen)
    assert outcome(path) == 7


def killed_between_the_renames(path, nets, epoch: int) -> None:
    """In a child: a save that dies (as if SIGKILLed) the moment its state is in place."""
    real = ckpt._commit

    def commit(tmp, target):
        if target == weights_path(path):
            os._exit(9)  # no cleanup, no finally: what a kill leaves
        real(tmp, target)

    pid = os.fork()
    if pid == 0:
        try:
            ckpt._commit = commit
            set_epoch(nets, epoch)
            ckpt.save(path, nets, state_of(epoch))
        finally:
            os._exit(0)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 9


def epoch_1_saved_and_epoch_2_cut(tmp_path):
    """A whole save of epoch 1, then a save of epoch 2 killed between its renames."""
    path = tmp_path / "run"
    nets = network()
    set_epoch(nets, 1)
    ckpt.save(path, nets, state_of(1))
    killed_between_the_renames(path, nets, 2)
    return path


def test_a_save_killed_between_its_two_renames_is_finished_when_resumed(tmp_path):
    path = epoch_1_saved_and_epoch_2_cut(tmp_path)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 3 and left[0].startswith(".run.safetensors.")  # the new weights, not yet renamed
    assert outcome(path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.safetensors", "run.train.pt"]


def test_the_first_save_killed_between_its_renames_is_finished_too(tmp_path):
    path = tmp_path / "run"
    killed_between_the_renames(path, network(), 3)
    assert not weights_path(path).exists() and state_path(path).exists()
    assert outcome(path) == 3


def test_a_stray_file_under_a_temporary_name_is_not_taken_for_the_weights(tmp_path):
    path = epoch_1_saved_and_epoch_2_cut(tmp_path)
    (cut,) = [p for p in tmp_path.iterdir() if p.name.startswith(".run.safetensors.")]
    cut.write_bytes(cut.read_bytes()[:-1] + b"x")  # not the bytes the state names
    with pytest.raises(CheckpointError, match="do not belong together"):
        ckpt.load(path, network())
    assert cut.exists() and weights_path(path).exists()
