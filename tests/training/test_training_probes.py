"""Probes: activation statistics, gradient norms, decision boundary, feature maps."""

import numpy as np
import torch

from studio.graph import Graph
from studio.training import ProbeEvent, Trainer

from training_graphs import chain, settings

EVERY_STEP = {"enabled": True, "every": 1, "budget": 1.0}


def probes_of(trainer) -> list[ProbeEvent]:
    """Whole probes (the gradient-only ones sent between them left out)."""
    return [e for e in trainer.events if isinstance(e, ProbeEvent) and e.activations]


def light_probes_of(trainer) -> list[ProbeEvent]:
    return [e for e in trainer.events if isinstance(e, ProbeEvent) and not e.activations]


def make(graph, **changes):
    events = []
    trainer = Trainer(graph, config=settings(**changes), callback=events.append)
    trainer.events = events
    return trainer


def dead_relu_graph() -> Graph:
    return chain(Graph("dead"), ("Input", {"shape": [2]}, "points"), ("Linear", {"out_features": 16}, "lin"),
                 ("ReLU", {}, "relu"), ("Linear", {"out_features": 3}, "logits"))


def test_a_large_negative_bias_kills_the_relu_and_its_gradients():
    trainer = make(dead_relu_graph(), epochs=1, probes=EVERY_STEP, optimizer={"name": "sgd", "lr": 1e-4})
    trainer.prepare()
    with torch.no_grad():
        trainer.networks["model"].submodule_of("lin").bias.fill_(-100.0)
    assert trainer.run().status == "finished"
    probe = probes_of(trainer)[0]
    relu, lin = probe.activations["relu"], probe.activations["lin"]
    assert relu.zero_fraction > 0.99 and relu.mean == 0.0 and relu.std == 0.0
    assert lin.zero_fraction == 0.0 and lin.mean < -90
    assert probe.activations["points"].zero_fraction < 0.05  # the input itself is shown too
    assert lin.hist_counts.sum() == 16 * 60  # every value of the 60 validation samples, binned
    assert len(lin.hist_edges) == len(lin.hist_counts) + 1 == 31
    assert lin.hist_edges[0] <= lin.mean <= lin.hist_edges[-1] < -90
    # nothing flows back through a dead ReLU: only the last layer learns
    assert probe.grad_norms["lin"] == 0.0 and probe.grad_norms["logits"] > 0.0
    assert set(probe.grad_norms) == {"lin", "logits"}


def test_live_relu_statistics_match_the_numbers():
    trainer = make(dead_relu_graph(), epochs=1, probes=EVERY_STEP)
    trainer.run()
    probe = probes_of(trainer)[0]
    net = trainer.networks["model"]
    # recompute the first probe's ReLU statistics by hand: after step 1 the weights moved, so use the last probe
    last = probes_of(trainer)[-1]
    with torch.no_grad():
        x = trainer.recipe.probe_x[0]
        out = torch.relu(net.lin(x))
    assert abs(last.activations["relu"].mean - out.mean().item()) < 1e-5
    assert abs(last.activations["relu"].std - out.std().item()) < 1e-5
    assert abs(last.activations["relu"].zero_fraction - (out == 0).float().mean().item()) < 1e-6
    assert 0.0 < probe.activations["relu"].zero_fraction < 1.0
    assert all(v > 0 for v in probe.grad_norms.values())


def test_decision_boundary_covers_the_data_and_agrees_with_the_network():
    graph = chain(Graph(), ("Input", {"shape": [2]}, "points"), ("Linear", {"out_features": 32}, "h"),
                  ("ReLU", {}, "a"), ("Linear", {"out_features": 3}, "logits"))
    trainer = make(graph, epochs=2, probes={"every": 1, "budget": 1.0, "grid": 20})
    trainer.run()
    grid = probes_of(trainer)[-1].boundary
    x = trainer.recipe.x[0]
    assert grid.xs.shape == (20,) and grid.ys.shape == (20,) and grid.classes.shape == (20, 20)
    assert grid.xs[0] < x[:, 0].min().item() and grid.xs[-1] > x[:, 0].max().item()
    assert set(np.unique(grid.classes)) <= {0, 1, 2}
    assert grid.confidence.min() >= 1 / 3 - 1e-6 and grid.confidence.max() <= 1.0
    with torch.no_grad():
        point = torch.tensor([[float(grid.xs[3]), float(grid.ys[7])]])
        assert int(trainer.networks["model"](point).argmax()) == grid.classes[7, 3]


