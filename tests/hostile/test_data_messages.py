"""Data that is wrong in a way that used to pass silently, or end in a traceback, is named clearly."""

import io
import zipfile

import numpy as np
import pytest

from studio.data import DataError, check_fits, load_dataset
from studio.graph import Graph


def npz(tmp_path, name="a.npz", **arrays):
    np.savez(tmp_path / name, **arrays)
    return {"name": "npz", "path": name}


# ---- npz ----------------------------------------------------------------------
def test_an_npz_with_no_arrays_says_so(tmp_path):
    spec = npz(tmp_path, "empty.npz")
    with pytest.raises(DataError, match=r"^empty.npz: the file holds no arrays; save features and targets with "
                                        r"numpy.savez\(path, x=\.\.\., y=\.\.\.\)$"):
        load_dataset(spec, tmp_path)
    (tmp_path / "zero.npz").write_bytes(b"")
    with pytest.raises(DataError, match=r"^zero.npz: the file is empty \(0 bytes\)"):
        load_dataset({"name": "npz", "path": "zero.npz"}, tmp_path)


@pytest.mark.parametrize("key", ["x", "y"])
def test_complex_arrays_are_refused_not_cut_to_their_real_part(tmp_path, key):
    arrays = {"x": np.ones((6, 2)), "y": np.arange(6) % 2}
    arrays[key] = arrays[key] * (1 + 2j)
    spec = npz(tmp_path, **arrays)
    with pytest.raises(DataError, match=rf"^a.npz: array '{key}' holds complex numbers \(dtype complex128\); "
                                        r"a network takes real numbers"):
        load_dataset(spec, tmp_path)


def test_a_pickled_object_array_is_refused_without_unpickling(tmp_path):
    ran = tmp_path / "ran"
    # An object array whose pickle would create a file when loaded.
    payload = np.array([Touch(str(ran))], dtype=object)
    spec = npz(tmp_path, x=payload, y=np.zeros(1, dtype=int))
    with pytest.raises(DataError, match=r"^a.npz: array 'x' holds Python objects \(dtype object\), which only "
                                        r"pickle can read, and data files are never unpickled"):
        load_dataset(spec, tmp_path)
    spec = npz(tmp_path, "names.npz", x=np.zeros((2, 1)), y=np.array([0, 1]),
               class_names=np.array(["a", Touch(str(ran))], dtype=object))
    with pytest.raises(DataError, match=r"^names.npz: array 'class_names' holds Python objects"):
        load_dataset(spec, tmp_path)
    assert not ran.exists()


class Touch:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("x,message", [
    (np.array([[0.0, 1.0], [2.0, np.inf], [0.0, 0.0]]),
     r"array 'x' holds inf at row 1 \(index \[1, 1\]\); every value must be a finite number$"),
    (np.array([[0.0], [1e300], [0.0]]),
     r"array 'x' holds 1e\+300 at row 1 \(index \[1, 0\]\), beyond what float32 holds"),
    (np.array([["a"], ["b"], ["c"]]), r"array 'x' holds text \(dtype <U1\), not numbers$"),
    (np.zeros((3, 0)), r"array 'x' has shape \[3, 0\]; it needs \[samples, \.\.\.features\]"),
])
def test_bad_feature_values_are_named_by_array_and_row(tmp_path, x, message):
    spec = npz(tmp_path, x=x, y=np.array([0, 1, 0]))
    with pytest.raises(DataError, match="^a.npz: " + message):
        load_dataset(spec, tmp_path)


@pytest.mark.parametrize("y,task,message", [
    (np.array([0.0, np.nan, 1.0, 2.0]), "regression", r"^a.npz: array 'y' holds nan at row 1; every value"),
    (np.array([0.0, 0.5, 1.0, 1.0]), "classification",
     r"^a.npz: array 'y' holds 0.5 at row 1; class labels must be whole numbers \(or set task to regression\)$"),
    (np.array(5), "auto", r"^a.npz: array 'y' is a single value; it needs one target per sample$"),
    (np.array(["a", "b", "a", "b"]), "regression", r"^training.dataset.task: regression needs numbers, but 'y'"),
])
def test_bad_labels_are_named(tmp_path, y, task, message):
    spec = npz(tmp_path, x=np.zeros((4, 2)), y=y)
    with pytest.raises(DataError, match=message):
        load_dataset({**spec, "task": task}, tmp_path)


