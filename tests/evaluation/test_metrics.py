"""ClassReport and RegressionReport against sklearn.metrics and numpy."""

import numpy as np
import pytest
from sklearn import metrics as sk

from studio.training.metrics import MAX_POINTS, ClassReport, RegressionReport, kept_points


def _labels(seed=0, n=300, c=6):
    rng = np.random.default_rng(seed)
    # class 4 is never predicted; class 5 has no samples (but is predicted a few times)
    target = rng.choice([0, 1, 2, 3, 4], size=n)
    predicted = np.where(rng.random(n) < 0.6, target, rng.integers(0, c, n))
    predicted[predicted == 4] = 0
    return target, predicted, c


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_class_report_matches_sklearn(seed):
    target, predicted, c = _labels(seed)
    assert 5 in predicted and 5 not in target and 4 not in predicted
    names = tuple(f"class {i}" for i in range(c))
    report = ClassReport.from_labels(target, predicted, names)
    labels = list(range(c))
    np.testing.assert_array_equal(report.counts, sk.confusion_matrix(target, predicted, labels=labels))
    p, r, f, s = sk.precision_recall_fscore_support(target, predicted, labels=labels, zero_division=0)
    np.testing.assert_allclose(report.precision, p)
    np.testing.assert_allclose(report.recall, r)
    np.testing.assert_allclose(report.f1, f)
    np.testing.assert_array_equal(report.support, s)
    assert report.precision[4] == 0 and report.recall[5] == 0 and report.support[5] == 0
    assert report.accuracy == pytest.approx(sk.accuracy_score(target, predicted))
    for average, got in (("macro", report.macro()), ("weighted", report.weighted())):
        p, r, f, _ = sk.precision_recall_fscore_support(target, predicted, labels=labels, average=average,
                                                        zero_division=0)
        assert got == pytest.approx({"precision": p, "recall": r, "f1": f})
    norm = report.normalised()
    np.testing.assert_allclose(norm[:5].sum(axis=1), 1.0)
    np.testing.assert_array_equal(norm[5], 0.0)  # a class with no samples: a row of zeros, not NaN
    np.testing.assert_allclose(norm[:5], sk.confusion_matrix(target, predicted, labels=labels,
                                                             normalize="true")[:5])


def test_class_report_json_and_names():
    report = ClassReport(np.array([[3, 1], [0, 4]]), ("cat", "dog"))
    data = report.to_json()
    assert data["counts"] == [[3, 1], [0, 4]] and data["class_names"] == ["cat", "dog"]
    assert data["accuracy"] == pytest.approx(7 / 8) and data["support"] == [4, 4]
    assert data["precision"] == pytest.approx([1.0, 0.8]) and data["recall"] == pytest.approx([0.75, 1.0])
    assert ClassReport(np.zeros((3, 3), int), ("a",)).class_names == ("0", "1", "2")  # names that do not fit
    empty = ClassReport(np.zeros((2, 2), int), ("a", "b"))
    assert empty.accuracy == 0.0 and empty.macro()["f1"] == 0.0 and empty.weighted()["f1"] == 0.0
    with pytest.raises(ValueError, match="square"):
        ClassReport(np.zeros((2, 3), int), ("a", "b"))


def test_regression_report_matches_numpy():
    rng = np.random.default_rng(0)
    target = rng.normal(3.0, 2.0, 5000)
    predicted = target + rng.normal(0.2, 0.5, 5000)
    report = RegressionReport.from_arrays(predicted, target)
    err = predicted - target
    assert report.mae == pytest.approx(np.abs(err).mean())
    assert report.rmse == pytest.approx(np.sqrt((err ** 2).mean()))
    assert report.r2 == pytest.approx(sk.r2_score(target, predicted))
    assert report.count == 5000 and report.predicted.size == MAX_POINTS == report.target.size
    keep = kept_points(5000)
    assert keep[0] == 0 and keep[-1] == 4999 and np.all(np.diff(keep) >= 2)  # evenly spread, never repeated
    np.testing.assert_array_equal(report.predicted, predicted[keep])
    np.testing.assert_array_equal(report.target, target[keep])
    summary = report.residual_summary()
    assert summary["mean"] == pytest.approx(err[keep].mean()) and summary["median"] == pytest.approx(np.median(err[keep]))
    data = report.to_json()
    assert data["kind"] == "values" and data["count"] == 5000 and len(data["predicted"]) == MAX_POINTS


def test_regression_report_constant_target_and_small_sets():
    report = RegressionReport.from_arrays([1.0, 2.0, 3.0], [2.0, 2.0, 2.0])
    assert report.r2 == 0.0 and report.mae == pytest.approx(2 / 3) and report.predicted.size == 3
    perfect = RegressionReport.from_arrays([[1.0], [2.0]], [[1.0], [2.0]])
    assert perfect.r2 == 1.0 and perfect.rmse == 0.0
    with pytest.raises(ValueError, match="3 predictions against 2 targets"):
        RegressionReport.from_arrays([1, 2, 3], [1, 2])
