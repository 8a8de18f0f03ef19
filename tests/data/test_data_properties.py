"""File loading over open-ended input: tables read back exactly, and garbage fails only with DataError."""

import csv
import io

import numpy as np
from fuzzing import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.data import DataError, load_dataset

FAST = settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, width=32)
words = st.text(alphabet="abcxyz", min_size=1, max_size=4)


@settings(max_examples=examples(20), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(numbers, numbers, words), min_size=2, max_size=25))
def test_csv_tables_read_back_exactly(tmp_path, rows):
    path = tmp_path / "t.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "label"])
        w.writerows(rows)
    ds = load_dataset({"name": "csv", "path": "t.csv", "val_fraction": 0}, tmp_path)
    classes = sorted({r[2] for r in rows})
    assert ds.class_names == classes
    got = sorted(zip(map(tuple, ds.train.x.tolist()), [classes[i] for i in ds.train.y.tolist()]))
    want = sorted(((np.float32(a).item(), np.float32(b).item()), c) for a, b, c in rows)
    assert got == want


@FAST
@given(blob=st.binary(max_size=300))
def test_arbitrary_bytes_fail_only_with_data_error(tmp_path, blob):
    for name, file in (("csv", "x.csv"), ("npz", "x.npz"), ("text", "x.txt")):
        (tmp_path / file).write_bytes(blob)
        try:
            load_dataset({"name": name, "path": file, **({"length": 4} if name == "text" else {})}, tmp_path)
        except DataError as exc:
            assert str(exc).startswith((file, "training.dataset."))


@FAST
@given(text=st.text(max_size=200))
def test_arbitrary_csv_text_fails_only_with_data_error(tmp_path, text):
    (tmp_path / "t.csv").write_text(text, encoding="utf-8")
    try:
        ds = load_dataset({"name": "csv", "path": "t.csv", "val_fraction": 0}, tmp_path)
    except DataError as exc:
        assert str(exc).startswith(("t.csv", "training.dataset."))
    else:
        assert len(ds.train) >= 1 and ds.train.x.dtype.is_floating_point


def test_csv_written_by_pandas_style_quoting(tmp_path):
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL)
    w.writerows([["a", "kind"], ["1.5", "x, y"], ["2.5", "z"], ["3.5", "x, y"]])
    (tmp_path / "q.csv").write_text(buf.getvalue())
    ds = load_dataset({"name": "csv", "path": "q.csv", "val_fraction": 0}, tmp_path)
    assert ds.class_names == ["x, y", "z"]
