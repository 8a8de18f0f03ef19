"""The live views' drawing held to a share of the UI thread."""

from __future__ import annotations

import pytest

from studio.ui.training.draw_budget import MAX_SCALE, MIN_SCALE, DrawBudget


class Clocks:
    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0


def spend(budget: DrawBudget, clocks: Clocks, cpu_s: float, wall_s: float) -> None:
    with budget.metered():
        clocks.cpu += cpu_s
    clocks.wall += wall_s


@pytest.fixture
def clocks_and_budget():
    c = Clocks()
    return c, DrawBudget(share=0.05, window_s=1.0, clock=lambda: c.wall, cpu=lambda: c.cpu)


def test_costly_drawing_stretches_the_intervals_until_the_share_is_met(clocks_and_budget):
    clocks, budget = clocks_and_budget
    scales = []
    for _ in range(12):
        # Drawing at the base rate costs 10% of the time; each redraw costs the same, so the cost
        # per second falls as the intervals grow.
        spend(budget, clocks, 0.10 / budget.scale, 1.0)
        assert budget.adjust()
        scales.append(budget.scale)
    assert scales == sorted(scales)  # it only ever stretches, no see-sawing
    assert scales[-1] == pytest.approx(2.0, rel=0.02)  # 10% / 5%
    assert budget.interval(0.3) == pytest.approx(0.6, rel=0.02)
    assert budget.last_share == pytest.approx(0.05, rel=0.05)


def test_cheap_drawing_redraws_more_often_within_limits(clocks_and_budget):
    clocks, budget = clocks_and_budget
    spend(budget, clocks, 0.0, 0.5)
    assert not budget.adjust()  # half a window: too early to judge
    for _ in range(10):
        spend(budget, clocks, 0.0001, 1.0)
        budget.adjust()
    assert budget.scale == MIN_SCALE
    for _ in range(20):
        spend(budget, clocks, 0.9, 1.0)
        budget.adjust()
    assert budget.scale == MAX_SCALE


def test_a_new_run_forgets_the_costs_but_keeps_the_scale(clocks_and_budget):
    clocks, budget = clocks_and_budget
    spend(budget, clocks, 0.2, 1.0)
    budget.adjust()
    scale = budget.scale
    spend(budget, clocks, 5.0, 0.5)  # a costly moment between runs (opening a file, say)
    budget.restart()
    spend(budget, clocks, 0.05 * scale, 1.0)
    budget.adjust()
    assert budget.last_share == pytest.approx(0.05 * scale)
