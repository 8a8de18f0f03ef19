import numpy as np
import pytest
import torch

from studio.data import DataError, catalog, load_dataset, modes_covered, names

BUILTIN = ["xor", "spiral", "moons", "circles", "blobs", "gates", "function", "sine", "reverse", "sort", "copy",
           "words", "digits", "iris", "karate", "ring"]


def test_catalogue_lists_builtins_then_files():
    assert names() == BUILTIN + ["csv", "npz", "image_folder", "text"]
    for entry in catalog():
        assert entry.doc
        for p in entry.options:
            assert p.doc, (entry.name, p.name)
            p.coerce(p.default) if p.default is not None or p.optional else None


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_is_deterministic_by_seed(name):
    a = load_dataset({"name": name})
    b = load_dataset({"name": name})
    assert torch.equal(a.train.x, b.train.x)
    if a.train.y is not None:
        assert torch.equal(a.train.y, b.train.y)
    assert a.train.x.dtype in (torch.float32, torch.int64)
    assert a.train.x.device.type == "cpu"


@pytest.mark.parametrize("name", ["spiral", "moons", "circles", "blobs", "sine", "reverse", "digits", "ring"])
def test_another_seed_gives_other_data(name):
    a = load_dataset({"name": name, "seed": 0})
    b = load_dataset({"name": name, "seed": 1})
    assert not torch.equal(a.train.x, b.train.x)


def test_xor_is_the_four_corners():
    ds = load_dataset("xor")
    assert ds.val is None
    pairs = sorted(zip(ds.train.x.tolist(), ds.train.y.tolist()))
    assert pairs == [([0, 0], 0), ([0, 1], 1), ([1, 0], 1), ([1, 1], 0)]
    noisy = load_dataset({"name": "xor", "replicas": 25, "noise": 0.05, "val_fraction": 0.2})
    assert len(noisy.train) == 80 and len(noisy.val) == 20
    # Every noisy point stays near its corner and keeps its corner's label.
    x, y = noisy.train.x, noisy.train.y
    corner = x.round()
    assert torch.equal(y, (corner[:, 0] != corner[:, 1]).long())
    assert (x - corner).abs().max() < 0.3


def test_spiral_shapes_and_balance():
    ds = load_dataset({"name": "spiral", "classes": 4, "points": 50, "val_fraction": 0.2})
    assert ds.task == "classification" and ds.input_shape == (2,) and ds.output_shape == (4,)
    assert ds.train.x.shape == (160, 2) and ds.val.x.shape == (40, 2)
    assert ds.train.y.dtype == torch.int64 and ds.train.x.dtype == torch.float32
    # Stratified: each arm gives 10 points to validation.
    assert ds.class_counts("train") == {"0": 40, "1": 40, "2": 40, "3": 40}
    assert ds.class_counts("val") == {"0": 10, "1": 10, "2": 10, "3": 10}
    radius = torch.linalg.norm(torch.cat([ds.train.x, ds.val.x]), dim=1)
    assert radius.max() <= 1.0 + 1e-6


@pytest.mark.parametrize("name,classes", [("moons", 2), ("circles", 2), ("blobs", 3)])
def test_sklearn_generators(name, classes):
    ds = load_dataset({"name": name, "points": 200})
    assert len(ds.train) == 160 and len(ds.val) == 40
    assert ds.num_classes == classes
    counts = list(ds.class_counts("train").values()) + list(ds.class_counts("val").values())
    assert sum(counts) == 200 and min(ds.class_counts("train").values()) >= 45


def test_blobs_in_more_dimensions():
    ds = load_dataset({"name": "blobs", "features": 5, "classes": 4, "points": 100})
    assert ds.input_shape == (5,) and ds.output_shape == (4,)


def test_sine_windows_predict_the_next_values():
    ds = load_dataset({"name": "sine", "samples": 100, "length": 10, "horizon": 3, "noise": 0.0})
    assert ds.task == "sequence" and ds.input_shape == (10, 1) and ds.output_shape == (3,)
    assert ds.train.x.shape == (80, 10, 1) and ds.train.y.shape == (80, 3) and ds.train.y.dtype == torch.float32
    # Chronological split, windows slide by one step: the target follows the window.
    x, y = ds.train.x, ds.train.y
    assert torch.allclose(x[1, -1, 0], y[0, 0])
    assert torch.allclose(y[0], torch.sin(torch.arange(10, 13) * 0.1), atol=1e-6)
    assert torch.allclose(ds.val.x[0, 0, 0], torch.sin(torch.tensor(80 * 0.1)), atol=1e-6)


def test_sum_of_sines_differs_from_one_sine():
    one = load_dataset({"name": "sine", "samples": 50, "noise": 0.0})
    three = load_dataset({"name": "sine", "samples": 50, "noise": 0.0, "waves": 3})
    assert not torch.allclose(one.train.x, three.train.x)


