"""Checkpoints: weights in safetensors, state in a weights_only file; a resumed
run continues exactly where the saved one left off."""

import torch
from safetensors.torch import load_file

from studio.training import EpochEvent, Trainer
from studio.training.checkpoint import state_path

from training_graphs import mlp, settings

CONFIG = dict(epochs=4, schedule={"name": "cosine"}, optimizer={"name": "adamw", "lr": 0.01},
              weight_decay=0.01)


def weights(trainer):
    return {k: v.clone() for k, v in trainer.networks["model"].state_dict().items()}


def test_resume_continues_from_the_saved_epoch_with_identical_weights(tmp_path):
    graph_file = tmp_path / "spiral.json"
    straight = Trainer(mlp(dropout=0.3), config=settings(**CONFIG), graph_path=graph_file)
    whole = straight.run()
    assert whole.status == "finished"

    def stop_after_two(event):
        if isinstance(event, EpochEvent) and event.epoch == 2:
            first.stop()

    first = Trainer(mlp(dropout=0.3), config=settings(**CONFIG, checkpoint={"enabled": True}),
                    graph_path=graph_file, callback=stop_after_two)
    part = first.run()
    assert part.status == "stopped" and part.epochs == 2
    assert part.checkpoint == tmp_path / "spiral.safetensors" and part.checkpoint.exists()
    assert state_path(part.checkpoint) == tmp_path / "spiral.train.pt"

    second = Trainer(mlp(dropout=0.3), config=settings(**CONFIG), graph_path=graph_file,
                     resume_from=part.checkpoint)
    rest = second.run()
    assert rest.status == "finished" and rest.epochs == 4 and rest.steps == whole.steps
    assert [e.epoch for e in rest.history] == [3, 4]
    assert part.losses + rest.losses == whole.losses
    final, expected = weights(second), weights(straight)
    assert all(torch.equal(final[k], expected[k]) for k in expected)


def test_checkpoint_files_hold_only_tensors_and_plain_values(tmp_path):
    trainer = Trainer(mlp(), config=settings(epochs=2, checkpoint={"enabled": True, "path": "out/run"}),
                      base_dir=tmp_path)
    result = trainer.run()
    assert result.checkpoint == tmp_path / "out" / "run.safetensors"
    tensors = load_file(str(result.checkpoint))
    assert set(tensors) == {f"{n}.{p}" for n in ("hidden", "hidden2", "logits") for p in ("weight", "bias")}
    assert torch.equal(tensors["logits.bias"], trainer.networks["model"].logits.bias.detach())
    state = torch.load(tmp_path / "out" / "run.train.pt", weights_only=True)
    assert state["epoch"] == 2 and state["step"] == 16 and state["format"] == "studio-training-state"
    assert state["best"]["epoch"] in (1, 2)


def test_resuming_from_another_graph_names_the_missing_weights(tmp_path):
    saved = Trainer(mlp(), config=settings(epochs=1), base_dir=tmp_path)
    saved.run()
    path = saved.save_checkpoint(tmp_path / "small")
    other = Trainer(mlp(dropout=0.2, hidden=16), config=settings(epochs=2), resume_from=path)
    result = other.run()
    assert result.status == "failed"
    assert str(path) in result.message and "hidden.weight has shape [64, 2], the graph needs [16, 2]" in result.message


def test_a_run_already_at_its_last_epoch_has_nothing_to_do(tmp_path):
    saved = Trainer(mlp(), config=settings(epochs=2), base_dir=tmp_path)
    saved.run()
    path = saved.save_checkpoint()
    assert path == tmp_path / "mlp.safetensors"
    again = Trainer(mlp(), config=settings(epochs=2), resume_from=path).run()
    assert again.status == "finished" and again.steps == 16
    assert again.message == "already trained 2 of 2 epochs"
