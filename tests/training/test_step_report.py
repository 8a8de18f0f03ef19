"""The steps' losses: read back in one transfer, reported, summed per epoch, and checked."""

from __future__ import annotations

import math

import pytest
import torch

from studio.training import StepsEvent
from studio.training.step_report import NonFinite, StepReport


def report_of(extra_names=()) -> tuple[StepReport, list]:
    events: list = []
    return StepReport(events.append, tuple(extra_names), 10, []), events


def test_a_flush_reports_the_pending_steps_and_sums_the_epoch():
    report, events = report_of(["generator_loss"])
    report.begin_epoch(2)
    for n, loss in enumerate([1.0, 2.0, 3.0]):
        report.pending.append(torch.tensor(loss))
        report.extra_pending["generator_loss"].append(torch.tensor(10.0 * loss))
        report.lrs.append(0.1 * (n + 1))
    report.flush(13)
    assert events == [StepsEvent(2, 10, [1.0, 2.0, 3.0], [0.1, 0.2, 0.30000000000000004], 10,
                                 {"generator_loss": [10.0, 20.0, 30.0]})]
    assert report.pending == [] and report.lrs == [] and report.extra_pending["generator_loss"] == []
    assert report.losses == [1.0, 2.0, 3.0]
    assert report.epoch_loss() == 2.0 and report.epoch_loss([1.0, 1.0, 2.0]) == 2.25
    assert report.epoch_extra_means() == {"generator_loss": 20.0}
    report.flush(13)  # nothing pending: nothing reported
    assert len(events) == 1
    report.begin_epoch(3)
    assert report.epoch_losses == [] and report.epoch_extra_means() == {}
    assert report.losses == [1.0, 2.0, 3.0]  # the run's losses stay


@pytest.mark.parametrize("bad_row", [0, 1])
def test_the_first_non_finite_loss_ends_the_run_after_the_good_steps_are_reported(bad_row):
    report, events = report_of(["generator_loss"])
    report.begin_epoch(1)
    rows = [[0.5, 0.25, 0.125, 2.0], [5.0, 4.0, 3.0, 2.0]]
    rows[bad_row][2] = math.inf
    for loss, extra in zip(*rows):
        report.pending.append(torch.tensor(loss))
        report.extra_pending["generator_loss"].append(torch.tensor(extra))
        report.lrs.append(0.1)
    with pytest.raises(NonFinite) as info:
        report.flush(6)
    assert (info.value.step, info.value.value) == (5, math.inf)  # steps 3 and 4 were fine, step 5 was not
    assert [e.losses for e in events] == [[0.5, 0.25]]
    assert report.losses == [0.5, 0.25]
