"""Training accuracy counted from the steps' own outputs: every sample of the epoch, no
extra forward pass, the same figure a person gets by counting with the weights of each step."""

import pytest
import torch

from studio.data import load_dataset
from studio.training import Trainer

from studio.graph import Graph

from training_graphs import chain, mlp, settings

# 900 points, 720 of them for training: more than the 512 an end-of-epoch sample would take
SPIRAL = {"name": "spiral", "classes": 3, "points": 300, "noise": 0.2, "val_fraction": 0.2, "seed": 0}


def frozen_run(graph, **changes):
    """Two epochs whose steps barely move the weights (lr 1e-9), with every forward pass counted."""
    config = settings(**{"dataset": SPIRAL, "optimizer": {"name": "sgd", "lr": 1e-9}, "batch_size": 64, "epochs": 2,
                         **changes})
    trainer = Trainer(graph, config=config)
    trainer.prepare()
    model = trainer.networks["model"]
    calls = []
    model.register_forward_hook(lambda module, args, out: calls.append(args[0].shape[0]))
    result = trainer.run()
    assert result.status == "finished", result.message
    return result, model, list(calls)


def test_train_acc_counts_every_training_sample_without_a_pass_of_its_own():
    result, model, calls = frozen_run(mlp())
    train = load_dataset(SPIRAL).train
    with torch.no_grad():
        right = int((model(train.x).argmax(1) == train.y).sum())
    for epoch in result.history:  # the weights hardly moved: the count over all 720 samples, not a subset's
        assert epoch.train_acc == pytest.approx(right / 720, abs=1.5 / 720)
    assert 0.2 < right / 720 < 0.8  # untrained: neither all right nor all wrong, so the count means something
    # each epoch: 12 training steps (11 of 64 samples and one of 16) and one validation pass of 180, nothing else
    assert calls == ([64] * 11 + [16] + [180]) * 2


def test_binary_outputs_count_a_positive_score_as_class_1():
    graph = chain(Graph("binary"), ("Input", {"shape": [2]}, "points"), ("Linear", {"out_features": 8}, "hidden"),
                  ("Tanh", {}, "tanh"), ("Linear", {"out_features": 1}, "logit"))
    spiral2 = {**SPIRAL, "classes": 2, "points": 450}
    result, model, _ = frozen_run(graph, dataset=spiral2, loss="bce_with_logits")
    train = load_dataset(spiral2).train
    with torch.no_grad():
        right = int(((model(train.x)[:, 0] > 0).long() == train.y).sum())
    assert result.history[-1].train_acc == pytest.approx(right / 720, abs=1.5 / 720)


def test_with_dropout_train_acc_is_the_steps_own_in_training_mode():
    # dropout 0.9 leaves a network that mostly guesses while it trains; evaluated it does better
    result, _, _ = frozen_run(mlp(dropout=0.9), optimizer={"name": "adam", "lr": 0.02}, epochs=6)
    last = result.history[-1]
    assert last.train_acc < last.val_acc - 0.05


def test_the_perceptron_rule_counts_the_mistakes_it_met():
    from pathlib import Path

    from studio.files import load

    graph = load(Path(__file__).resolve().parents[2] / "examples" / "perceptron_rule.json")
    training = {**graph.training, "dataset": {"name": "gates", "gate": "XOR"}, "epochs": 6, "probes": False,
                "threads": 1}
    result = Trainer(graph, config=training).run()
    assert result.status == "finished", result.message
    for epoch in result.history:  # its loss is the share it got wrong as it met each sample
        assert epoch.train_acc == pytest.approx(1.0 - epoch.train_loss)
    assert {e.train_acc for e in result.history} - {0.0, 0.25, 0.5, 0.75} == set()


def test_a_node_task_counts_its_training_nodes_in_its_one_step():
    from pathlib import Path

    from studio.files import load

    graph = load(Path(__file__).resolve().parents[2] / "examples" / "gcn_karate.json")
    trainer = Trainer(graph, config={**graph.training, "epochs": 3, "probes": False, "threads": 1},
                      base_dir=Path(__file__).resolve().parents[2] / "examples")
    trainer.prepare()
    model = trainer.networks["model"]
    seen = []
    model.register_forward_hook(lambda module, args, out: seen.append((module.training, out.detach().clone())))
    result = trainer.run()
    assert result.status == "finished", result.message
    assert [training for training, _ in seen] == [True, False] * 3  # per epoch: the step, then the validation pass
    r = trainer.recipe
    for epoch, (_, out) in zip(result.history, seen[::2]):  # the step's own outputs, before its update
        predicted = out.reshape(-1, r.classes)[r.train_idx].argmax(1)
        assert epoch.train_acc == float((predicted == r.y[r.train_idx]).float().mean())


def test_counting_a_step_at_a_time_gives_the_same_figure(monkeypatch):
    # Where an epoch's outputs would take too much memory to keep, each step writes its predictions
    # instead: the same count, epoch by epoch.
    from studio.training import supervised

    kept, _, _ = frozen_run(mlp(), epochs=3)
    monkeypatch.setattr(supervised, "KEEP_OUTPUTS_BYTES", 0)
    stepwise, _, _ = frozen_run(mlp(), epochs=3)
    assert [e.train_acc for e in stepwise.history] == [e.train_acc for e in kept.history]
    assert [e.val_acc for e in stepwise.history] == [e.val_acc for e in kept.history]


def test_an_output_that_views_a_larger_tensor_is_not_kept():
    # A two-layer LSTM's last state is a view into the states of both layers: keeping each step's
    # would keep twice its size alive, so its predictions are counted a step at a time.
    graph = chain(Graph("lstm"), ("Input", {"shape": [2]}, "points"), ("Reshape", {"shape": [2, 1]}, "seq"),
                  ("LSTM", {"hidden_size": 3, "num_layers": 2, "output": "last"}, "lstm"))
    trainer = Trainer(graph, config=settings(dataset=SPIRAL, epochs=2, batch_size=64))
    trainer.prepare()
    assert trainer.recipe.outputs is None and trainer.recipe.predictions is not None
    result = trainer.run()
    assert result.status == "finished", result.message
    assert all(0.0 <= e.train_acc <= 1.0 for e in result.history)
    one_layer = chain(Graph("lstm1"), ("Input", {"shape": [2]}, "points"), ("Reshape", {"shape": [2, 1]}, "seq"),
                      ("LSTM", {"hidden_size": 3, "num_layers": 1, "output": "last"}, "lstm"))
    trainer = Trainer(one_layer, config=settings(dataset=SPIRAL, epochs=1, batch_size=64))
    trainer.prepare()
    assert trainer.recipe.outputs is not None  # its last state is all of its states: kept