@pytest.mark.parametrize("task", ["reverse", "sort", "copy"])
def test_token_tasks(task):
    ds = load_dataset({"name": task, "samples": 100, "length": 6, "vocab": 5})
    assert ds.inputs[0].dtype == "long" and ds.input_shape == (6,)
    assert ds.output_shape == (6, 5) and ds.num_classes == 5
    x, y = ds.train.x, ds.train.y
    assert x.dtype == torch.int64 and y.dtype == torch.int64 and y.shape == (80, 6)
    assert int(x.min()) >= 0 and int(x.max()) <= 4
    expected = {"reverse": x.flip(1), "sort": x.sort(dim=1).values, "copy": x}[task]
    assert torch.equal(y, expected)


def test_digits_are_images_in_unit_range():
    ds = load_dataset({"name": "digits", "val_fraction": 0.25})
    assert ds.input_shape == (1, 8, 8) and ds.output_shape == (10,)
    assert len(ds.train) + len(ds.val) == 1797
    assert float(ds.train.x.min()) == 0.0 and float(ds.train.x.max()) == 1.0
    assert ds.class_names == [str(i) for i in range(10)]
    counts = ds.class_counts("val")
    assert min(counts.values()) >= 43 and max(counts.values()) <= 47


def test_iris():
    ds = load_dataset("iris")
    assert ds.input_shape == (4,) and ds.class_names == ["setosa", "versicolor", "virginica"]
    assert ds.class_counts("train") == {"setosa": 40, "versicolor": 40, "virginica": 40}
    assert ds.class_counts("val") == {"setosa": 10, "versicolor": 10, "virginica": 10}


def test_karate_is_one_graph_with_masks():
    ds = load_dataset({"name": "karate", "labels_per_class": 3, "seed": 4})
    assert ds.task == "node_classification"
    assert [(i.name, i.shape) for i in ds.inputs] == [("x", (34, 34)), ("adj", (34, 34))]
    x, adj = ds.train.inputs
    assert x.shape == (1, 34, 34) and torch.equal(x[0], torch.eye(34))
    assert torch.equal(adj, adj.transpose(1, 2)) and int(adj.sum()) == 2 * 78
    assert ds.train.y.shape == (1, 34) and ds.output_shape == (34, 2)
    assert ds.class_names == ["Mr. Hi", "Officer"]
    assert ds.train.count() == 6 and ds.val.count() == 28
    assert not (ds.train.mask & ds.val.mask).any()
    assert ds.class_counts("train") == {"Mr. Hi": 3, "Officer": 3}
    assert ds.class_counts("val") == {"Mr. Hi": 14, "Officer": 14}
    other = load_dataset({"name": "karate", "labels_per_class": 3, "seed": 5})
    assert not torch.equal(other.train.mask, ds.train.mask)


def test_karate_normalized_adjacency_has_unit_spectrum():
    ds = load_dataset({"name": "karate", "adjacency": "normalized"})
    a = ds.train.inputs[1][0].double()
    assert torch.allclose(a, a.T)
    assert abs(float(torch.linalg.eigvalsh(a).max()) - 1.0) < 1e-6


def test_ring_and_modes_covered():
    ds = load_dataset({"name": "ring", "points": 4000})
    assert ds.task == "gan" and ds.val is None and ds.train.y is None and ds.output_shape == (2,)
    centres, std = ds.extra["centres"], ds.extra["std"]
    assert centres.shape == (8, 2) and std == 0.02
    assert np.allclose(np.linalg.norm(centres, axis=1), 2.0)
    x = ds.train.x.numpy()
    assert abs(float(np.linalg.norm(x, axis=1).mean()) - 2.0) < 0.01
    assert modes_covered(x, centres, std) == 8
    collapsed = centres[[0, 3]][np.arange(500) % 2] + np.random.default_rng(0).normal(0, 0.02, (500, 2))
    assert modes_covered(collapsed.astype(np.float32), centres, std) == 2
    assert modes_covered(np.zeros((100, 2), np.float32), centres, std) == 0


def test_describe_names_sizes_and_classes():
    assert load_dataset("iris").describe() == (
        "iris: classification; 120 training / 30 validation samples; input x [4] float; "
        "3 classes (setosa, versicolor, virginica); output [3]")
    assert "4 training / 30 validation nodes" in load_dataset("karate").describe()


def test_bad_names_and_options_name_the_place():
    with pytest.raises(DataError, match=r"training.dataset.name: unknown data set 'mnist' \(known: xor, spiral"):
        load_dataset({"name": "mnist"})
    with pytest.raises(DataError, match=r"training.dataset.pointz: the data set 'spiral' has no option 'pointz'"):
        load_dataset({"name": "spiral", "pointz": 3})
    with pytest.raises(DataError, match=r"training.dataset.points: points must be >= 2, got 1"):
        load_dataset({"name": "spiral", "points": 1})
    with pytest.raises(DataError, match=r"training.dataset.standardize: standardize must be one of"):
        load_dataset({"name": "iris", "standardize": "l2"})
    with pytest.raises(DataError, match=r"training.dataset.noise: noise must be a number, got 'lots'"):
        load_dataset({"name": "moons", "noise": "lots"})
    with pytest.raises(DataError, match=r"training.dataset.name: a data set needs a name"):
        load_dataset({"points": 3})
    with pytest.raises(DataError, match=r"training.dataset.standardize: the data set 'reverse' has no option"):
        load_dataset({"name": "reverse", "standardize": "zscore"})
