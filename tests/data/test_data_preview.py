import numpy as np

from studio.data import load_dataset


def test_scatter_for_two_features():
    ds = load_dataset({"name": "spiral", "points": 20, "standardize": "zscore"})
    p = ds.preview(limit=10)
    assert p.kind == "scatter" and p.points.shape == (10, 2) and p.labels.shape == (10,)
    # Shown in the data's own units, not standardised.
    raw = load_dataset({"name": "spiral", "points": 20})
    assert np.allclose(p.points, raw.train.x[:10].numpy(), atol=1e-5)
    assert p.class_names == ["0", "1", "2"]


def test_image_grid_table_tokens_series_graph():
    digits = load_dataset("digits").preview(6)
    assert digits.kind == "images" and digits.images.shape == (6, 8, 8) and digits.labels.dtype == np.int64
    iris = load_dataset("iris").preview(3)
    assert iris.kind == "table" and iris.columns[-1] == "target" and iris.rows.shape == (3, 5)
    assert iris.columns[0] == "sepal length (cm)" and iris.rows[0, -1] in ("setosa", "versicolor", "virginica")
    rev = load_dataset({"name": "reverse", "length": 3}).preview(2)
    a, b = rev.rows[0].split(" -> ")
    assert rev.kind == "tokens" and a.split()[::-1] == b.split()
    sine = load_dataset({"name": "sine", "samples": 50, "length": 5}).preview()
    assert sine.kind == "series" and sine.points.shape == (55, 2)  # 50 windows of 5 and the value after the last
    karate = load_dataset("karate").preview(split="val")
    assert karate.kind == "graph" and karate.adjacency.shape == (34, 34) and int(karate.mask.sum()) == 30
