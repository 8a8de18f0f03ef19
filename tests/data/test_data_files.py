import numpy as np
import pytest
import torch
from PIL import Image

from studio.data import DataError, load_dataset

IRIS_LIKE = """sepal_length,sepal_width,colour,species
5.1,3.5,red,setosa
4.9,3.0,red,setosa
6.2,2.9,blue,versicolor
5.9,3.0,blue,versicolor
6.3,3.3,green,virginica
5.8,2.7,green,virginica
6.5,3.0,red,virginica
"""


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---- CSV --------------------------------------------------------------------
def test_csv_numeric_and_categorical_features(tmp_path):
    write(tmp_path / "data" / "flowers.csv", IRIS_LIKE)
    ds = load_dataset({"name": "csv", "path": "data/flowers.csv", "target": "species", "val_fraction": 0},
                      base_dir=tmp_path)
    assert ds.task == "classification" and ds.class_names == ["setosa", "versicolor", "virginica"]
    assert ds.input_shape == (5,) and ds.output_shape == (3,)
    assert ds.extra["feature_names"] == ["sepal_length", "sepal_width", "colour=blue", "colour=green", "colour=red"]
    row = ds.train.x[torch.isclose(ds.train.x[:, 0], torch.tensor(6.2))][0]
    assert torch.allclose(row, torch.tensor([6.2, 2.9, 1.0, 0.0, 0.0]))
    assert ds.class_counts() == {"setosa": 2, "versicolor": 2, "virginica": 3}


def test_csv_row_values_survive(tmp_path):
    write(tmp_path / "t.csv", "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    ds = load_dataset({"name": "csv", "path": "t.csv", "val_fraction": 0}, tmp_path)
    pairs = sorted(zip(ds.train.x.tolist(), ds.train.y.tolist()))
    assert pairs == [([1, 2], 0), ([3, 4], 1), ([5, 6], 0), ([7, 8], 1)]
    assert ds.class_names == ["0", "1"]


def test_csv_regression_when_target_is_continuous(tmp_path):
    lines = ["x1,x2,price"] + [f"{i},{i * 2},{i * 1.5 + 0.25}" for i in range(30)]
    write(tmp_path / "p.csv", "\n".join(lines) + "\n")
    ds = load_dataset({"name": "csv", "path": "p.csv", "target": "price"}, tmp_path)
    assert ds.task == "regression" and ds.output_shape == (1,) and ds.class_names == []
    assert ds.train.y.dtype == torch.float32 and ds.train.y.shape == (24, 1)
    assert torch.allclose(ds.train.y[:, 0], ds.train.x[:, 0] * 1.5 + 0.25)
    forced = load_dataset({"name": "csv", "path": "p.csv", "target": "x1", "task": "regression"}, tmp_path)
    assert forced.task == "regression"


def test_csv_bad_number_names_file_line_and_column(tmp_path):
    text = IRIS_LIKE.replace("5.8,2.7,green", "5.8,2.7x,green")  # the 6th data row: line 7
    write(tmp_path / "data" / "flowers.csv", text)
    with pytest.raises(DataError) as err:
        load_dataset({"name": "csv", "path": "data/flowers.csv", "target": "species"}, tmp_path)
    assert str(err.value) == ("data/flowers.csv line 7, column 'sepal_width': "
                              "'2.7x' is not a number (the column holds numbers)")


@pytest.mark.parametrize("text,message", [
    ("a,b\n1,2\n3\n", r"^t.csv line 3: 1 cells but the header names 2 columns$"),
    ("a,b\n1,2\n3,\n", r"^t.csv line 3, column 'b': empty cell"),
    ("a,a\n1,2\n", r"^t.csv line 1: column name 'a' appears twice$"),
    ("", r"^t.csv: the file is empty"),
    ("a,b\n", r"^t.csv: no data rows after the header$"),
    ("a,b\n1,inf\n2,3\n4,5\n", r"^t.csv line 2, column 'b': 'inf' is not a finite number$"),
])
def test_csv_malformed(tmp_path, text, message):
    write(tmp_path / "t.csv", text)
    with pytest.raises(DataError, match=message):
        load_dataset({"name": "csv", "path": "t.csv"}, tmp_path)


def test_csv_bad_options(tmp_path):
    write(tmp_path / "t.csv", IRIS_LIKE)
    with pytest.raises(DataError, match=r"^training.dataset.target: t.csv has no column 'kind' \(it has: sepal"):
        load_dataset({"name": "csv", "path": "t.csv", "target": "kind"}, tmp_path)
    with pytest.raises(DataError, match=r"^training.dataset.path: no file 'nope.csv' \(looked for .*nope.csv\)"):
        load_dataset({"name": "csv", "path": "nope.csv"}, tmp_path)
    with pytest.raises(DataError, match=r"^training.dataset.path: needs the path"):
        load_dataset({"name": "csv"}, tmp_path)
    with pytest.raises(DataError, match=r"^t.csv line 2, column 'species': regression needs numbers"):
        load_dataset({"name": "csv", "path": "t.csv", "task": "regression"}, tmp_path)
    write(tmp_path / "latin.csv", "a,b\n1,2\n").write_bytes(b"a,b\n\xe9,2\n")
    with pytest.raises(DataError, match=r"^latin.csv line 2: not UTF-8 text"):
        load_dataset({"name": "csv", "path": "latin.csv"}, tmp_path)


def test_csv_ignore_and_delimiter(tmp_path):
    write(tmp_path / "t.csv", "id;a;y\n17;1.5;yes\n18;2.5;no\n19;3.5;yes\n")
    ds = load_dataset({"name": "csv", "path": "t.csv", "delimiter": ";", "ignore": "id", "val_fraction": 0},
                      tmp_path)
    assert ds.input_shape == (1,) and ds.class_names == ["no", "yes"]
    assert sorted(ds.train.x[:, 0].tolist()) == [1.5, 2.5, 3.5]


# ---- npz --------------------------------------------------------------------
def test_npz_classification_and_regression(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3, 4, 4)).astype(np.float32)
    y = np.repeat([3, 7], 20)
    np.savez(tmp_path / "a.npz", x=x, y=y, class_names=np.array(["cat", "dog"]))
    ds = load_dataset({"name": "npz", "path": "a.npz", "val_fraction": 0.25}, tmp_path)
    assert ds.task == "classification" and ds.class_names == ["cat", "dog"] and ds.input_shape == (3, 4, 4)
    assert ds.class_counts("train") == {"cat": 15, "dog": 15}
    assert set(ds.train.y.tolist()) == {0, 1}

    np.savez(tmp_path / "r.npz", feats=x.reshape(40, -1), price=np.linspace(0, 1, 40))
    ds = load_dataset({"name": "npz", "path": "r.npz", "x": "feats", "y": "price"}, tmp_path)
    assert ds.task == "regression" and ds.output_shape == (1,) and ds.input_shape == (48,)
    assert ds.train.y.dtype == torch.float32


