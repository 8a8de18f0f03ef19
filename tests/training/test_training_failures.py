"""Runs that cannot start or cannot go on end with a message naming the place."""

import math

import pytest
import torch

from studio.data import load_dataset
from studio.graph import Graph
from studio.training import ConfigError, EndEvent, EpochEvent, Trainer, TrainingSetupError

from training_graphs import chain, mlp, settings


def test_exploding_learning_rate_stops_at_the_step_and_keeps_the_last_good_epoch(spiral_graph):
    kept = {}
    events = []

    def callback(event):
        events.append(event)
        if isinstance(event, EpochEvent):
            kept[event.epoch] = {k: v.clone() for k, v in trainer.networks["model"].state_dict().items()}

    # epoch 1 trains at 0.01; from epoch 2 the rate is 1, where a weight decay of 10 multiplies
    # every weight by -9 a step, and the loss overflows
    trainer = Trainer(spiral_graph, callback=callback, config=settings(
        epochs=4, optimizer={"name": "sgd", "lr": 0.01}, weight_decay=10,
        schedule={"name": "step", "step_size": 1, "gamma": 100}))
    result = trainer.run()
    assert result.status == "failed"
    assert list(kept) == [1]
    bad_step = len(result.losses) + 1
    assert bad_step > 8  # epoch 1 had 8 good steps
    assert f"at step {bad_step} (epoch 2)" in result.message
    assert "The weights of epoch 1 were kept" in result.message and "lower learning rate" in result.message
    assert all(math.isfinite(v) for v in result.losses)
    now = trainer.networks["model"].state_dict()
    assert all(torch.equal(now[k], kept[1][k]) for k in now)
    assert isinstance(events[-1], EndEvent) and events[-1].status == "failed" and events[-1].epochs == 1


def test_nan_in_the_data_names_the_step_and_keeps_the_starting_weights(spiral_graph):
    data = load_dataset({"name": "spiral", "points": 100, "seed": 0})
    data.train.inputs[0][17, 1] = float("nan")
    trainer = Trainer(spiral_graph, data, config=settings(epochs=3))
    trainer.prepare()
    start = {k: v.clone() for k, v in trainer.networks["model"].state_dict().items()}
    result = trainer.run()
    assert result.status == "failed" and result.epochs == 0
    assert f"the loss became nan at step {len(result.losses) + 1} (epoch 1)" in result.message
    assert "weights from before training were kept" in result.message
    now = trainer.networks["model"].state_dict()
    assert all(torch.equal(now[k], start[k]) for k in now)


def test_an_invalid_graph_is_refused_listing_its_nodes():
    graph = mlp()
    graph.add_node("Linear", {"out_features": 4}, id="loose")
    problems = Trainer(graph, config=settings()).check()
    assert [str(p) for p in problems] == ["loose.in: not connected"]
    result = Trainer(graph, config=settings()).run()
    assert result.status == "failed" and "the graph has problems" in result.message
    assert "loose.in: not connected" in result.message
    assert isinstance(result.error, TrainingSetupError)


def test_data_that_does_not_fit_names_the_node():
    graph = mlp(classes=5)
    result = Trainer(graph, config=settings()).run()
    assert result.status == "failed"
    assert "does not fit the graph" in result.message
    assert "logits" in result.message and "3 classes" in result.message


def test_one_score_for_two_classes_is_named_before_the_first_step():
    graph = mlp(classes=1)  # a yes/no score trained with cross entropy: torch would fail at step 1
    graph.set_training(settings(dataset={"name": "xor"}))
    result = Trainer(graph).run()
    assert result.status == "failed" and result.epochs == 0
    assert "logits" in result.message and "at least 2 scores" in result.message
    assert "bce_with_logits" in result.message


def test_task_that_contradicts_the_data():
    problems = Trainer(mlp(), config=settings(task="regression")).check()
    assert problems == ["training.task: regression does not match the data set 'spiral', which is a "
                        "classification set"]


def test_missing_data_set_and_bad_data_options():
    cfg = settings()
    del cfg["dataset"]
    assert Trainer(mlp(), config=cfg).check() == [
        'training.dataset: no data set is chosen (pick one, e.g. {"name": "spiral"})']
    problems = Trainer(mlp(), config=settings(dataset={"name": "spiral", "points": -3})).check()
    assert len(problems) == 1 and problems[0].startswith("training.dataset.points")


def test_a_bad_config_is_refused_when_the_trainer_is_made():
    with pytest.raises(ConfigError) as info:
        Trainer(mlp(), config=settings(batch_size=0, optimizer={"lr": -1}))
    assert info.value.problems == ["training.optimizer.lr: must be > 0, got -1",
                                   "training.batch_size: must be >= 1, got 0"]


def test_a_missing_device_is_named(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = Trainer(mlp(), config=settings(device="cuda")).run()
    assert result.status == "failed"
    assert "training.device: cuda was asked for, but this machine has no usable CUDA device" in result.message


def test_an_exception_inside_training_ends_the_run_not_the_caller(spiral_graph):
    seen = []

    def callback(event):
        seen.append(event)
        if isinstance(event, EpochEvent):
            raise ValueError("the receiver broke")

    result = Trainer(spiral_graph, config=settings(epochs=3), callback=callback).run()
    assert result.status == "failed" and isinstance(result.error, ValueError)
    assert result.message == "ValueError at step 9 (epoch 2): the receiver broke"
    assert "the receiver broke" in result.traceback
    assert isinstance(seen[-1], EndEvent) and seen[-1].status == "failed"


def test_out_of_memory_is_reported_with_the_batch_size(spiral_graph, monkeypatch):
    trainer = Trainer(spiral_graph, config=settings(epochs=2))
    trainer.prepare()
    start = {k: v.clone() for k, v in trainer.networks["model"].state_dict().items()}
    real_step = trainer.recipe.step
    calls = []

    def step(i):
        calls.append(i)
        if len(calls) == 3:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_step(i)

    monkeypatch.setattr(trainer.recipe, "step", step)
    result = trainer.run()
    assert result.status == "failed"
    assert result.message.startswith("out of memory at step 3 (epoch 1, batch_size 32)")
    now = trainer.networks["model"].state_dict()
    assert all(torch.equal(now[k], start[k]) for k in now)


def test_a_network_with_two_outputs_is_refused():
    graph = chain(Graph(), ("Input", {"shape": [2]}, "points"), ("Linear", {"out_features": 3}, "a"))
    graph.add_node("Linear", {"out_features": 3}, id="b")
    graph.connect("points", "out", "b", "in")
    problems = Trainer(graph, config=settings()).check()
    assert len(problems) == 1 and "2 outputs (a, b)" in str(problems[0])
