"""How well a trained network does on its validation split, as plain NumPy.

``ClassReport``: a confusion matrix (rows the true class, columns the predicted one)
and what follows from it. ``RegressionReport``: MAE, RMSE and R^2 over the whole
split, and a sample of (predicted, target) pairs to plot. No torch here: the
trainer counts on the device and hands over the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_POINTS = 2000  # (predicted, target) pairs a regression report keeps for plotting


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (a metric with nothing to count is reported as 0)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


@dataclass(frozen=True)
class ClassReport:
    counts: np.ndarray  # [C, C] int64, rows = true class, columns = predicted
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        counts = np.asarray(self.counts, dtype=np.int64)
        if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
            raise ValueError(f"counts must be a square matrix, got shape {list(counts.shape)}")
        names = tuple(str(n) for n in self.class_names)
        if len(names) != counts.shape[0]:
            names = tuple(str(i) for i in range(counts.shape[0]))
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "class_names", names)

    @classmethod
    def from_labels(cls, target, predicted, class_names) -> "ClassReport":
        """The report of two label arrays (class ids 0..C-1, C = len(class_names))."""
        c = len(class_names)
        t = np.asarray(target, dtype=np.int64).reshape(-1)
        p = np.asarray(predicted, dtype=np.int64).reshape(-1)
        counts = np.bincount(t * c + p, minlength=c * c)[: c * c].reshape(c, c)
        return cls(counts, tuple(class_names))

    @property
    def num_classes(self) -> int:
        return int(self.counts.shape[0])

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @property
    def support(self) -> np.ndarray:
        """Samples of each true class."""
        return self.counts.sum(axis=1)

    @property
    def precision(self) -> np.ndarray:
        """Of the samples predicted as each class, the share that were it (0 for a class never predicted)."""
        return _ratio(np.diag(self.counts), self.counts.sum(axis=0))

    @property
    def recall(self) -> np.ndarray:
        """Of each class's samples, the share predicted as it (0 for a class with no samples)."""
        return _ratio(np.diag(self.counts), self.support)

    @property
    def f1(self) -> np.ndarray:
        p, r = self.precision, self.recall
        return _ratio(2 * p * r, p + r)

    @property
    def accuracy(self) -> float:
        return float(_ratio(np.trace(self.counts), self.total))

    def macro(self) -> dict[str, float]:
        """Each metric's plain mean over the classes."""
        return {"precision": float(self.precision.mean()), "recall": float(self.recall.mean()),
                "f1": float(self.f1.mean())}

    def weighted(self) -> dict[str, float]:
        """Each metric's mean over the classes weighted by their support."""
        w = self.support.astype(np.float64)
        total = w.sum()
        if total == 0:
            return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
        return {"precision": float((self.precision * w).sum() / total),
                "recall": float((self.recall * w).sum() / total), "f1": float((self.f1 * w).sum() / total)}

    def normalised(self) -> np.ndarray:
        """Each row divided by its sum (a class with no samples: zeros)."""
        return _ratio(self.counts, self.support[:, None])

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "classes",
            "class_names": list(self.class_names),
            "counts": self.counts.tolist(),
            "precision": self.precision.tolist(),
            "recall": self.recall.tolist(),
            "f1": self.f1.tolist(),
            "support": self.support.tolist(),
            "accuracy": self.accuracy,
            "macro": self.macro(),
            "weighted": self.weighted(),
            "samples": self.total,
        }


def kept_points(n: int, most: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most ``most`` of ``n`` points, evenly spread, first and last included."""
    if n <= most:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, most).round().astype(np.int64))


@dataclass(frozen=True)
class RegressionReport:
    predicted: np.ndarray  # [n] flattened outputs (at most 2,000 points kept, evenly chosen)
    target: np.ndarray  # [n]
    mae: float  # over the whole validation split
    rmse: float
    r2: float
    count: int = 0  # values the three figures were measured over (0: as many as kept)

    def __post_init__(self) -> None:
        object.__setattr__(self, "predicted", np.asarray(self.predicted, dtype=np.float64).reshape(-1))
        object.__setattr__(self, "target", np.asarray(self.target, dtype=np.float64).reshape(-1))
        if self.count == 0:
            object.__setattr__(self, "count", int(self.predicted.size))

    @classmethod
    def from_arrays(cls, predicted, target, most: int = MAX_POINTS) -> "RegressionReport":
        """The report of every value of two same-sized arrays."""
        p = np.asarray(predicted, dtype=np.float64).reshape(-1)
        t = np.asarray(target, dtype=np.float64).reshape(-1)
        if p.shape != t.shape:
            raise ValueError(f"{p.size} predictions against {t.size} targets")
        err = p - t
        keep = kept_points(p.size, most)
        return cls.from_sums(p[keep], t[keep], float(np.abs(err).sum()), float((err * err).sum()),
                             r2_total(t), p.size)

    @classmethod
    def from_sums(cls, predicted, target, abs_sum: float, sq_sum: float, total_sq: float,
                  count: int) -> "RegressionReport":
        """From the sums of |error| and error^2 over ``count`` values, and ``total_sq``: the
        targets' squared deviations from their mean (R^2 = 1 - sq_sum / total_sq; 0 when the
        targets do not vary)."""
        n = max(int(count), 1)
        r2 = 1.0 - sq_sum / total_sq if total_sq > 0 else 0.0
        return cls(predicted, target, abs_sum / n, float(np.sqrt(sq_sum / n)), float(r2), int(count))

    def residuals(self) -> np.ndarray:
        """predicted - target of the kept points."""
        return self.predicted - self.target

    def residual_summary(self) -> dict[str, float]:
        """Mean, spread and quantiles of the kept points' residuals (predicted - target)."""
        r = self.residuals()
        if r.size == 0:
            return {}
        q = np.quantile(r, [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0])
        return {"mean": float(r.mean()), "std": float(r.std()), "min": float(q[0]), "p5": float(q[1]),
                "p25": float(q[2]), "median": float(q[3]), "p75": float(q[4]), "p95": float(q[5]),
                "max": float(q[6])}

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "values", "mae": self.mae, "rmse": self.rmse, "r2": self.r2, "count": self.count,
            "residuals": self.residual_summary(), "points": int(self.predicted.size),
            "predicted": self.predicted.tolist(), "target": self.target.tolist(),
        }


def r2_total(target) -> float:
    """The targets' summed squared deviation from their mean (R^2's denominator), in float64."""
    t = np.asarray(target, dtype=np.float64).reshape(-1)
    return float(((t - t.mean()) ** 2).sum()) if t.size else 0.0