def test_npz_tokens(tmp_path):
    np.savez(tmp_path / "t.npz", x=np.arange(60).reshape(12, 5) % 9, y=np.arange(12) % 3)
    ds = load_dataset({"name": "npz", "path": "t.npz", "tokens": True}, tmp_path)
    assert ds.inputs[0].dtype == "long" and ds.train.x.dtype == torch.int64
    with pytest.raises(DataError, match=r"^training.dataset.standardize: 'npz' gives token ids"):
        load_dataset({"name": "npz", "path": "t.npz", "tokens": True, "standardize": "zscore"}, tmp_path)


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.zeros((5, 2)), y=np.zeros(4, dtype=int))
    with pytest.raises(DataError, match=r"^training.dataset.y: a.npz holds no array 'labels' \(it holds: x, y\)"):
        load_dataset({"name": "npz", "path": "a.npz", "y": "labels"}, tmp_path)
    with pytest.raises(DataError, match=r"^a.npz: array 'x' has 5 samples but 'y' has 4$"):
        load_dataset({"name": "npz", "path": "a.npz"}, tmp_path)
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(DataError, match=r"^junk.npz: not a NumPy .npz file"):
        load_dataset({"name": "npz", "path": "junk.npz"}, tmp_path)
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}] * 3, dtype=object), y=np.zeros(3, dtype=int))
    with pytest.raises(DataError, match=r"^obj.npz: array 'x' holds Python objects \(dtype object\), which only pickle can read"):
        load_dataset({"name": "npz", "path": "obj.npz"}, tmp_path)
    np.savez(tmp_path / "nan.npz", x=np.array([[0.0], [np.nan]]), y=np.array([0, 1]))
    with pytest.raises(DataError, match=r"^nan.npz: array 'x' holds nan at row 1 \(index \[1, 0\]\); every value must be a finite number$"):
        load_dataset({"name": "npz", "path": "nan.npz"}, tmp_path)


# ---- image folder -------------------------------------------------------------
def make_images(root, per_class=6, size=(12, 10)):
    rng = np.random.default_rng(0)
    for c, name in enumerate(["cat", "dog"]):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            # Cats are dark, dogs bright: the class shows in the pixels.
            pixels = (rng.uniform(0, 100, (*size, 3)) + 150 * c).astype(np.uint8)
            Image.fromarray(pixels, "RGB").save(root / name / f"{i}.png")
    (root / "cat" / "notes.txt").write_text("not an image")