def test_convolution_outputs_carry_one_samples_feature_maps():
    graph = chain(Graph("cnn"), ("Input", {"shape": [1, 8, 8]}, "image"),
                  ("Conv2d", {"out_channels": 4, "kernel_size": 3}, "conv"), ("ReLU", {}, "act"),
                  ("Flatten", {}, "flat"), ("Linear", {"out_features": 10}, "logits"))
    trainer = make(graph, epochs=1, batch_size=64, probes=EVERY_STEP, dataset={"name": "digits", "seed": 0})
    assert trainer.run().status == "finished"
    probe = probes_of(trainer)[0]
    assert probe.activations["conv"].feature_maps.shape == (4, 6, 6)
    assert probe.activations["act"].feature_maps.min() >= 0
    assert probe.activations["flat"].feature_maps is None
    assert probe.boundary is None  # not a 2-D input


def test_probes_keep_to_their_time_budget(spiral_graph, monkeypatch):
    # a fake clock: every step costs 1 ms and every probe 10 ms, so a 10% budget
    # allows about one probe per 100 steps (the first probe comes at once)
    import studio.training.trainer as trainer_module
    from studio.training import supervised

    now = [0.0]
    monkeypatch.setattr(trainer_module, "_budget_clock", lambda device: lambda: now[0])
    real_step, real_probe = supervised.Supervised.step, supervised.Supervised.probe

    def step(self, i):
        now[0] += 0.001
        return real_step(self, i)

    def probe(self, *args):
        now[0] += 0.010
        return real_probe(self, *args)

    monkeypatch.setattr(supervised.Supervised, "step", step)
    monkeypatch.setattr(supervised.Supervised, "probe", probe)
    trainer = make(spiral_graph, epochs=50, probes={"every": 1, "budget": 0.1})
    result = trainer.run()
    assert result.steps == 400
    steps = [p.step for p in probes_of(trainer)]
    # probe k+1 runs once k+1 probes fit in 10% of the time so far: 10 ms * (k+1) <= 0.1 * (s + 10 k) ms,
    # so at step s = 100 (k+1) - 10 k: 190, 280, 370; one more at the end would not fit
    assert len(steps) == 4 and steps[0] == 1
    assert all(abs(s - (100 * (k + 1) - 10 * k)) <= 1 for k, s in enumerate(steps[1:], start=1))
    # Between them, every step a whole probe did not fit sends the gradient norms alone.
    light = light_probes_of(trainer)
    assert {p.step for p in light} == set(range(2, 401)) - set(steps)
    assert all(p.grad_norms and p.boundary is None and not p.samples for p in light)
    assert set(light[0].grad_norms) == set(probes_of(trainer)[0].grad_norms)  # the same nodes


def test_gradient_only_probes_come_every_few_steps_when_whole_ones_do_not_fit(spiral_graph):
    trainer = make(spiral_graph, epochs=4, probes={"every": 5, "budget": 1e-6})
    result = trainer.run()
    light = [p.step for p in light_probes_of(trainer)]
    assert [p.step for p in probes_of(trainer)] == [1]  # the first is always taken; the rest do not fit
    assert light == list(range(6, result.steps + 1, 5))


def test_a_generous_budget_probes_every_few_steps_and_at_the_end(spiral_graph):
    trainer = make(spiral_graph, epochs=2, probes={"every": 5, "budget": 1.0})
    result = trainer.run()
    steps = [p.step for p in probes_of(trainer)]
    assert steps == [1, 6, 11, 16] and result.steps == 16


def test_probes_off_send_none(spiral_graph):
    trainer = make(spiral_graph, epochs=2, probes=False)
    trainer.run()
    assert [e for e in trainer.events if isinstance(e, ProbeEvent)] == []
