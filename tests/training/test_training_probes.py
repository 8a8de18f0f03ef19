"""Probes: activation statistics, gradient norms, decision boundary, feature maps."""

import numpy as np
import pytest
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


@pytest.fixture
def fake_time(monkeypatch):
    """One clock for the budget and for the views' wait, advanced by the steps and whole
    probes as set: ``costs.step`` seconds a step, ``costs.probe(cfg)`` a whole probe."""
    from studio.training import probe_budget, supervised

    class Costs:
        now = 0.0
        step = 0.001
        probe = staticmethod(lambda cfg: 0.010)

    costs = Costs()
    monkeypatch.setattr(probe_budget, "budget_clock", lambda device: lambda: costs.now)
    monkeypatch.setattr(probe_budget, "wall_clock", lambda: costs.now)
    real_step, real_probe = supervised.Supervised.step, supervised.Supervised.probe

    def step(self, i):
        costs.now += costs.step
        return real_step(self, i)

    def probe(self, cfg, *args):
        costs.now += costs.probe(cfg)
        return real_probe(self, cfg, *args)

    monkeypatch.setattr(supervised.Supervised, "step", step)
    monkeypatch.setattr(supervised.Supervised, "probe", probe)
    return costs


def test_probes_keep_to_their_time_budget(spiral_graph, fake_time):
    # every step costs 1 ms and every probe 10 ms, so a 10% budget allows about one probe per
    # 100 steps (the first probe comes at once); the run is over before the views wait 0.5 s
    trainer = make(spiral_graph, epochs=50, probes={"every": 1, "budget": 0.1})
    result = trainer.run()
    assert result.steps == 400
    probes = probes_of(trainer)
    steps = [p.step for p in probes]
    # probe k+1 runs once k+1 probes fit in 10% of the time so far: 10 ms * (k+1) <= 0.1 * (s + 10 k) ms,
    # so at step s = 100 (k+1) - 10 k: 190, 280, 370; then the final one, which is always taken
    assert len(steps) == 5 and steps[0] == 1 and steps[-1] == 400
    assert all(abs(s - (100 * (k + 1) - 10 * k)) <= 1 for k, s in enumerate(steps[1:-1], start=1))
    assert all(p.boundary.classes.shape == (64, 64) for p in probes)  # full detail, as afforded
    # and the final one in full whatever the budget: the run is over, and it is the picture people study
    # Between them, every step a whole probe did not fit sends the gradient norms alone.
    light = light_probes_of(trainer)
    assert {p.step for p in light} == set(range(2, 401)) - set(steps[:-1])
    assert all(p.grad_norms and p.boundary is None and not p.samples for p in light)
    assert set(light[0].grad_norms) == set(probes_of(trainer)[0].grad_norms)  # the same nodes


def test_gradient_only_probes_come_every_few_steps_when_whole_ones_do_not_fit(spiral_graph, fake_time):
    trainer = make(spiral_graph, epochs=4, probes={"every": 5, "budget": 1e-6})
    result = trainer.run()
    light = [p.step for p in light_probes_of(trainer)]
    # the first is always taken, and the last, on the final weights; none between fits (and the
    # run, 32 ms, is over before the views have waited 0.5 s)
    assert [p.step for p in probes_of(trainer)] == [1, 32]
    assert probes_of(trainer)[-1].boundary.classes.shape == (64, 64)  # the last look in full, budget or not
    assert light == list(range(6, result.steps + 1, 5))


def whole_probes_timed(trainer, costs) -> list[tuple[float, ProbeEvent]]:
    timed = []
    callback = trainer.callback

    def record(event):
        if isinstance(event, ProbeEvent) and event.activations:
            timed.append((costs.now, event))
        callback(event)

    trainer.callback = record
    return timed