def test_labels_of_any_integer_range_floats_or_text_become_classes(tmp_path):
    spec = npz(tmp_path, x=np.zeros((6, 1)), y=np.array([-1, 0, 2**62, -1, 0, 2**62]))
    ds = load_dataset({**spec, "val_fraction": 0}, tmp_path)
    assert ds.class_names == ["-1", "0", str(2**62)] and sorted(ds.train.y.tolist()) == [0, 0, 1, 1, 2, 2]
    spec = npz(tmp_path, "u.npz", x=np.zeros((2, 1)), y=np.array([0, 2**64 - 1], dtype=np.uint64))
    assert load_dataset(spec, tmp_path).class_names == ["0", str(2**64 - 1)]
    spec = npz(tmp_path, "f.npz", x=np.zeros((4, 1)), y=np.array([1.0, 0.0, 1.0, 0.0]))
    assert load_dataset({**spec, "task": "classification"}, tmp_path).class_names == ["0", "1"]
    spec = npz(tmp_path, "t.npz", x=np.zeros((4, 1)), y=np.array(["cat", "dog", "cat", "dog"]))
    assert load_dataset(spec, tmp_path).class_names == ["cat", "dog"]
    spec = npz(tmp_path, "n.npz", x=np.zeros((4, 1)), y=np.array([0, 1, 2, 0]), class_names=np.array(["a", "b"]))
    with pytest.raises(DataError, match=r"^n.npz: array 'class_names' names 2 classes but 'y' holds 3 distinct"):
        load_dataset(spec, tmp_path)


@pytest.mark.parametrize("x,message", [
    (np.array([[1, 2], [3, -4]]), r"^a.npz: array 'x' holds -4 at row 1 \(index \[1, 1\]\); token ids are 0 or more"),
    (np.array([[1], [2**63]], dtype=np.uint64),
     r"^a.npz: array 'x' holds 9223372036854775808 at row 1 \(index \[1, 0\]\), beyond the largest token id"),
])
def test_token_ids_out_of_range_are_refused(tmp_path, x, message):
    spec = npz(tmp_path, x=x, y=np.array([0, 1]))
    with pytest.raises(DataError, match=message):
        load_dataset({**spec, "tokens": True}, tmp_path)


def test_a_member_that_is_not_an_array_is_named(tmp_path):
    with zipfile.ZipFile(tmp_path / "odd.npz", "w") as z:
        z.writestr("x", "just text")
        buffer = io.BytesIO()
        np.save(buffer, np.array([0, 1]))
        z.writestr("y.npy", buffer.getvalue())
    with pytest.raises(DataError, match=r"^odd.npz: array 'x' is not a readable NumPy array"):
        load_dataset({"name": "npz", "path": "odd.npz"}, tmp_path)


# ---- CSV quotes -----------------------------------------------------------------
def test_an_unterminated_quote_is_refused_at_the_line_it_opens(tmp_path):
    rows = ["a,b"] + [f"{i},{'x' if i % 2 else 'y'}" for i in range(10)]
    rows[4] = '3,"x'  # file line 5
    (tmp_path / "q.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"^q.csv line 5: a quote opens here and never closes, so every line after "
                                        r"it would be read as one cell"):
        load_dataset({"name": "csv", "path": "q.csv"}, tmp_path)


