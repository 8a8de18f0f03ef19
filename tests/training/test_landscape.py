"""The loss surface and the optimizers' paths over it, on a straight line's data and a small MLP."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from training_graphs import mlp, settings

from studio.doctor.run_setup import prepare
from studio.files import load
from studio.graph import Graph
from studio.training.landscape import OPTIMIZERS, Landscape

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "linear_regression.json"


def landscape_of(graph: Graph, base_dir=None) -> tuple[Landscape, object]:
    prepared = prepare(graph, base_dir)
    batch = prepared.batch(512)
    return Landscape(prepared.model, batch.inputs, batch.targets, prepared.loss, seed=0), batch


@pytest.fixture(scope="module")
def line():
    """The example's straight line y = 2 x + 1 with x in [1, 4], not centred: a long narrow valley of (w, b)."""
    torch.set_num_threads(1)
    return landscape_of(load(EXAMPLE), EXAMPLE.parent)


def test_two_parameters_are_the_axes_and_the_surface_is_their_loss(line):
    land, batch = line
    assert land.two_scalars and land.axes == ("line.weight", "line.bias")
    w, b = land.start
    surface = land.surface((w - 1, w + 1, b - 2, b + 2), size=24)
    assert surface.losses.shape == (24, 24)
    x, y = batch.inputs[0].double(), batch.targets.double()
    i, j = 5, 17  # row i is the bias ys[i], column j the weight xs[j]
    direct = torch.mean((surface.xs[j] * x + surface.ys[i] - y) ** 2)
    assert surface.losses[i, j] == pytest.approx(float(direct), rel=1e-9)


def test_sgd_diverges_at_lr_1_and_converges_at_0_05_and_names_it(line):
    land, _ = line
    fast = land.paths(1.0, steps=100, names=["SGD"])["SGD"]
    assert fast.diverged_at is not None and fast.diverged_at < 20
    assert fast.describe() == f"diverged at step {fast.diverged_at}"
    slow = land.paths(0.05, steps=100, names=["SGD"])["SGD"]
    assert slow.diverged_at is None and slow.steps == 100
    assert slow.final_loss < 0.01 * slow.losses[0]
    assert slow.describe().startswith("loss ") and slow.describe().endswith("after 100 steps")


def test_momentum_overshoots_along_the_valley_and_ends_nearer_than_sgd(line):
    land, batch = line
    x = batch.inputs[0].double().reshape(-1)
    design = torch.stack([x, torch.ones_like(x)], dim=1)
    best = torch.linalg.lstsq(design, batch.targets.double()).solution.reshape(-1).numpy()
    hessian = (2 / len(x) * design.T @ design).numpy()
    _, vectors = np.linalg.eigh(hessian)
    along = vectors[:, 0]  # the flattest direction: the valley's long axis
    paths = land.paths(0.05, steps=100, names=["SGD", "Momentum"])
    side = {n: (p.points - best) @ along for n, p in paths.items()}
    start_side = np.sign(side["SGD"][0])
    assert (np.sign(side["SGD"]) == start_side).all()  # plain SGD creeps up from one side
    assert (np.sign(side["Momentum"]) == -start_side).any()  # momentum runs past the minimum
    gap = {n: np.linalg.norm(p.points[-1] - best) for n, p in paths.items()}
    assert gap["Momentum"] < gap["SGD"]


def test_the_paths_are_torch_optim_on_the_same_loss(line):
    land, batch = line
    x, y = batch.inputs[0].double(), batch.targets.double()
    paths = land.paths(0.05, steps=30)
    assert list(paths) == list(OPTIMIZERS)
    makers = {"SGD": lambda p: torch.optim.SGD(p, lr=0.05),
              "Momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
              "Nesterov": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
              "RMSprop": lambda p: torch.optim.RMSprop(p, lr=0.05),
              "Adam": lambda p: torch.optim.Adam(p, lr=0.05)}
    for name, make in makers.items():
        wb = torch.tensor(land.start, dtype=torch.float64, requires_grad=True)
        opt = make([wb])
        points = [wb.detach().numpy().copy()]
        for _ in range(30):
            opt.zero_grad()
            torch.mean((x * wb[0] + wb[1] - y) ** 2).backward()
            opt.step()
            points.append(wb.detach().numpy().copy())
        np.testing.assert_allclose(paths[name].points, np.array(points), atol=1e-6, err_msg=name)
    assert len({tuple(p.points[-1].round(6)) for p in paths.values()}) == 5  # five different ways


def test_an_mlp_is_cut_along_two_filter_normalised_directions():
    torch.set_num_threads(1)
    graph = mlp(hidden=8)
    graph.set_training(settings(dataset={"name": "spiral", "classes": 3, "points": 40, "seed": 0}))
    land, _ = landscape_of(graph)
    assert not land.two_scalars and land.axes == ("direction 1", "direction 2")
    assert list(land.start) == [0.0, 0.0]
    weights = land.weights(torch.tensor([1.0, 0.0]))
    for name, value in weights.items():
        own = dict(land.model.named_parameters())[name].detach()
        step = value - own
        if own.dim() == 1:
            assert torch.equal(step, torch.zeros_like(step)), name  # biases stay, as in Li et al.
        else:
            torch.testing.assert_close(step.norm(dim=1), own.norm(dim=1), rtol=1e-4, atol=1e-6)
    paths = land.paths(0.5, steps=10)
    surface = land.surface(land.frame(list(paths.values())), size=16)
    assert np.isfinite(surface.losses).all() and surface.losses.std() > 0
    at_start = land.losses_at(torch.zeros(1, 2))[0]
    assert float(at_start) == pytest.approx(paths["SGD"].losses[0], rel=1e-5)
