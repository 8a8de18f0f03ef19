"""The function probe: a regression network's output over its 1-D input's range, and a line's w and b."""

import numpy as np
import pytest
import torch

from studio.graph import Graph
from studio.training import ProbeEvent, Trainer

from training_graphs import chain, settings

EVERY_STEP = {"enabled": True, "every": 1, "budget": 1.0, "grid": 16}
LINE = {"name": "function", "kind": "line", "points": 40, "val_fraction": 0.0}


def curves(graph, dataset, **changes):
    events = []
    trainer = Trainer(graph, config=settings(dataset=dataset, probes=EVERY_STEP, **changes), callback=events.append)
    assert trainer.run().status == "finished"
    return trainer, [e.function for e in events if isinstance(e, ProbeEvent) and e.function is not None]


def test_the_curve_is_the_networks_output_over_the_widened_range():
    graph = chain(Graph("fit"), ("Input", {"shape": [1]}, "x"), ("Linear", {"out_features": 8}, "hidden"),
                  ("Tanh", {}, "tanh"), ("Linear", {"out_features": 1}, "out"))
    trainer, found = curves(graph, {**LINE, "kind": "sine"}, epochs=2)
    last = found[-1]
    x = trainer.recipe.x[0]
    lo, hi = float(x.min()), float(x.max())
    assert last.xs[0] == pytest.approx(lo - 0.1 * (hi - lo), abs=1e-5)
    assert last.xs[-1] == pytest.approx(hi + 0.1 * (hi - lo), abs=1e-5)
    assert len(last.xs) == len(last.ys) == 64 and np.all(np.diff(last.xs) > 0)
    with torch.no_grad():
        expected = trainer.networks["model"](torch.as_tensor(last.xs)[:, None]).numpy()[:, 0]
    np.testing.assert_allclose(last.ys, expected, rtol=1e-5, atol=1e-6)  # the final probe: the final weights
    assert last.line is None  # a hidden layer: no straight line to write
    assert not np.allclose(found[0].ys, last.ys)  # it moved as the network learnt


def test_one_linear_gives_its_line_and_classification_no_curve():
    graph = chain(Graph("line"), ("Input", {"shape": [1]}, "x"), ("Linear", {"out_features": 1}, "line"))
    trainer, found = curves(graph, LINE, optimizer={"name": "sgd", "lr": 0.05}, batch_size=8, epochs=3)
    w, b = found[-1].line
    linear = trainer.networks["model"].submodule_of("line")
    assert (w, b) == pytest.approx((float(linear.weight.detach()), float(linear.bias.detach())))
    np.testing.assert_allclose(found[-1].ys, w * found[-1].xs + b, rtol=1e-5, atol=1e-5)
    assert len({f.line for f in found}) > 3  # w and b seen moving
    _, none = curves(chain(Graph("c"), ("Input", {"shape": [2]}, "x"), ("Linear", {"out_features": 3}, "o")),
                     {"name": "spiral", "points": 20}, epochs=1)
    assert none == []
