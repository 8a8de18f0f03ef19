"""Each epoch's report, counted during the validation pass the trainer already runs."""

from pathlib import Path

import numpy as np
import pytest
import torch

import studio.training.supervised as supervised
from studio.files import load
from studio.training import Trainer
from studio.training.events import EpochEvent
from studio.training.metrics import ClassReport, RegressionReport

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def run(name, **changes):
    graph = load(EXAMPLES / f"{name}.json")
    events = []
    trainer = Trainer(graph, config={**graph.training, "probes": False, "threads": 1, **changes},
                      base_dir=EXAMPLES, callback=events.append)
    result = trainer.run()
    assert result.status == "finished", result.message
    return trainer, [e for e in events if isinstance(e, EpochEvent)]


def class_report_of(model, x, y, names):
    """The confusion matrix counted again, away from the trainer, on the final weights."""
    model.eval()
    with torch.no_grad():
        predicted = model(x).argmax(-1)
    return ClassReport.from_labels(y.numpy(), predicted.numpy(), names)


def test_spiral_reports_count_the_validation_split():
    trainer, epochs = run("spiral_mlp", epochs=4)
    val = trainer.dataset.val
    assert len(epochs) == 4
    for event in epochs:
        report = event.report
        assert isinstance(report, ClassReport)
        assert report.class_names == tuple(trainer.dataset.class_names) and report.counts.shape == (3, 3)
        assert report.total == len(val)  # every validation sample counted once
        assert report.accuracy == event.val_acc
        np.testing.assert_array_equal(report.support, np.bincount(val.targets.numpy(), minlength=3))
        assert "report" not in event.to_json()
    final = class_report_of(trainer.networks["model"], val.x, val.targets, trainer.dataset.class_names)
    np.testing.assert_array_equal(epochs[-1].report.counts, final.counts)
    assert len({e.report.counts.tobytes() for e in epochs}) > 1  # it follows the training


def test_batched_validation_counts_the_same(monkeypatch):
    _, whole = run("spiral_mlp", epochs=2)
    monkeypatch.setattr(supervised, "EVAL_BATCH", 7)  # the pass in batches, as a large split runs
    _, batched = run("spiral_mlp", epochs=2)
    for a, b in zip(whole, batched):
        np.testing.assert_array_equal(a.report.counts, b.report.counts)
        assert b.report.accuracy == b.val_acc


def test_regression_report_of_a_forecast(monkeypatch):
    trainer, epochs = run("lstm_sequence", epochs=2, dataset={"name": "sine", "samples": 300, "length": 20,
                                                                "horizon": 1, "noise": 0.05, "val_fraction": 0.2,
                                                                "seed": 0})
    val = trainer.dataset.val
    model = trainer.networks["model"].eval()
    with torch.no_grad():
        predicted = model(val.x).numpy().reshape(-1)
    target = val.targets.numpy().reshape(-1)
    for event in epochs:
        report = event.report
        assert isinstance(report, RegressionReport) and report.count == target.size
        assert report.rmse ** 2 == pytest.approx(event.val_loss, rel=1e-4)  # mse is the loss
    last = epochs[-1].report
    err = predicted - target
    assert last.mae == pytest.approx(np.abs(err).mean(), rel=1e-4)
    assert last.r2 == pytest.approx(1 - (err ** 2).sum() / ((target - target.mean()) ** 2).sum(), rel=1e-4)
    np.testing.assert_allclose(last.predicted, predicted, rtol=1e-5)
    np.testing.assert_allclose(last.target, target, rtol=1e-6)
    monkeypatch.setattr(supervised, "EVAL_BATCH", 16)
    _, batched = run("lstm_sequence", epochs=2, dataset={"name": "sine", "samples": 300, "length": 20,
                                                          "horizon": 1, "noise": 0.05, "val_fraction": 0.2,
                                                          "seed": 0})
    assert batched[-1].report.mae == pytest.approx(last.mae, rel=1e-5)
    np.testing.assert_allclose(batched[-1].report.predicted, last.predicted, rtol=1e-5)


def test_standardized_forecast_reports_in_the_data_units():
    spec = {"name": "sine", "samples": 200, "length": 20, "horizon": 1, "noise": 0.05, "val_fraction": 0.2,
            "seed": 0, "standardize": "zscore"}
    trainer, epochs = run("lstm_sequence", epochs=1, dataset=spec)
    scaler = trainer.dataset.scaler
    raw_target = scaler.invert(trainer.dataset.val.targets.reshape(-1, 1, 1)).numpy().reshape(-1)
    np.testing.assert_allclose(epochs[0].report.target, raw_target, rtol=1e-5, atol=1e-6)
    # the loss is in scaled units; the report's errors in the series' own
    assert epochs[0].report.rmse == pytest.approx(epochs[0].val_loss ** 0.5 * float(scaler.scale.reshape(())),
                                                  rel=1e-4)


def test_node_classification_counts_the_validation_nodes_only():
    trainer, epochs = run("gcn_karate", epochs=3)
    val = trainer.dataset.val
    for event in epochs:
        assert event.report.total == int(val.mask.sum()) < val.targets.numel()
        assert event.report.accuracy == pytest.approx(event.val_acc)


def test_gan_has_no_report():
    _, epochs = run("gan_ring2d", epochs=1)
    assert epochs and all(e.report is None for e in epochs)
