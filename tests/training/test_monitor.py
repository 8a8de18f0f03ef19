"""The best epoch and early stopping, by the goal a recipe names (a metric and "min" or "max")."""

from __future__ import annotations

import pytest
from training_graphs import mlp, settings

from studio.training import EpochEvent, Trainer
from studio.training.monitor import TRAINING_LOSS, VALIDATION_LOSS, Goal, Monitor


def epoch(n: int, train: float, val: float | None = None, **extra) -> EpochEvent:
    return EpochEvent(n, train, val, None, None, 0.01, 1.0, 100.0, extra)


def best_of(monitor: Monitor, events: list[EpochEvent]) -> list[bool]:
    return [monitor.update(e) for e in events]


def test_a_lower_validation_loss_is_better_by_more_than_min_delta():
    monitor = Monitor(VALIDATION_LOSS, min_delta=0.1)
    improved = best_of(monitor, [epoch(1, 1.0, 1.0), epoch(2, 0.5, 0.95), epoch(3, 0.5, 0.85), epoch(4, 0.1, 0.9)])
    assert improved == [True, False, True, False]
    assert monitor.best.epoch == 3


def test_higher_is_better_in_max_mode_and_a_tie_is_decided_by_the_next_goal():
    modes = Goal("modes_covered", "max", "modes covered", tie=TRAINING_LOSS)
    monitor = Monitor(modes)
    events = [epoch(1, 1.0, modes_covered=2), epoch(2, 0.5, modes_covered=1), epoch(3, 0.8, modes_covered=3),
              epoch(4, 0.9, modes_covered=3), epoch(5, 0.7, modes_covered=3)]
    assert best_of(monitor, events) == [True, False, True, False, True]
    assert monitor.best.epoch == 5


def test_patience_counts_epochs_without_an_improvement_and_only_those_with_the_metric():
    monitor = Monitor(VALIDATION_LOSS, patience=2)
    monitor.update(epoch(1, 1.0, 1.0))
    monitor.update(epoch(2, 1.0, 1.2))
    assert monitor.waited == 1 and not monitor.should_stop
    monitor.update(epoch(3, 1.0, None))  # no validation this epoch: nothing to count
    assert monitor.waited == 1 and not monitor.should_stop
    monitor.update(epoch(4, 1.0, 0.5))  # an improvement starts the count again
    assert monitor.waited == 0
    monitor.update(epoch(5, 1.0, 0.6))
    monitor.update(epoch(6, 1.0, float("nan")))  # a NaN is no improvement
    assert monitor.should_stop and monitor.best.epoch == 4


def test_without_patience_a_monitor_never_stops():
    monitor = Monitor(TRAINING_LOSS)
    best_of(monitor, [epoch(n, 1.0 + n) for n in range(1, 20)])
    assert not monitor.should_stop and monitor.best.epoch == 1


def test_a_goal_takes_min_or_max():
    with pytest.raises(ValueError, match="'min', 'max'"):
        Goal("val_loss", "lowest")


def test_the_recipe_names_its_goal():
    with_val = Trainer(mlp(hidden=8), config=settings())
    with_val.prepare()
    assert with_val.recipe.goal == VALIDATION_LOSS
    no_val = Trainer(mlp(hidden=8), config=settings(dataset={"name": "spiral", "points": 100,
                                                                 "val_fraction": 0.0, "seed": 0}))
    no_val.prepare()
    assert no_val.recipe.goal == TRAINING_LOSS
    result = no_val.run()  # the best epoch is then the lowest training loss
    assert result.best == min(result.history, key=lambda e: e.train_loss)


def test_a_gan_found_by_its_data_set_is_refused_early_stopping_as_one_named():
    from test_training_recipes import GAN, gan_graph

    problems = Trainer(gan_graph(), config=settings(**GAN, early_stopping={"enabled": True})).check()
    assert problems == ["training.early_stopping: a gan has no validation loss to watch"]