def test_image_folder_grayscale_resized(tmp_path):
    make_images(tmp_path / "pets")
    ds = load_dataset({"name": "image_folder", "path": "pets", "size": [8, 6], "val_fraction": 0.5}, tmp_path)
    assert ds.class_names == ["cat", "dog"] and ds.input_shape == (1, 8, 6) and ds.output_shape == (2,)
    assert ds.train.x.shape == (6, 1, 8, 6) and ds.class_counts() == {"cat": 3, "dog": 3}
    assert 0.0 <= float(ds.train.x.min()) and float(ds.train.x.max()) <= 1.0
    means = ds.train.x.mean((1, 2, 3))
    assert torch.all((means > 0.55) == (ds.train.y == 1))


def test_image_folder_rgb_keeps_first_size(tmp_path):
    make_images(tmp_path / "pets", per_class=3)
    ds = load_dataset({"name": "image_folder", "path": "pets", "channels": "rgb", "val_fraction": 0}, tmp_path)
    assert ds.input_shape == (3, 12, 10) and len(ds.train) == 6
    assert ds.preview(4).images.shape == (4, 12, 10, 3)


def test_image_folder_takes_size_and_channels_from_the_graph(tmp_path):
    from studio.graph import Graph

    make_images(tmp_path / "pets", per_class=2)
    g = Graph()
    g.add_node("Input", {"shape": [3, 5, 4]}, id="img")
    ds = load_dataset({"name": "image_folder", "path": "pets"}, tmp_path, graph=g)
    assert ds.input_shape == (3, 5, 4)
    # What the spec says wins over the graph.
    ds = load_dataset({"name": "image_folder", "path": "pets", "size": [6, 6]}, tmp_path, graph=g)
    assert ds.input_shape == (3, 6, 6)


def test_image_folder_corrupt_image_names_the_file(tmp_path):
    make_images(tmp_path / "pets", per_class=2)
    good = (tmp_path / "pets" / "dog" / "0.png").read_bytes()
    (tmp_path / "pets" / "dog" / "1.png").write_bytes(good[: len(good) // 2])  # truncated
    with pytest.raises(DataError, match=r"^pets/dog/1.png: cannot read the image"):
        load_dataset({"name": "image_folder", "path": "pets"}, tmp_path)
    (tmp_path / "pets" / "dog" / "1.png").write_bytes(b"hello")
    with pytest.raises(DataError, match=r"^pets/dog/1.png: cannot read the image"):
        load_dataset({"name": "image_folder", "path": "pets"}, tmp_path)


def test_image_folder_layout_errors(tmp_path):
    (tmp_path / "one" / "cat").mkdir(parents=True)
    with pytest.raises(DataError, match=r"^one: needs one sub-folder per class \(at least 2\), found 1"):
        load_dataset({"name": "image_folder", "path": "one"}, tmp_path)
    (tmp_path / "one" / "dog").mkdir()
    with pytest.raises(DataError, match=r"^one/cat: no images"):
        load_dataset({"name": "image_folder", "path": "one"}, tmp_path)
    with pytest.raises(DataError, match=r"^training.dataset.path: no folder 'none'"):
        load_dataset({"name": "image_folder", "path": "none"}, tmp_path)
    with pytest.raises(DataError, match=r"^training.dataset.size: size needs 2 values, got 3"):
        load_dataset({"name": "image_folder", "path": "one", "size": [1, 2, 3]}, tmp_path)


# ---- text ---------------------------------------------------------------------
def test_text_windows_predict_next_char(tmp_path):
    write(tmp_path / "poem.txt", "abcabcabcabc\n" * 4)
    ds = load_dataset({"name": "text", "path": "poem.txt", "length": 5, "val_fraction": 0.25}, tmp_path)
    assert ds.vocab == ["\n", "a", "b", "c"] and ds.class_names == ["\\n", "a", "b", "c"]
    assert ds.input_shape == (5,) and ds.inputs[0].dtype == "long" and ds.output_shape == (4,)
    n = 52 - 5
    assert len(ds.train) + len(ds.val) == n and len(ds.val) == round(n * 0.25)
    x, y = ds.train.x, ds.train.y
    assert "".join(ds.vocab[i] for i in x[0].tolist()) == "abcab" and ds.vocab[int(y[0])] == "c"
    assert torch.equal(x[1, :-1], x[0, 1:]) and int(x[1, -1]) == int(y[0])
    assert ds.preview(1).rows == ["abcab -> c"]


def test_text_errors(tmp_path):
    write(tmp_path / "short.txt", "abc")
    with pytest.raises(DataError, match=r"^training.dataset.length: short.txt has 3 characters; windows of 32"):
        load_dataset({"name": "text", "path": "short.txt"}, tmp_path)
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00abc")
    with pytest.raises(DataError, match=r"^bin.txt: not UTF-8 text"):
        load_dataset({"name": "text", "path": "bin.txt"}, tmp_path)
