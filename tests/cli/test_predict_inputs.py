"""``studio predict`` on the files people actually have: 16-bit, palette and transparent PNGs,
a large photo, empty files, a folder, values beyond float32, digits saved 0..16 for a network
trained on 0..1, a CSV with a BOM and Windows line ends, a file name with spaces and accents;
and the arguments that are not what they should be (a CSV as --weights, a file as --saliency)."""

from __future__ import annotations

import shutil
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.cli.main import main
from studio.compile import compile_networks
from studio.evaluation.inputs import read_image
from studio.evaluation.predict import Predictor
from studio.files import load
from studio.training.checkpoint import save_weights

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ONE = 1.5 / 255  # a grey level, and a little: images are averaged and blended in 8 bits


@pytest.fixture(scope="module")
def lenet(tmp_path_factory):
    """lenet5_digits with seeded, untrained weights: each input's prediction is a fixed function of it."""
    folder = tmp_path_factory.mktemp("lenet")
    graph = folder / "lenet5_digits.json"
    shutil.copy(EXAMPLES / "lenet5_digits.json", graph)
    torch.manual_seed(0)
    nets = compile_networks(load(graph))
    weights = save_weights(folder / "run.safetensors", {k: n.state_dict() for k, n in nets.items()})
    return graph, weights, Predictor.from_files(graph, weights)


