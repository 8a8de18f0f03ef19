"""``studio predict``: trained digits told apart from .npy arrays and PNG files, every
kind of input, saliency maps, and every refusal naming its place."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.cli.main import main
from studio.compile import compile_networks
from studio.data import load_dataset
from studio.evaluation.inputs import image_to_input
from studio.evaluation.predict import Prediction, Predictor, PredictError
from studio.files import load, save
from studio.training.checkpoint import save_weights

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def predict(capsys, *args):
    code = main(["predict", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """lenet5_digits trained a few epochs through ``studio train``, and ten validation digits raw."""
    folder = tmp_path_factory.mktemp("digits")
    graph = folder / "lenet5_digits.json"
    shutil.copy(EXAMPLES / "lenet5_digits.json", graph)
    assert main(["train", str(graph), "--epochs", "4", "--checkpoint", str(folder / "run")]) == 0
    spec = load(graph).training["dataset"]
    data = load_dataset(spec)
    raw = data.scaler.invert(data.val.x[:10]).numpy()  # as the digits were before standardisation
    assert raw.min() >= 0 and raw.max() <= 1.0 + 1e-5
    return folder, graph, folder / "run.safetensors", raw, data.val.targets[:10].numpy()


def untrained(tmp_path: Path, example: str, **training) -> tuple[Path, Path]:
    """An example copied beside freshly drawn weights: enough to test what is refused."""
    graph = load(EXAMPLES / f"{example}.json")
    if training:
        graph.set_training({**graph.training, **training})
    path = tmp_path / f"{example}.json"
    save(graph, path)
    torch.manual_seed(0)
    nets = compile_networks(graph)
    weights = save_weights(tmp_path / f"{example}.safetensors", {k: n.state_dict() for k, n in nets.items()})
    return path, weights


def test_digits_from_npy_and_png(digits, tmp_path, capsys):
    folder, graph, weights, raw, labels = digits
    np.save(tmp_path / "val.npy", raw)
    pngs = []
    for i, sample in enumerate(raw):
        ink = (np.clip(sample[0], 0, 1) * 255).round().astype(np.uint8)
        if i % 2:  # black ink on white paper: inverted back before it is read
            ink = 255 - ink
        path = tmp_path / f"digit{i}.png"
        Image.fromarray(np.kron(ink, np.ones((4, 4), np.uint8))).save(path)  # 32 x 32, as a person might draw
        pngs.append(path)
    code, out, err = predict(capsys, graph, "--weights", weights, tmp_path / "val.npy", *pngs, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["kind"] == "classes" and result["class_names"] == [str(i) for i in range(10)]
    items = result["predictions"]
    assert [p["input"] for p in items] == [f"{tmp_path / 'val.npy'}[{i}]" for i in range(10)] + list(map(str, pngs))
    from_npy = [int(p["predicted"]) for p in items[:10]]
    from_png = [int(p["predicted"]) for p in items[10:]]
    assert sum(p == t for p, t in zip(from_npy, labels)) >= 9, (from_npy, labels)
    assert sum(p == t for p, t in zip(from_png, labels)) >= 9, (from_png, labels)
    for p in items:
        assert len(p["top"]) == 3 and p["top"][0]["class"] == p["predicted"]
        assert p["top"][0]["probability"] >= p["top"][1]["probability"] >= p["top"][2]["probability"]

    code, out, _ = predict(capsys, graph, "--weights", weights, tmp_path / "val.npy", "--top", "2")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 10
    first = lines[0].split()
    assert first[0] == f"{tmp_path / 'val.npy'}[0]" and first[1] == str(from_npy[0]) and first[2].endswith("%")
    assert len(first) == 5  # name, then two classes with their probabilities


def test_predictor_matches_the_network_on_scaled_data(digits):
    _, graph, weights, raw, _ = digits
    predictor = Predictor.from_files(graph, weights)
    assert predictor.input_shape == (1, 8, 8) and predictor.input_dtype == "float"
    assert predictor.class_names == tuple(str(i) for i in range(10)) and predictor.task == "classification"
    lo, hi = predictor.raw_range()
    assert lo == 0.0 and hi == pytest.approx(1.0)
    scaler = predictor.dataset.scaler
    with torch.no_grad():
        expected = torch.softmax(predictor.network(scaler.apply(torch.as_tensor(raw))), -1).numpy()
    got = predictor.predict(raw)
    np.testing.assert_allclose(got.probabilities, expected, rtol=1e-5, atol=1e-7)
    one = predictor.predict(raw[0])  # one sample without its batch dimension
    np.testing.assert_allclose(one.probabilities[0], expected[0], rtol=1e-5, atol=1e-7)
    top = got.top(10)
    assert [c for c, _ in top[0]] == [str(c) for c in np.argsort(-expected[0], kind="stable")]
    # the drawing canvas's path: a grey image 0..1 with 1 as ink, at any size
    big = np.kron(raw[0, 0], np.ones((5, 5)))
    np.testing.assert_allclose(image_to_input(big / hi, predictor), raw[0], atol=1e-5)


def test_saliency(digits, tmp_path, capsys):
    _, graph, weights, raw, _ = digits
    predictor = Predictor.from_files(graph, weights)
    sal = predictor.saliency(raw[:3])
    assert sal.shape == (3, 1, 8, 8) and (sal >= 0).all()
    blank = np.abs(raw[:3]) < 1e-6  # gradient x input: no ink, no part in the prediction
    assert blank.any() and (sal[blank] <= 1e-5 * sal.max()).all() and (sal.reshape(3, -1).sum(1) > 0).all()
    other = predictor.saliency(raw[:1], target=(int(predictor.predict(raw[:1]).classes()[0]) + 1) % 10)
    assert not np.allclose(other, sal[:1])
    with pytest.raises(PredictError, match="class 12 is not one of the 10"):
        predictor.saliency(raw[:1], target=12)
    png = tmp_path / "seven.png"
    Image.fromarray((raw[2, 0] * 255).astype(np.uint8)).save(png)
    np.save(tmp_path / "x.npy", raw[:2])
    out_dir = tmp_path / "maps"
    code, out, err = predict(capsys, graph, "--weights", weights, png, tmp_path / "x.npy", "--saliency", out_dir)
    assert code == 0, err
    written = sorted(out_dir.iterdir())
    assert [p.name for p in written] == ["seven.saliency.png"]  # image inputs only
    with Image.open(written[0]) as img:
        assert img.size == (256, 256) and img.mode == "RGB"
        heat = np.asarray(img)[::32, ::32, 0]  # one value per input pixel (nearest upscaling)
    assert (heat[np.abs(raw[2, 0]) < 1e-6] == 0).all() and heat.max() == 255


def test_prediction_shapes_for_values_and_tokens(tmp_path, capsys):
    # a forecast: values in the series' own units, although the model sees them standardised
    spec = {"name": "sine", "samples": 100, "length": 20, "horizon": 1, "noise": 0.05, "val_fraction": 0.2,
            "seed": 0, "standardize": "zscore"}
    graph, weights = untrained(tmp_path, "lstm_sequence", dataset=spec)
    predictor = Predictor.from_files(graph, weights)
    data = predictor.dataset
    raw = data.scaler.invert(data.val.x[:3])
    got = predictor.predict(raw.numpy())
    with torch.no_grad():
        scaled_out = predictor.network(data.val.x[:3]).numpy()
    shift, scale = float(data.scaler.shift.reshape(())), float(data.scaler.scale.reshape(()))
    assert got.kind == "values" and got.values.shape == (3, 1)
    np.testing.assert_allclose(got.values, scaled_out * scale + shift, rtol=1e-5)
    lines = tmp_path / "series.txt"
    lines.write_text("\n".join(" ".join(f"{v:.6f}" for v in row) for row in raw.numpy()[:, :, 0]) + "\n\n")
    code, out, err = predict(capsys, graph, "--weights", weights, lines, "--json")
    assert code == 0, err
    items = json.loads(out)["predictions"]
    assert [p["input"] for p in items] == [f"{lines}:{i}" for i in (1, 2, 3)]
    np.testing.assert_allclose([p["values"][0] for p in items], got.values[:, 0], rtol=1e-4)

    # per-position tokens: one class per position, read through the vocabulary
    graph, weights = untrained(tmp_path, "transformer_sequence")
    text = tmp_path / "tokens.txt"
    text.write_text("0 1 2 3 4 5 6 7\n76543210\n")
    code, out, err = predict(capsys, graph, "--weights", weights, text)
    assert code == 0, err
    rows = out.splitlines()
    assert len(rows) == 2 and rows[0].startswith(f"{text}:1") and "least sure position" in rows[0]
    assert len(rows[0].split("(")[0].split()) == 1 + 8
    p = Predictor.from_files(graph, weights).predict(np.array([[0, 1, 2, 3, 4, 5, 6, 7]]))
    assert p.probabilities.shape == (1, 8, 10) and len(p.top()[0]) == 8
    np.testing.assert_allclose(p.probabilities.sum(-1), 1.0, rtol=1e-6)


def test_csv_rows_with_and_without_header(tmp_path, capsys):
    table = tmp_path / "points.csv"
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(30, 3))
    table.write_text("a,b,label\n" + "".join(f"{x:.4f},{y:.4f},{'up' if z > 0 else 'down'}\n" for x, y, z in rows))
    graph, weights = untrained(tmp_path, "xor_mlp", dataset={"name": "csv", "path": "points.csv",
                                                              "target": "label", "standardize": "zscore"})
    predictor = Predictor.from_files(graph, weights)
    expected = predictor.predict(rows[:, :2]).probabilities
    # the training file itself: the header names the features, the target column is left out
    code, out, err = predict(capsys, graph, "--weights", weights, table, "--json")
    assert code == 0, err
    items = json.loads(out)["predictions"]
    assert len(items) == 30 and items[0]["input"] == f"{table}:2"
    got = [[t["probability"] for t in sorted(p["top"], key=lambda t: t["class"])] for p in items]
    np.testing.assert_allclose(got, np.stack([expected[:, 0], expected[:, 1]], 1), rtol=1e-5)
    bare = tmp_path / "bare.csv"
    bare.write_text("0.1,0.2\n\n-1,3\n")
    code, out, err = predict(capsys, graph, "--weights", weights, bare)
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines()] == [f"{bare}:1", f"{bare}:3"]


# ---- refusals --------------------------------------------------------------------------------------

def refused(capsys, *args, code=1):
    got, out, err = predict(capsys, *args)
    assert got == code, err
    assert out == "" and err.startswith("studio predict: ")
    return err


def test_refused_inputs_name_their_place(digits, tmp_path, capsys):
    _, graph, weights, raw, _ = digits
    w = ["--weights", weights]
    np.save(tmp_path / "x.npy", np.zeros((1, 28, 28), np.float32))
    assert "x.npy: samples are [1, 28, 28], the network takes [1, 8, 8]" in refused(capsys, graph, *w, tmp_path / "x.npy")
    np.save(tmp_path / "many.npy", np.zeros((4, 64), np.float32))
    assert ("many.npy: holds an array [4, 64]; the network takes samples [1, 8, 8] (give [n, 1, 8, 8], or one "
            "sample [1, 8, 8])") in refused(capsys, graph, *w, tmp_path / "many.npy")
    np.save(tmp_path / "wide.npy", np.zeros((4, 1, 8, 9), np.float32))
    assert "wide.npy: samples are [1, 8, 9], the network takes [1, 8, 8]" in refused(capsys, graph, *w, tmp_path / "wide.npy")
    np.save(tmp_path / "empty.npy", np.zeros((0, 1, 8, 8), np.float32))
    assert "empty.npy: holds no samples (an array [0, 1, 8, 8])" in refused(capsys, graph, *w, tmp_path / "empty.npy")
    bad = raw[:2].copy()
    bad[1, 0, 3, 3] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    assert "nan.npy: holds values that are not finite" in refused(capsys, graph, *w, tmp_path / "nan.npy")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert "objects.npy: holds Python objects (a pickle), which are never loaded" in refused(
        capsys, graph, *w, tmp_path / "objects.npy")
    np.savez(tmp_path / "arch.npz", x=raw)
    assert "arch.npz: an .npz archive; give one .npy array" in refused(capsys, graph, *w, tmp_path / "arch.npz")
    (tmp_path / "short.csv").write_text(",".join(["0"] * 64) + "\n" + ",".join(["0"] * 63) + "\n")
    assert "short.csv line 2: 63 values, the network takes 64" in refused(capsys, graph, *w, tmp_path / "short.csv")
    (tmp_path / "word.csv").write_text(",".join(["0"] * 64) + "\n" + ",".join(["0"] * 4 + ["ten"] + ["0"] * 59) + "\n")
    assert "word.csv line 2, column 5: 'ten' is not a number" in refused(capsys, graph, *w, tmp_path / "word.csv")
    (tmp_path / "head.csv").write_text("a,b,c\n1,2,3\n")
    assert "head.csv line 1: the header names 3 columns, the network takes 64 features" in refused(
        capsys, graph, *w, tmp_path / "head.csv")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    assert "broken.png: cannot read the image" in refused(capsys, graph, *w, tmp_path / "broken.png", code=2)
    assert f"{tmp_path / 'gone.npy'}: no such file" in refused(capsys, graph, *w, tmp_path / "gone.npy", code=2)
    (tmp_path / "latin.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    assert "latin.txt: not UTF-8 text" in refused(capsys, graph, *w, tmp_path / "latin.txt", code=2)
    (tmp_path / "numbers.txt").write_text("1 2 3\n")
    assert "numbers.txt line 1: 3 values, the network takes 64" in refused(capsys, graph, *w, tmp_path / "numbers.txt")
    # nothing is printed for the good inputs before a bad one: all are read first
    np.save(tmp_path / "good.npy", raw)
    refused(capsys, graph, *w, tmp_path / "good.npy", tmp_path / "x.npy")


def test_refused_tokens_images_and_graphs(tmp_path, capsys):
    graph, weights = untrained(tmp_path, "transformer_sequence")
    w = ["--weights", weights]
    (tmp_path / "unknown.txt").write_text("0 1 2 3 4 5 6 7\n0 1 2 x 4 5 6 7\n")
    err = refused(capsys, graph, *w, tmp_path / "unknown.txt")
    assert "unknown.txt line 2: token 'x' is not in the data set's vocabulary (10 tokens: '0', '1'" in err
    (tmp_path / "long.txt").write_text("\n\n0 1 2 3 4 5 6 7 8\n")
    assert "long.txt line 3: 9 tokens, the network takes 8" in refused(capsys, graph, *w, tmp_path / "long.txt")
    np.save(tmp_path / "ids.npy", np.array([[0, 1, 2, 3, 4, 5, 6, 17]]))
    assert "ids.npy: token id 17 is outside the vocabulary (ids 0 to 9)" in refused(capsys, graph, *w, tmp_path / "ids.npy")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "pic.png")
    assert "pic.png: an image, but the network takes [8] long samples, not an image" in refused(
        capsys, graph, *w, tmp_path / "pic.png")

    gan, gan_weights = untrained(tmp_path, "gan_ring2d")
    (tmp_path / "p.csv").write_text("1,2\n")
    assert "is a gan set: a gan generates from noise" in refused(capsys, gan, "--weights", gan_weights, tmp_path / "p.csv")
    karate, karate_weights = untrained(tmp_path, "gcn_karate")
    assert "node classifier takes a whole graph" in refused(capsys, karate, "--weights", karate_weights,
                                                             tmp_path / "p.csv")
    # weights of another graph, weights that are not there, a graph file that is not one
    spiral, _ = untrained(tmp_path, "spiral_mlp")
    assert "was it saved from another graph?" in refused(capsys, spiral, *w, tmp_path / "p.csv")
    assert "no such weights file" in refused(capsys, spiral, "--weights", tmp_path / "none.safetensors",
                                             tmp_path / "p.csv", code=2)
    (tmp_path / "bad.json").write_text("{not json")
    assert "bad.json" in refused(capsys, tmp_path / "bad.json", *w, tmp_path / "p.csv", code=2)
    assert predict(capsys, spiral, *w, tmp_path / "p.csv", "--top", "0")[0] == 2
    assert predict(capsys, spiral, tmp_path / "p.csv")[0] == 2  # --weights is required


def test_data_outside_the_folder_needs_leave(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "t.csv").write_text("a,b,label\n" + "".join(f"{i},{-i},{i % 2}\n" for i in range(20)))
    inner = tmp_path / "graphs"
    inner.mkdir()
    graph, weights = untrained(inner, "xor_mlp", dataset={"name": "csv", "path": "../data/t.csv", "target": "label"})
    (tmp_path / "p.csv").write_text("1,2\n")
    err = refused(capsys, graph, "--weights", weights, tmp_path / "p.csv")
    assert "outside the graph's folder" in err and "--allow-outside" in err
    code, out, _ = predict(capsys, graph, "--weights", weights, tmp_path / "p.csv", "--allow-outside", data)
    assert code == 0 and out.startswith(f"{tmp_path / 'p.csv'}:1")


def test_prediction_json_and_top():
    p = Prediction("classes", np.array([[0.1, 0.7, 0.2]]), None, ("a", "b", "c"))
    assert p.top(2) == [[("b", 0.7), ("c", 0.2)]] and p.top(9) == [[("b", 0.7), ("c", 0.2), ("a", 0.1)]]
    assert p.to_json(1) == [{"predicted": "b", "probability": 0.7, "top": [{"class": "b", "probability": 0.7}]}]
    v = Prediction("values", None, np.array([[1.5], [2.0]]), ())
    assert v.top() == [[("value", 1.5)], [("value", 2.0)]] and v.to_json() == [{"values": [1.5]}, {"values": [2.0]}]


def test_predict_as_a_command(digits, tmp_path):
    _, graph, weights, raw, labels = digits
    np.save(tmp_path / "three.npy", raw[:3])
    done = subprocess.run([sys.executable, "-m", "studio", "predict", str(graph), "--weights", str(weights),
                           str(tmp_path / "three.npy"), "--top", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and all(len(line.split()) == 3 for line in lines)
    # A refusal's exit status through ``python -m studio``: test_validate's garbled file; the
    # refusal of a missing input file: test_refused_inputs_name_their_place, in process.
