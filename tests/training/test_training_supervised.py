import numpy as np
import pytest
import torch

from studio.graph import Graph
from studio.training import EndEvent, EpochEvent, ProbeEvent, StepsEvent, Trainer

from training_graphs import chain, mlp, settings


def run(graph, **changes):
    events = []
    trainer = Trainer(graph, config=settings(**changes), callback=events.append)
    return trainer, trainer.run(), events


def test_spiral_classifier_learns(spiral_graph):
    _, result, _ = run(spiral_graph, epochs=25)
    assert result.status == "finished", result.message
    first, last = result.history[0], result.history[-1]
    assert last.train_loss < first.train_loss / 4
    assert last.val_acc >= 0.9 and last.train_acc >= 0.9
    assert result.best is not None and result.best.val_loss == min(e.val_loss for e in result.history)


def test_callback_sees_events_in_order(spiral_graph):
    _, result, events = run(spiral_graph, epochs=3, report_every=4,
                            probes={"enabled": True, "every": 1, "budget": 1.0})
    assert isinstance(events[-1], EndEvent) and sum(isinstance(e, EndEvent) for e in events) == 1
    assert events[-1].status == "finished" and events[-1].epochs == 3
    steps = [e for e in events if isinstance(e, StepsEvent)]
    spe = steps[0].steps_per_epoch
    assert spe == 8  # 240 training points, batches of 32
    # step reports tile the run with no gap or overlap, each at most report_every long
    assert [s.first_step for s in steps] == list(np.cumsum([0] + [len(s.losses) for s in steps[:-1]]))
    assert sum(len(s.losses) for s in steps) == 3 * spe == result.steps
    assert all(1 <= len(s.losses) <= 4 and len(s.lrs) == len(s.losses) for s in steps)
    # each epoch event comes after its own steps and before the next epoch's
    epoch_at = [i for i, e in enumerate(events) if isinstance(e, EpochEvent)]
    assert [events[i].epoch for i in epoch_at] == [1, 2, 3]
    for n, i in enumerate(epoch_at):
        before = [e for e in events[:i] if isinstance(e, StepsEvent)]
        assert sum(len(s.losses) for s in before) == (n + 1) * spe
        assert all(s.epoch == n + 1 for s in before[-1:])
    assert any(isinstance(e, ProbeEvent) for e in events)
    assert result.losses == [v for s in steps for v in s.losses]
    e1 = events[epoch_at[0]]
    assert e1.lr == 0.01 and e1.seconds > 0 and e1.samples_per_s > 0


def test_same_seed_same_losses_step_for_step():
    def losses(seed):
        return run(mlp(dropout=0.2), epochs=2, seed=seed)[1].losses

    a, b = losses(1), losses(1)
    assert len(a) == 16 and a == b
    assert losses(2) != a


def test_schedule_and_regularisation_reach_the_steps(spiral_graph):
    _, result, events = run(spiral_graph, epochs=3, weight_decay=1e-3, l1=1e-4, grad_clip=0.5,
                            optimizer={"name": "sgd", "lr": 0.2, "momentum": 0.9, "nesterov": True},
                            schedule={"name": "step", "step_size": 1, "gamma": 0.5})
    assert result.status == "finished", result.message
    lrs = [lr for e in events if isinstance(e, StepsEvent) for lr in e.lrs]
    assert lrs[:8] == [0.2] * 8 and lrs[8:16] == [0.1] * 8 and lrs[16:] == [0.05] * 8
    assert [e.lr for e in result.history] == [0.2, 0.1, 0.05]


def test_regression_on_a_sine_forecast():
    graph = chain(Graph("sine"),
                  ("Input", {"shape": [20, 1]}, "window"), ("Flatten", {}, "flat"),
                  ("Linear", {"out_features": 32}, "hidden"), ("Tanh", {}, "act"),
                  ("Linear", {"out_features": 1}, "next"))
    trainer, result, events = run(graph, epochs=8, dataset={"name": "sine", "samples": 300, "seed": 0},
                                  probes={"every": 1, "budget": 1.0})
    assert result.status == "finished", result.message
    assert trainer.task == "sequence" and trainer.recipe.objective.name == "mse"
    assert result.history[-1].train_loss < result.history[0].train_loss / 5
    assert result.history[-1].val_acc is None and result.history[-1].val_loss < 0.05
    probe = [e for e in events if isinstance(e, ProbeEvent)][-1]
    assert probe.samples["predicted"].shape == probe.samples["true"].shape == (1,)
    assert abs(float(probe.samples["predicted"][0] - probe.samples["true"][0])) < 0.5


def test_per_position_token_classes_learn():
    # reverse a sequence of 6 tokens: classes per position, cross entropy over [B, L, C]
    graph = chain(Graph("reverse"),
                  ("Input", {"shape": [6], "dtype": "long"}, "tokens"),
                  ("Embedding", {"num_embeddings": 5, "embedding_dim": 8}, "embed"),
                  ("Flatten", {}, "flat"), ("Linear", {"out_features": 64}, "hidden"), ("ReLU", {}, "act"),
                  ("Linear", {"out_features": 30}, "scores"), ("Reshape", {"shape": [6, 5]}, "per_position"))
    trainer, result, _ = run(graph, epochs=10, batch_size=64,
                             dataset={"name": "reverse", "samples": 800, "length": 6, "vocab": 5, "seed": 0})
    assert result.status == "finished", result.message
    assert trainer.recipe.objective.class_dim == -1
    assert result.history[-1].train_loss < result.history[0].train_loss / 2
    assert result.history[-1].val_acc > 0.6  # chance is 0.2


def test_early_stopping_restores_the_best_epoch(spiral_graph):
    kept = {}

    def grab(event):
        if isinstance(event, EpochEvent):
            net = trainer.networks["model"]
            kept[event.epoch] = {k: v.clone() for k, v in net.state_dict().items()}

    # min_delta so large that nothing after epoch 1 counts as better
    trainer = Trainer(spiral_graph, config=settings(
        epochs=10, early_stopping={"enabled": True, "patience": 2, "min_delta": 100.0}), callback=grab)
    result = trainer.run()
    assert result.status == "early_stopped" and result.epochs == 3
    assert "kept the weights of epoch 1" in result.message
    now = trainer.networks["model"].state_dict()
    assert all(np.array_equal(now[k].numpy(), kept[1][k].numpy()) for k in now)


def test_threads_are_restored_after_the_run(spiral_graph):
    import torch

    # a count of its own, not whatever another test module left behind
    outside = torch.get_num_threads()
    torch.set_num_threads(2)
    during = []
    try:
        Trainer(spiral_graph, config=settings(epochs=1, threads=1),
                callback=lambda event: during.append(torch.get_num_threads())).run()
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(outside)
    assert during[0] == 1  # the run itself used the count it was given
    assert after == 2


def test_data_too_large_for_the_device_streams_with_the_same_losses(spiral_graph, monkeypatch):
    from studio.training import supervised

    assert supervised.fits_on_device(10**12, torch.device("cpu"))  # host memory is the CPU's own
    resident = run(mlp(), epochs=2)
    monkeypatch.setattr(supervised, "fits_on_device", lambda nbytes, device: False)
    trainer, streamed, _ = run(mlp(), epochs=2)
    assert trainer.recipe.streaming and not resident[0].recipe.streaming
    assert streamed.losses == resident[1].losses
    assert [e.val_loss for e in streamed.history] == [e.val_loss for e in resident[1].history]
