"""The plain-number parts of the panel: buffers, smoothing, overfitting, progress, colours."""

from __future__ import annotations

import math

import numpy as np
import pytest

from studio.training.events import EndEvent, EpochEvent, StepsEvent
from studio.session.buffer import GrowingBuffer
from studio.ui.training.history import config_differences
from studio.session.overfitting import ema, overfit_epoch
from studio.ui.training.colors import gradient_flag, gradient_rgb, prediction_field
from studio.session.progress import RunProgress, format_duration


def test_buffer_doubles_and_keeps_values():
    buf = GrowingBuffer(4)
    buf.extend(range(3), [0.5, 1.5, 2.5])
    assert buf.capacity == 4
    buf.extend(range(3, 10), range(3, 10))
    assert buf.capacity == 16 and len(buf) == 10
    assert buf.y.tolist() == [0.5, 1.5, 2.5, 3, 4, 5, 6, 7, 8, 9]
    view = buf.x
    assert view.base is not None  # a view on the preallocated array, not a copy
    for i in range(10, 1000):
        buf.append(i, i)
    assert buf.capacity == 1024 and buf.x[-1] == 999
    with pytest.raises(ValueError, match="differ in length: 2 and 1"):
        buf.extend([1, 2], [1])


def test_ema_is_debiased_and_continues_across_batches():
    first, state = ema([2.0, 2.0], 0.9, (0.0, 0))
    assert first == pytest.approx([2.0, 2.0])  # a constant stays itself, not dragged to 0
    whole, _ = ema([1.0, 3.0, 5.0, 7.0], 0.5, (0.0, 0))
    a, st = ema([1.0, 3.0], 0.5, (0.0, 0))
    b, _ = ema([5.0, 7.0], 0.5, st)
    assert a + b == pytest.approx(whole)


def test_overfitting_marked_after_validation_turns():
    train = [1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.25]
    val = [1.0, 0.85, 0.7, 0.75, 0.8, 0.9, 0.95]
    assert overfit_epoch(train, val) == 3
    assert overfit_epoch(train, [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]) is None  # both still falling
    assert overfit_epoch(train[:5], val[:5]) is None  # two bad epochs are not yet a trend
    assert overfit_epoch(train, [1.0, 0.85, 0.7, 0.71, 0.72, 0.71, 0.72]) is None  # noise, not a rise
    tiny = [1.0, 0.3, 0.02, 0.021, 0.024, 0.025, 0.026]  # up 25% of a loss that is almost nothing
    assert overfit_epoch(train, tiny) is None


def test_progress_counts_steps_epochs_and_time():
    now = [0.0]
    p = RunProgress(epochs=4, clock=lambda: now[0])
    now[0] = 2.0
    p.feed(StepsEvent(1, 0, [1.0] * 10, [0.1] * 10, 20))
    assert (p.epoch, p.step_in_epoch) == (1, 10)
    assert p.epoch_fraction() == 0.5 and p.run_fraction() == pytest.approx(10 / 80)
    now[0] = 4.0
    p.feed(StepsEvent(1, 10, [1.0] * 10, [0.1] * 10, 20))
    p.feed(EpochEvent(1, 1.0, None, None, None, 0.1, 4.0, 5.0))
    assert p.steps_per_second() == pytest.approx(5.0)  # 10 steps in 2 s
    assert p.remaining_seconds() == pytest.approx(60 / 5.0)
    p.pause()
    now[0] = 100.0
    assert p.active_seconds() == pytest.approx(4.0)  # paused time is not training time
    p.resume()
    now[0] = 101.0
    assert p.active_seconds() == pytest.approx(5.0)
    p.feed(EndEvent("finished", "", 4, None))
    assert p.run_fraction() == 1.0
    assert format_duration(65) == "1:05" and format_duration(3723) == "1:02:03" and format_duration(None) == "—"


def test_gradient_flags_and_colours():
    assert gradient_flag(1e-7) == "vanishing"
    assert gradient_flag(1e3) == "exploding" and gradient_flag(math.nan) == "exploding"
    assert gradient_flag(0.1) is None
    assert gradient_rgb(1e-9) == (31, 119, 180)  # cold blue
    assert gradient_rgb(1e9) == (214, 39, 40)  # hot red
    assert gradient_rgb(math.sqrt(1e-5 * 1e2)) == (44, 160, 44)  # the middle of the log scale is green


def test_prediction_field_pales_where_unsure():
    classes = np.array([[0, 1]])
    rgb = prediction_field(classes, np.array([[1.0, 0.5]]), n_classes=2)
    assert rgb.shape == (1, 2, 3) and rgb.dtype == np.uint8
    assert rgb[0, 1].tolist() == [int(255 * 0.85 + c * 0.15) for c in (255, 127, 14)]  # a coin flip: pale
    assert rgb[0, 0].sum() < rgb[0, 1].sum()


def test_config_differences_name_the_keys():
    a = {"optimizer": {"name": "adam", "lr": 0.01}, "epochs": 10}
    b = {"optimizer": {"name": "sgd", "lr": 0.01}, "epochs": 20}
    assert config_differences(a, b) == ["epochs: 10 -> 20", "optimizer.name: 'adam' -> 'sgd'"]


def test_throttle_hands_over_everything_in_order_but_rarely():
    from studio.ui.training.throttle import Throttle

    now = [0.0]
    got = []
    t = Throttle(got.append, 0.25, clock=lambda: now[0])
    assert t.push([1])  # the first batch goes at once
    for i in range(2, 6):
        now[0] += 0.05
        t.push([i])
    assert got == [[1]] and not t.due()
    now[0] += 0.1  # 0.3 s after the first hand-over
    assert t.due()
    assert t.push([6]) and got == [[1], [2, 3, 4, 5, 6]]
    t.push([7])
    t.flush()  # at the end of a run nothing is left behind
    assert got[-1] == [7] and t.calls == 3


def test_problem_headline_counts_the_list_and_its_graph_part():
    from studio.graph import Problem
    from studio.ui.training.run import problem_headline

    problems = [Problem("fc", "in", "needs an input", "unconnected"), Problem("fc", "out", "bad", "shape"),
                Problem(None, None, "points.csv line 3, column 'b': 'x1' is not a number", "data"),
                Problem(None, None, "training.optimizer.lr: must be > 0, got -1", "config")]
    assert problem_headline(problems) == ("4 problem(s) to fix first: 2 in the graph, 1 with the data set, "
                                          "1 in the training settings.")
    assert str(problems[2]).startswith("data set: points.csv line 3")


def test_tick_spacing_steps_through_one_two_five():
    from studio.ui.training.plot_style import _next_nice

    assert [_next_nice(x) for x in (0.1, 0.2, 0.5, 1, 2, 5, 20)] == pytest.approx([0.2, 0.5, 1, 2, 5, 10, 50])


def test_written_weights_are_the_checkpoint_export_reads(tmp_path):
    import torch

    from studio.training.checkpoint import load_weights
    from studio.ui.training.run import write_weights

    net = torch.nn.Linear(2, 3)
    kept = {"main": {k: v.detach().clone() for k, v in net.state_dict().items()}}
    written = write_weights(kept, tmp_path / "sub" / "run")
    assert written == tmp_path / "sub" / "run.safetensors"
    assert [p.name for p in written.parent.iterdir()] == ["run.safetensors"]  # no temporary left
    fresh = torch.nn.Linear(2, 3)
    load_weights(written, {"main": fresh})
    assert torch.equal(fresh.weight, net.weight) and torch.equal(fresh.bias, net.bias)
