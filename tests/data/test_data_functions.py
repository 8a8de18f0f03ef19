import numpy as np
import pytest
import torch

from studio.data import DataError, load_dataset


def test_function_kinds_give_y_of_x_on_their_range():
    line = load_dataset({"name": "function", "kind": "line", "noise": 0.0, "points": 50})
    assert line.task == "regression" and line.input_shape == (1,) and line.output_shape == (1,)
    x = torch.cat([line.train.x, line.val.x])
    y = torch.cat([line.train.y, line.val.y])
    assert torch.allclose(y, 2 * x + 1, atol=1e-5)  # slope 2, intercept 1 unless told
    assert 1.0 <= float(x.min()) and float(x.max()) <= 4.0  # not centred: a narrow valley for plain SGD
    step = load_dataset({"name": "function", "kind": "step", "noise": 0.0, "x_scale": 0.5, "x_shift": 0.5,
                         "val_fraction": 0})
    x, y = step.train.x, step.train.y
    assert -0.5 <= float(x.min()) < -0.4 and 1.4 < float(x.max()) <= 1.5  # [-2, 2] halved, moved by 0.5
    assert (y == -1).any() and (y == 1).any()
    assert torch.equal(y, torch.where(x > 0, 1.0, -1.0))
    sine = load_dataset({"name": "function", "kind": "sine", "noise": 0.0, "slope": 5.0})
    assert torch.allclose(sine.train.y, torch.sin(sine.train.x), atol=1e-5)
    assert float(sine.train.x.max()) > 5.0  # two periods
    noisy = load_dataset({"name": "function", "kind": "line", "noise": 0.5, "points": 2000})
    residual = noisy.train.y - (2 * noisy.train.x + 1)
    assert float(residual.std()) == pytest.approx(0.5, rel=0.1)
    with pytest.raises(DataError) as err:
        load_dataset({"name": "function", "x_scale": 0.0})
    assert err.value.place == "training.dataset.x_scale"


@pytest.mark.parametrize("gate,truth", [("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1]), ("NAND", [1, 1, 1, 0]),
                                        ("XOR", [0, 1, 1, 0])])
def test_gates_label_the_corners(gate, truth):
    ds = load_dataset({"name": "gates", "gate": gate})
    assert ds.val is None and ds.output_shape == (2,)
    pairs = sorted(zip(ds.train.x.tolist(), ds.train.y.tolist()))
    assert pairs == list(zip([[0, 0], [0, 1], [1, 0], [1, 1]], truth))
    noisy = load_dataset({"name": "gates", "gate": gate, "replicas": 5, "noise": 0.05})
    corner = noisy.train.x.round().long()
    assert torch.equal(noisy.train.y, torch.tensor(np.array(truth))[corner[:, 0] * 2 + corner[:, 1]])
