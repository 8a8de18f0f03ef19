"""A run as plain data: the curves, progress and outcome the views draw and the history keeps."""

from studio.session import Run
from studio.training.events import EndEvent, EpochEvent, ProbeEvent, StepsEvent


def test_a_batch_is_sorted_once_into_curves_progress_and_what_the_views_need():
    run = Run(1, {"epochs": 2}, "xor")
    probe = ProbeEvent(3, 1)
    arrived = run.add([StepsEvent(1, 0, [1.0, 0.8], [0.1, 0.1], 4), probe,
                       StepsEvent(1, 2, [0.6, float("nan")], [0.1, 0.1], 4),
                       EpochEvent(1, 0.7, 0.9, 0.5, 0.4, 0.1, 1.0, 100.0)])
    assert arrived.steps and len(arrived.epochs) == 1 and arrived.probes == [probe]
    assert run.curves.steps.x.tolist() == [0.25, 0.5, 0.75, 1.0]
    assert run.curves["train_loss"] == ([1.0], [0.7]) and run.curves["val_acc"] == ([1.0], [0.4])
    assert run.progress.steps_done == 4 and run.progress.epochs_done == 1
    assert run.title() == "Run 1: xor, 1 epochs, running, best val loss 0.9000"


def test_overfitting_and_the_end_are_the_runs_not_a_views():
    run = Run(2, {"epochs": 7}, "moons")
    val = [1.0, 0.8, 0.7, 0.75, 0.82, 0.9, 0.95]
    train = [1.0, 0.7, 0.5, 0.4, 0.3, 0.2, 0.15]
    run.add([EpochEvent(i + 1, t, v, 0.5, 0.5, 0.01, 1.0, 100.0) for i, (t, v) in enumerate(zip(train, val))])
    assert run.curves.overfit_at == 3 and "Overfitting" in run.curves.summary()
    end = EndEvent("finished", "", 7, None)
    run.add([end])
    run.finish("finished")
    assert run.end is end and run.progress.ended is end and run.status == "finished"
    assert run.best_val_loss() == 0.7