def test_an_open_quote_in_a_long_file_is_found_at_its_line(tmp_path):
    rows = ["a,b"] + [f"{i},{'x' if i % 2 else 'y'}" for i in range(40_000)]
    rows[7] = '6,"y'  # the cell would run past the csv field limit
    (tmp_path / "q.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"^q.csv line 8: a quoted cell opens here and runs past 131,072 characters"):
        load_dataset({"name": "csv", "path": "q.csv"}, tmp_path)


@pytest.mark.parametrize("text,message", [
    ('a,b\n1,"x\n2,y\n3,"z"\n', r"^q.csv line 2: a quote opens here and closes only on line 4, followed by 'z'"),
    ('a,b\n1,"x"y\n', r"""^q.csv line 2: 'y' follows a closing quote; a quoted cell ends at its quote"""),
])
def test_a_quote_closed_in_the_wrong_place_is_named(tmp_path, text, message):
    (tmp_path / "q.csv").write_text(text)
    with pytest.raises(DataError, match=message):
        load_dataset({"name": "csv", "path": "q.csv"}, tmp_path)


def test_good_quoting_still_reads(tmp_path):
    (tmp_path / "g.csv").write_bytes('\ufeffa,note,y\r\n1,"two\r\nlines",p\r\n2,"say ""hi""",q\r\n3,plain,p\r\n'
                                     .encode("utf-8"))
    ds = load_dataset({"name": "csv", "path": "g.csv", "val_fraction": 0}, tmp_path)
    assert ds.extra["feature_names"] == ["a", "note=plain", 'note=say "hi"', "note=two\r\nlines"]


def test_numbers_too_large_for_float32_are_named(tmp_path):
    (tmp_path / "h.csv").write_text("a,b\n1,0\n1e300,1\n2,0\n")
    with pytest.raises(DataError, match=r"^h.csv line 3, column 'a': '1e300' is beyond what float32 holds"):
        load_dataset({"name": "csv", "path": "h.csv"}, tmp_path)


# ---- one class ------------------------------------------------------------------
def mlp(features, outputs):
    g = Graph()
    g.add_node("Input", {"shape": [features]}, id="x")
    g.add_node("Linear", {"out_features": outputs}, id="fc")
    g.connect("x", "out", "fc", "in")
    return g


def test_a_one_class_data_set_is_a_problem_naming_the_label_column(tmp_path):
    (tmp_path / "one.csv").write_text("a,b,kind\n" + "".join(f"{i},{i * 2},spam\n" for i in range(20)))
    ds = load_dataset({"name": "csv", "path": "one.csv"}, tmp_path)
    problems = [str(p) for p in check_fits(ds, mlp(2, 1))]
    assert problems == ["data set: the data set 'csv' (label column 'kind') holds one class only ('spam'): there is "
                        "nothing to tell apart, and always answering 'spam' would score 100%; a classifier needs "
                        "examples of at least two classes"]


def test_a_one_class_npz_names_its_label_array(tmp_path):
    spec = npz(tmp_path, x=np.zeros((5, 2)), labels=np.zeros(5, dtype=int))
    ds = load_dataset({**spec, "y": "labels"}, tmp_path)
    assert "the data set 'npz' (label array 'labels') holds one class only ('0')" in str(check_fits(ds, mlp(2, 1))[0])


def test_two_classes_fit_and_a_rare_class_stays_in_training(tmp_path):
    (tmp_path / "rare.csv").write_text("a,kind\n" + "".join(f"{i},common\n" for i in range(10)) + "99,rare\n")
    ds = load_dataset({"name": "csv", "path": "rare.csv", "val_fraction": 0.5}, tmp_path)
    assert ds.class_counts("train")["rare"] == 1
    assert check_fits(ds, mlp(1, 2)) == []


def test_targets_with_no_values_are_refused(tmp_path):
    spec = npz(tmp_path, x=np.zeros((3, 1)), y=np.zeros((3, 0)))
    with pytest.raises(DataError, match=r"^a.npz: array 'y' has shape \[3, 0\]: its samples hold no values$"):
        load_dataset(spec, tmp_path)


def test_standardizing_a_feature_that_barely_varies_in_training_keeps_values_finite(tmp_path):
    # Found by the fuzz test: a training spread below the smallest normal float32 made validation's 2.0 infinite.
    (tmp_path / "tiny.csv").write_text("a0,a1,a2,a3,a4\n0.0,0.0,0.0,0.0,0.0\n0.0,0.0,0.0,1.175494351e-38,0.0\n"
                                       "0.0,0.0,0.0,2.0,0.0\n0.0,0.0,0.0,0.0,0.0")
    ds = load_dataset({"name": "csv", "path": "tiny.csv", "target": "a0", "standardize": "zscore"}, tmp_path)
    assert 2.0 in ds.val.x[:, 2].tolist() + ds.train.x[:, 2].tolist()
    assert bool(ds.train.x.isfinite().all()) and bool(ds.val.x.isfinite().all())