def predict(capsys, *args):
    code = main(["predict", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _digit() -> np.ndarray:
    """A white 1 on black, 64 x 64, 8 bits."""
    a = np.zeros((64, 64), np.uint8)
    a[12:52, 28:36] = 255
    a[12:20, 20:28] = 200
    return a


def test_sixteen_bit_palette_and_transparent_pngs_read_as_their_plain_twin(lenet, tmp_path):
    _, _, predictor = lenet
    plain = tmp_path / "plain.png"
    Image.fromarray(_digit()).save(plain)
    want = read_image(plain, predictor)
    assert want.max() > 0.5  # the digit is there

    Image.fromarray(_digit().astype(np.uint16) * 257).save(tmp_path / "deep.png")  # 16 bits: 0..65535
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    np.testing.assert_allclose(read_image(tmp_path / "deep.png", predictor), want, atol=ONE)

    Image.fromarray(_digit()).convert("P").save(tmp_path / "palette.png")
    np.testing.assert_allclose(read_image(tmp_path / "palette.png", predictor), want, atol=ONE)

    # black strokes on a transparent background, as drawing programs save them: the strokes are ink
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[..., 3] = _digit()
    Image.fromarray(rgba, "RGBA").save(tmp_path / "strokes.png")
    np.testing.assert_allclose(read_image(tmp_path / "strokes.png", predictor), want, atol=ONE)

    # an opaque white-on-black picture with a transparent margin: the margin continues the black
    framed = np.zeros((64, 64, 4), np.uint8)
    framed[..., :3] = _digit()[..., None]
    framed[4:60, 4:60, 3] = 255
    framed[:4, :, :3] = 255  # white under the transparent top margin: not to be shown
    Image.fromarray(framed, "RGBA").save(tmp_path / "framed.png")
    np.testing.assert_allclose(read_image(tmp_path / "framed.png", predictor), want, atol=0.02)


def test_a_large_photo_is_reduced_without_float_copies_of_it(lenet, tmp_path):
    _, _, predictor = lenet
    big = np.zeros((6000, 6000), np.uint8)
    big[1500:4500, 2250:3750] = 255
    Image.fromarray(big).save(tmp_path / "big.png")
    del big
    tracemalloc.start()
    try:
        x = read_image(tmp_path / "big.png", predictor)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, f"{peak / 2**20:.0f} MiB of arrays for one 8 x 8 sample"
    assert x.shape == (1, 8, 8) and x[0, 2:6, 3:5].min() > 0.99 and x[0, :, :3].max() < 0.01  # the bar, in the middle


def test_unreadable_and_empty_inputs_say_so(lenet, tmp_path, capsys):
    graph, weights, _ = lenet
    for name in ("empty.npy", "empty.png", "empty.csv", "empty.txt"):
        (tmp_path / name).write_bytes(b"")
        code, out, err = predict(capsys, graph, "--weights", weights, tmp_path / name)
        assert (code, out) == (1, ""), err
        assert err == f"studio predict: {tmp_path / name}: the file is empty (0 bytes): it holds no samples\n"
    (tmp_path / "note.png").write_text("hello")
    code, _, err = predict(capsys, graph, "--weights", weights, tmp_path / "note.png")
    assert code == 2
    assert err == (f"studio predict: {tmp_path / 'note.png'}: cannot read the image: the file holds no PNG, JPEG, "
                   "BMP, GIF, TIFF or WebP data\n")
    code, _, err = predict(capsys, graph, "--weights", weights, tmp_path)
    assert code == 2
    assert err == f"studio predict: {tmp_path}: a folder, not a file of samples; give the files in it " \
                  f"({tmp_path / '*.png'}, ...)\n"


def test_values_beyond_float32_are_refused_without_a_numpy_warning(lenet, tmp_path, capsys):
    graph, weights, _ = lenet
    (tmp_path / "huge.csv").write_text(",".join(["1e300"] + ["0"] * 63) + "\n")
    np.save(tmp_path / "huge.npy", np.full((1, 1, 8, 8), -1e300))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "overflow encountered in cast" would fail here
        code, out, err = predict(capsys, graph, "--weights", weights, tmp_path / "huge.csv")
        assert (code, out) == (1, "")
        assert err == (f"studio predict: {tmp_path / 'huge.csv'} line 1: holds 1e+300, beyond what the network's "
                       "float32 holds (about ±3.4e38)\n")
        code, _, err = predict(capsys, graph, "--weights", weights, tmp_path / "huge.npy")
        assert code == 1 and "huge.npy: holds 1e+300, beyond what the network's float32 holds" in err


def test_samples_far_outside_the_training_range_get_a_note(lenet, tmp_path, capsys):
    graph, weights, predictor = lenet
    assert predictor.raw_range() == pytest.approx((0.0, 1.0))
    rng = np.random.default_rng(0)
    sixteen = rng.integers(0, 17, (2, 64))  # scikit-learn's digits as they come: 0..16
    (tmp_path / "raw16.csv").write_text("".join(",".join(map(str, r)) + "\n" for r in sixteen))
    code, out, err = predict(capsys, graph, "--weights", weights, tmp_path / "raw16.csv")
    assert code == 0 and len(out.splitlines()) == 2
    assert err == (f"studio predict: note: {tmp_path / 'raw16.csv'}:1 and 1 more hold values from 0 to 16, far "
                   "outside the training inputs' 0 to 1: give samples as the data set holds them before its "
                   "scaling, or the predictions may mean little\n")
    (tmp_path / "unit.csv").write_text("".join(",".join(f"{v / 16:.4f}" for v in r) + "\n" for r in sixteen))
    code, out, err = predict(capsys, graph, "--weights", weights, tmp_path / "unit.csv")
    assert (code, err) == (0, "")


def test_a_bom_windows_line_ends_and_a_name_with_spaces_and_accents(lenet, tmp_path, capsys):
    graph, weights, predictor = lenet
    rows = np.random.default_rng(1).random((2, 64))
    want = predictor.predict(rows.reshape(2, 1, 8, 8)).probabilities
    text = "\r\n".join(",".join(f"{v:.6f}" for v in r) for r in rows) + "\r\n\r\n"
    path = tmp_path / "mes chiffres é.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    code, out, err = predict(capsys, graph, "--weights", weights, path, "--top", "1")
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split("  ")[0] for line in lines] == [f"{path}:1", f"{path}:2"]
    best = [f"{want[i].argmax()} {want[i].max():6.1%}" for i in range(2)]
    assert [line.split("  ", 1)[1].strip() for line in lines] == [b.strip() for b in best]


def test_arguments_that_name_the_wrong_kind_of_file(lenet, tmp_path, capsys):
    graph, weights, _ = lenet
    (tmp_path / "rows.csv").write_text(",".join(["0"] * 64) + "\n")
    code, out, err = predict(capsys, graph, "--weights", tmp_path / "rows.csv", tmp_path / "rows.csv")
    assert (code, out) == (2, "")
    assert err == (f"studio predict: {tmp_path / 'rows.csv'}: not a weights file; give the .safetensors a run "
                   "saved (or its .train.pt)\n")
    code = main(["evaluate", str(graph), "--weights", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 2
    assert err == f"studio evaluate: {tmp_path}: a folder, not a weights file (give the .safetensors a run saved)\n"
    Image.fromarray(_digit()).save(tmp_path / "one.png")
    code, out, err = predict(capsys, graph, "--weights", weights, tmp_path / "one.png", "--saliency",
                             tmp_path / "rows.csv")
    assert (code, out) == (2, "")
    assert err == f"studio predict: --saliency {tmp_path / 'rows.csv'}: a file, not a folder for the heat maps\n"
    assert (tmp_path / "rows.csv").read_text() == ",".join(["0"] * 64) + "\n"


def test_an_image_is_refused_by_a_forecast(tmp_path, capsys):
    graph = load(EXAMPLES / "lstm_sequence.json")
    path = tmp_path / "lstm_sequence.json"
    shutil.copy(EXAMPLES / "lstm_sequence.json", path)
    torch.manual_seed(0)
    nets = compile_networks(graph)
    weights = save_weights(tmp_path / "w.safetensors", {k: n.state_dict() for k, n in nets.items()})
    Image.fromarray(_digit()).save(tmp_path / "one.png")
    code, out, err = predict(capsys, path, "--weights", weights, tmp_path / "one.png")
    assert (code, out) == (1, "")
    assert err == (f"studio predict: {tmp_path / 'one.png'}: an image, but the network takes [20, 1] float samples "
                   "(windows of a series), not an image\n")


def _csv_network(tmp_path: Path, features: int, dataset: dict) -> tuple[Path, Path]:
    """A small classifier imported from torch, trained on nothing, over a CSV data set."""
    from studio.importing import import_model, write

    torch.manual_seed(0)
    imported = import_model(torch.nn.Sequential(torch.nn.Linear(features, 6), torch.nn.ReLU(),
                                                torch.nn.Linear(6, 2)), [(features,)])
    imported.graph.set_training({"task": "classification", "dataset": dataset, "epochs": 1})
    graph, weights = tmp_path / "net.json", tmp_path / "net.safetensors"
    write(imported, graph, weights)
    return graph, weights


def test_the_training_csv_itself_with_its_delimiter_and_its_text_columns(tmp_path, capsys):
    rng = np.random.default_rng(0)
    colours = ["red", "blue", "green"]
    rows = [(rng.normal(), colours[i % 3], rng.normal(), "up" if i % 2 else "down") for i in range(30)]
    (tmp_path / "t.csv").write_text("a;colour;b;label\n" + "".join(f"{a:.4f};{c};{b:.4f};{y}\n" for a, c, b, y in rows))
    graph, weights = _csv_network(tmp_path, 5, {"name": "csv", "path": "t.csv", "target": "label", "delimiter": ";",
                                                "standardize": "zscore"})
    predictor = Predictor.from_files(graph, weights)
    names = predictor.dataset.extra["feature_names"]
    assert names == ["a", "colour=blue", "colour=green", "colour=red", "b"]
    one_hot = np.array([[a, c == "blue", c == "green", c == "red", b] for a, c, b, _ in rows], np.float64)
    want = predictor.predict(one_hot).probabilities
    code, out, err = predict(capsys, graph, "--weights", weights, tmp_path / "t.csv", "--json")
    assert code == 0, err
    import json

    got = json.loads(out)["predictions"]
    assert len(got) == 30 and got[0]["input"] == f"{tmp_path / 't.csv'}:2"
    by_class = [{t["class"]: t["probability"] for t in p["top"]} for p in got]
    np.testing.assert_allclose([[p["down"], p["up"]] for p in by_class], want, rtol=1e-5)
    (tmp_path / "new.csv").write_text("b;colour;a\n0.5;purple;1\n")
    code, out, err = predict(capsys, graph, "--weights", weights, tmp_path / "new.csv")
    assert (code, out) == (1, "")
    assert err == (f"studio predict: {tmp_path / 'new.csv'} line 2, column colour: 'purple' is not one of the "
                   "training file's values (blue, green, red)\n")


def test_a_semicolon_table_for_a_network_of_another_data_set(lenet, tmp_path, capsys):
    graph, weights, predictor = lenet
    rows = np.random.default_rng(2).random((2, 64))
    (tmp_path / "semi.csv").write_text("".join(";".join(f"{v:.5f}" for v in r) + "\n" for r in rows))
    code, out, err = predict(capsys, graph, "--weights", weights, tmp_path / "semi.csv", "--top", "1")
    assert code == 0, err
    want = predictor.predict(rows.reshape(2, 1, 8, 8)).probabilities.argmax(1)
    assert [int(line.split()[1]) for line in out.splitlines()] == list(want)


def test_saliency_maps_are_written_all_or_none(lenet, tmp_path, capsys):
    graph, weights, _ = lenet
    for name in ("a", "b"):
        Image.fromarray(_digit()).save(tmp_path / f"{name}.png")
    maps = tmp_path / "maps"
    (maps / "b.saliency.png").mkdir(parents=True)  # where the second map would go
    code, out, err = predict(capsys, graph, "--weights", weights, tmp_path / "a.png", tmp_path / "b.png",
                             "--saliency", maps)
    assert (code, out) == (2, "")
    assert err.startswith(f"studio predict: cannot write {maps / 'b.saliency.png'}: ")
    assert sorted(p.name for p in maps.iterdir()) == ["b.saliency.png"]  # no a.saliency.png, no temporary file
    (maps / "b.saliency.png").rmdir()
    code, out, err = predict(capsys, graph, "--weights", weights, tmp_path / "a.png", tmp_path / "b.png",
                             "--saliency", maps)
    assert code == 0, err
    assert sorted(p.name for p in maps.iterdir()) == ["a.saliency.png", "b.saliency.png"]


def test_a_photo_taken_sideways_is_read_upright(lenet, tmp_path):
    _, _, predictor = lenet
    Image.fromarray(_digit()).save(tmp_path / "upright.png")
    # as a phone saves it: the pixels turned, and EXIF orientation 6 (rotate 90 degrees clockwise to view)
    sideways = Image.fromarray(np.rot90(_digit(), 1).copy())
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways.save(tmp_path / "phone.jpg", exif=exif, quality=100)
    np.testing.assert_allclose(read_image(tmp_path / "phone.jpg", predictor),
                               read_image(tmp_path / "upright.png", predictor), atol=0.03)