def test_at_the_default_budget_a_whole_probe_comes_at_least_every_half_second(spiral_graph, fake_time):
    # 40 ms steps; a whole probe costs 20 ms at full detail, less on a coarser grid. The
    # default 2% budget affords a full one about every 1.5 s, so between them come cheaper ones.
    from studio.training.probe_budget import LIVE_S

    fake_time.step = 0.040
    fake_time.probe = lambda cfg: 0.020 * cfg.grid / 64
    trainer = make(spiral_graph, epochs=10, probes={"enabled": True})
    timed = whole_probes_timed(trainer, fake_time)
    result = trainer.run()
    assert result.status == "finished" and result.steps == 80
    times = [t for t, _ in timed]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) <= LIVE_S + fake_time.step + 0.020 + 1e-9, gaps
    assert len(timed) >= 6  # 3.2 s of steps
    probes = [p for _, p in timed]
    assert probes[-1].step == result.steps  # the final weights
    assert all(p.boundary is not None and p.activations for p in probes)  # cheaper, never absent
    grids = [p.boundary.classes.shape[0] for p in probes]
    assert grids[0] == 64 and min(grids) < 64, grids
    spent = sum(0.020 * g / 64 for g in grids)
    assert spent <= 0.05 * fake_time.now  # within a few per cent of the run


def test_slow_epochs_still_get_a_whole_probe_each(spiral_graph, fake_time):
    # a network whose cheapest probe costs 0.2 s against 0.3 s steps: twice a second would be
    # far over any budget, so the views get one look an epoch (and the final one)
    fake_time.step = 0.3
    fake_time.probe = lambda cfg: 0.2
    trainer = make(spiral_graph, epochs=5, probes={"enabled": True})
    timed = whole_probes_timed(trainer, fake_time)
    result = trainer.run()
    probes = [p for _, p in timed]
    assert {p.epoch for p in probes} == {1, 2, 3, 4, 5}
    assert probes[-1].step == result.steps
    assert len(probes) <= 8  # not one every step: 0.2 s of each 0.3 s
    assert 0.2 * len(probes) <= 0.15 * fake_time.now


def test_the_final_probe_is_never_dropped_at_the_default_budget(spiral_graph):
    for epochs in (1, 3):
        trainer = make(spiral_graph, epochs=epochs, probes={"enabled": True})
        result = trainer.run()
        last = probes_of(trainer)[-1]
        assert last.step == result.steps and last.epoch == epochs
        assert last.boundary is not None and last.activations


def test_a_stopped_run_ends_with_a_probe_of_its_last_step(spiral_graph):
    trainer = make(spiral_graph, epochs=50, probes={"enabled": True})
    callback = trainer.callback

    def stop_at_step_30(event):
        callback(event)
        if trainer.step >= 30:
            trainer.stop()

    trainer.callback = stop_at_step_30
    trainer.config.report_every = 1
    result = trainer.run()
    assert result.status == "stopped"
    assert probes_of(trainer)[-1].step == result.steps


def test_in_real_time_at_the_default_budget_the_views_never_wait_long(spiral_graph):
    import time

    trainer = make(spiral_graph, epochs=150, probes={"enabled": True})
    times = []
    callback = trainer.callback

    def record(event):
        if isinstance(event, ProbeEvent) and event.activations:
            times.append(time.perf_counter())
        callback(event)

    trainer.callback = record
    started = time.perf_counter()
    result = trainer.run()
    took = time.perf_counter() - started
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert probes_of(trainer)[-1].step == result.steps
    # at least twice a second (with room for a busy machine); the first comes at step 1
    assert len(times) >= took / 0.5 - 1 and sorted(gaps)[len(gaps) // 2] <= 0.55, gaps


def test_a_generous_budget_probes_every_few_steps_and_at_the_end(spiral_graph):
    trainer = make(spiral_graph, epochs=2, probes={"every": 5, "budget": 1.0})
    result = trainer.run()
    steps = [p.step for p in probes_of(trainer)]
    assert steps == [1, 6, 11, 16] and result.steps == 16


def test_probes_off_send_none(spiral_graph):
    trainer = make(spiral_graph, epochs=2, probes=False)
    trainer.run()
    assert [e for e in trainer.events if isinstance(e, ProbeEvent)] == []
