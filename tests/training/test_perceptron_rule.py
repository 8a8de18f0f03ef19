"""Rosenblatt's perceptron rule: its update, what it learns (AND, OR) and what it cannot (XOR)."""

from pathlib import Path

import pytest
import torch

from studio.files import load
from studio.graph import Graph
from studio.training import ConfigError, ProbeEvent, Trainer, TrainingConfig, TrainingSetupError
from studio.training.perceptron import rule_pass

from training_graphs import chain

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "perceptron_rule.json"


def test_the_update_is_the_formula_on_a_hand_example():
    weight, bias = torch.tensor([[0.5, -0.5]]), torch.tensor([0.0])
    x = torch.tensor([[1.0, 2.0],    # z = -0.5: y_hat 0, y 1 -> w + 0.1 x, b + 0.1
                      [1.0, 0.0],    # z = 0.6 + 0.1 = 0.7: y_hat 1, y 1 -> right, nothing moves
                      [0.0, 1.0]])   # z = -0.3 + 0.1 = -0.2: y_hat 0, y 0 -> right
    y = torch.tensor([1.0, 1.0, 0.0])
    mistakes = rule_pass(weight, bias, x, y, lr=0.1)
    assert float(mistakes) == 1
    assert weight[0].tolist() == pytest.approx([0.6, -0.3]) and bias.tolist() == pytest.approx([0.1])
    # a false positive moves the other way: w - lr x, b - lr
    mistakes = rule_pass(weight, bias, torch.tensor([[2.0, 0.0]]), torch.tensor([0.0]), lr=0.5)
    assert float(mistakes) == 1
    assert weight[0].tolist() == pytest.approx([-0.4, -0.3]) and bias.tolist() == pytest.approx([-0.4])


def train_gate(gate: str, probes=False):
    graph = load(EXAMPLE)
    events = []
    training = {**graph.training, "dataset": {"name": "gates", "gate": gate}, "probes": probes, "threads": 1}
    result = Trainer(graph, None, TrainingConfig.from_dict(training), callback=events.append).run()
    assert result.status == "finished", result.message
    return result, events


def test_the_rule_learns_and_and_or_and_never_xor():
    for gate in ("AND", "OR"):
        result, _ = train_gate(gate)
        last = result.history[-1]
        assert last.train_acc == 1.0 and last.train_loss == 0.0, gate  # no mistake in a whole epoch
    result, events = train_gate("XOR", probes={"enabled": True, "every": 1, "budget": 1.0, "grid": 16})
    assert len(result.history) == 30
    assert max(e.train_acc for e in result.history) <= 0.75  # no line gets all four corners
    assert min(e.train_loss for e in result.history) >= 0.25  # a mistake in every epoch: it never settles
    boundaries = [e.boundary for e in events if isinstance(e, ProbeEvent) and e.boundary is not None]
    assert len(boundaries) >= 2 and boundaries[-1].classes.shape == (16, 16)
    assert set(boundaries[-1].classes.ravel().tolist()) <= {0, 1}


def test_anything_but_one_linear_with_one_output_is_refused_by_name():
    settings = {"dataset": {"name": "gates"}, "optimizer": {"name": "perceptron", "lr": 0.1}, "threads": 1,
                "probes": False}
    hidden = chain(Graph("mlp"), ("Input", {"shape": [2]}, "x"), ("Linear", {"out_features": 4}, "h"),
                   ("ReLU", {}, "relu"), ("Linear", {"out_features": 1}, "out"))
    two = chain(Graph("two"), ("Input", {"shape": [2]}, "x"), ("Linear", {"out_features": 2}, "scores"))
    spiral = chain(Graph("s"), ("Input", {"shape": [2]}, "x"), ("Linear", {"out_features": 1}, "p"))
    for graph, data, words in ((hidden, "gates", "node 'relu' (ReLU) is more than that"),
                               (two, "gates", "scores has out_features 2. Set out_features to 1"),
                               (spiral, "spiral", "the last node p gives 1 outputs but 'spiral' has 3 classes")):
        trainer = Trainer(graph, config={**settings, "dataset": {"name": data, "points": 20} if data == "spiral"
                                         else {"name": data}})
        with pytest.raises(TrainingSetupError) as err:
            trainer.prepare()
        assert words in str(err.value)
    with pytest.raises(ConfigError, match="training.optimizer.name: the perceptron rule learns two classes"):
        TrainingConfig.from_dict({**settings, "task": "regression"})
    # a torchrun script trains by gradient: it is refused rather than written to fail on its first line
    from studio.export import ExportError
    from studio.export.torchrun import export_torchrun_script

    with pytest.raises(ExportError, match="perceptron rule trains in Studio"):
        export_torchrun_script(load(EXAMPLE))
