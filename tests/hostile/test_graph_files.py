"""Crafted graph files: each loads into a graph that can be saved again, or is refused with a
GraphFileError naming the file and the JSON path. Never a traceback, a hang or a flood of memory."""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

try:
    import resource
except ImportError:  # not on Windows
    resource = None
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blocks import ParamError
from fuzzing import examples
from studio.cli.main import main
from studio.files import GraphFileError, dumps, load, loads, save
from studio.files import reader, writer
from studio.graph import Graph, GraphError, NodeIdError, UnsavableError, validate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "spiral_mlp.json"


def example_doc() -> dict:
    return json.loads(EXAMPLE.read_text())


def refusal(text: str, source: str = "bad.json") -> str:
    with pytest.raises(GraphFileError) as info:
        loads(text, source)
    return str(info.value)


def write(tmp_path: Path, text: str, name: str = "bad.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- a lone surrogate: legal JSON, not text ------------------------------------------------

@pytest.mark.parametrize("place, edit", [
    ("name", lambda d: d.update(name="\ud800")),
    ("description", lambda d: d.update(description="ok \udfff")),
    ("nodes[3].label", lambda d: d["nodes"][3].update(label="a\udc80b")),
    ("training.dataset.name", lambda d: d["training"]["dataset"].update(name="\ud800")),
    ('training["\\ud800"]', lambda d: d["training"].update({"\ud800": 1})),
])
def test_a_lone_surrogate_is_refused_naming_its_place(place, edit):
    doc = example_doc()
    edit(doc)
    text = json.dumps(doc)  # ensure_ascii: the file holds the escape \ud800, as a crafted file would
    assert "\\ud" in text
    message = refusal(text)
    assert message.startswith(f"bad.json: {place}: ")
    assert "lone surrogate" in message
    message.encode("utf-8")  # the message itself can be printed and logged


def test_a_surrogate_pair_is_an_ordinary_character():
    doc = example_doc()
    doc["name"] = "\U0001f600 smile"
    graph = loads(json.dumps(doc))  # "\ud83d\ude00" in the file
    assert graph.name == "\U0001f600 smile"
    assert loads(dumps(graph)).name == graph.name


def test_the_graph_refuses_text_it_could_not_save():
    g = Graph("ok")
    for set_bad in (lambda: setattr(g, "name", "\ud800"), lambda: setattr(g, "description", "x\udfff"),
                    lambda: g.add_node("Input", {"shape": [2]}, id="x", label="\ud800"),
                    lambda: g.set_training({"dataset": {"path": "data\udcff.csv"}}),
                    lambda: g.set_training({"optimizer": {"lr": float("nan")}})):
        with pytest.raises(UnsavableError) as info:
            set_bad()
        assert isinstance(info.value, GraphError) and isinstance(info.value, ValueError)
    g.add_node("Input", {"shape": [2]}, id="x", label="input")
    with pytest.raises(UnsavableError, match=r"the label of x holds a lone surrogate"):
        g.set_label("x", "\ud800")
    with pytest.raises(UnsavableError, match=r"training\.dataset\.path: holds a lone surrogate"):
        g.set_training({"dataset": {"path": "data\udcff.csv"}})
    assert (g.name, g.description, g.node("x").label, g.training) == ("ok", "", "input", {})


def test_a_graph_that_cannot_be_written_leaves_no_file_and_says_where(tmp_path):
    g = loads(EXAMPLE.read_text())
    target = tmp_path / "g.json"
    save(g, target)
    before = target.read_bytes()
    g.training["dataset"]["name"] = "\ud800"  # changed in place, past set_training
    for _ in range(3):  # each autosave tick
        with pytest.raises(GraphFileError) as info:
            save(g, target)
        assert str(info.value).startswith(f"{target}: training.dataset.name: holds a lone surrogate")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["g.json"]


def test_text_is_encoded_before_any_file_is_made(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "dumps", lambda graph: '{"name": "\ud800"}\n')
    with pytest.raises(GraphFileError, match="cannot write: the graph holds text a file cannot store"):
        save(Graph(), tmp_path / "g.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failure", [RuntimeError("disk said no"), ValueError("odd"), OSError(28, "No space left on device")])
def test_any_failure_while_writing_removes_the_temporary_file(tmp_path, monkeypatch, failure):
    target = tmp_path / "g.json"
    save(Graph("first"), target)

    def broken_fsync(fd):
        raise failure

    monkeypatch.setattr(writer.os, "fsync", broken_fsync)
    with pytest.raises(GraphFileError) as info:
        save(Graph("second"), target)
    assert str(info.value).startswith(f"{target}: cannot write: ")
    assert loads(target.read_text()).name == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["g.json"]


# ---- numbers ------------------------------------------------------------------------------

def test_an_integer_of_5000_digits_is_refused_with_its_path(tmp_path, capsys):
    text = re.sub(r'"epochs": \d+', '"epochs": ' + "9" * 5000, EXAMPLE.read_text(), count=1)
    assert "9" * 5000 in text
    message = refusal(text)
    assert message.startswith("bad.json: training.epochs: the number 999999999999... has 5000 digits")
    assert len(message) < 200
    path = write(tmp_path, text)
    assert main(["validate", str(path)]) == 2  # the file cannot be read: exit 2, as documented
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"studio validate: {path}: training.epochs: the number")


@pytest.mark.parametrize("number, expected", [
    ("-" + "1" * 4301, "nodes[1].position[0]: the number -11111111111... has 4301 digits"),
    ("1" + "0" * 400 + ".5", "nodes[1].position[0]: the number 100000000000... is too large for a real number"),
    ("1e400", "nodes[1].position[0]: the number 1e400 is too large for a real number"),
])
def test_numbers_no_file_can_hold_are_refused_in_place(number, expected):
    doc = example_doc()
    doc["nodes"][1]["position"] = ["@"]
    text = json.dumps(doc).replace('["@"]', f"[{number}, 0]")
    assert refusal(text).startswith(f"bad.json: {expected}")


def test_out_features_1e308_is_refused_with_its_path(tmp_path, capsys):
    text = EXAMPLE.read_text()
    assert '"out_features": 64' in text
    path = write(tmp_path, text.replace('"out_features": 64', '"out_features": 1e308', 1))
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert err.strip() == (f"studio validate: {path}: nodes[1].params.out_features: out_features must be a whole "
                           "number between -2^63 and 2^63-1 (a 64-bit integer), got 1e+308")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("param, value, reason", [
    ("out_features", 2**63, "out_features must be a whole number between -2^63 and 2^63-1"),
    ("out_features", -(2**63) - 1, "out_features must be a whole number between -2^63 and 2^63-1"),
    ("out_features", 10**39, "out_features must be a whole number between -2^63 and 2^63-1"),
    ("out_features", 16.5, "out_features must be a whole number, got 16.5"),
])
def test_integer_parameters_are_checked_against_int64(param, value, reason):
    doc = example_doc()
    doc["nodes"][1]["params"][param] = value
    assert refusal(json.dumps(doc)).startswith(f"bad.json: nodes[1].params.{param}: {reason}")


def test_int64_edges_load_and_round_trip():
    doc = example_doc()
    doc["nodes"][1]["params"]["out_features"] = 2**63 - 1
    graph = loads(json.dumps(doc))
    assert graph.node(doc["nodes"][1]["id"]).params["out_features"] == 2**63 - 1
    assert loads(dumps(graph)).snapshot() == graph.snapshot()


def test_real_parameters_are_finite_and_of_sane_size():
    g = Graph()
    with pytest.raises(ParamError, match=r"scale_factor must be between -2\^53 and 2\^53"):
        g.add_node("Upsample", {"scale_factor": 1e300})
    with pytest.raises(ParamError, match=r"negative_slope must be between"):
        g.add_node("LeakyReLU", {"negative_slope": 10**400})
    with pytest.raises(ParamError, match=r"alpha must be between"):
        g.add_node("ELU", {"alpha": float("-inf")})
    assert g.add_node("ELU", {"alpha": 2.0**53}).params["alpha"] == 2.0**53


# ---- ids ----------------------------------------------------------------------------------

def test_an_empty_node_id_is_refused_not_renamed():
    doc = example_doc()
    assert doc["nodes"][0]["id"] == "points"
    doc["nodes"][0]["id"] = ""
    doc["edges"] = [e for e in doc["edges"] if not e["from"].startswith("points.")]
    assert refusal(json.dumps(doc)) == "bad.json: nodes[0].id: a node id cannot be empty; give letters, digits and _"
    with pytest.raises(NodeIdError, match="a node id cannot be empty"):
        Graph().add_node("Input", {"shape": [2]}, id="")
    assert Graph().add_node("Input", {"shape": [2]}).id == "input1"  # no id at all still picks one


# ---- parameter counts beyond 2^31 and 2^63 --------------------------------------------------

def wide_graph(fan: int, width: int) -> Graph:
    g = Graph("wide")
    g.add_node("Input", {"shape": [width]}, id="x")
    for i in range(fan):
        g.add_node("Linear", {"out_features": width}, id=f"fc{i}")
        g.connect("x", "out", f"fc{i}", "in")
    return g


def test_parameter_counts_are_exact_past_2_to_the_31():
    g = wide_graph(1, 2**16)
    assert g.param_count("fc0") == g.total_params() == 2**32 + 2**16
    assert validate(g) == []


def test_parameter_counts_are_exact_past_2_to_the_63(tmp_path, capsys):
    g = wide_graph(9, 2**30)  # each layer 2^60 + 2^30 weights, the most torch's meta device can hold
    expected = 9 * (2**60 + 2**30)
    assert expected > 2**63
    assert g.total_params() == expected
    path = tmp_path / "wide.json"
    save(g, path)
    assert main(["validate", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["params"] == expected and report["nodes"][1]["params"] == 2**60 + 2**30
    assert main(["validate", str(path)]) == 0
    assert f"Total: {expected:,} parameters in 10 nodes" in capsys.readouterr().out


def test_a_layer_too_large_to_build_has_no_count_and_says_why():
    g = wide_graph(2, 2**40)
    g.add_node("Linear", {"out_features": 3}, id="small")
    g.connect("x", "out", "small", "in")  # 2^40 x 3 weights: countable
    assert g.param_count("fc0") is None
    assert g.shapes.count_error("fc0").message.startswith("cannot build this layer: ")
    assert g.shapes.count_error("small") is None
    assert g.total_params() == g.param_count("small") == 3 * 2**40 + 3


# ---- what reaches the terminal --------------------------------------------------------------

ESC = "\x1b"


def test_validate_shows_control_characters_escaped(tmp_path, capsys):
    doc = example_doc()
    doc["name"] = f"{ESC}[2J{ESC}]0;owned\x07 \u202eevil \x9b31m caf\u00e9 \u6f22"
    doc["nodes"][1]["label"] = f"{ESC}[31mred"
    doc["training"]["dataset"]["name"] = f"{ESC}[31mspiral"
    doc["edges"].pop()  # a problem too, so problems are printed
    path = tmp_path / "x\x1b[1m.json"
    path.write_text(json.dumps(doc))
    assert main(["validate", str(path)]) == 1
    out, err = capsys.readouterr()
    for raw in (ESC, "\x07", "\u202e", "\x9b"):
        assert raw not in out + err
    assert "\\x1b[2J\\x1b]0;owned\\x07 \\u202eevil \\x9b31m caf\u00e9 \u6f22" in out  # readable text stays readable
    assert "x\\x1b[1m.json" in out

    assert main(["validate", str(path), "--json"]) == 1
    out, _ = capsys.readouterr()
    assert ESC not in out and out.isascii()
    json.loads(out)


def test_validate_escapes_what_a_refusal_quotes(tmp_path, capsys):
    doc = example_doc()
    doc[f"\x9b2J{ESC}[31m"] = 1  # an unknown key, quoted in the message
    path = write(tmp_path, json.dumps(doc))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert ESC not in err and "\x9b" not in err
    assert '["\\x9b2J\\u001b[31m"]: unknown key' in err


# ---- files that are not files ---------------------------------------------------------------

@pytest.mark.skipif(not os.path.exists("/dev/zero") or resource is None, reason="no /dev/zero here")
def test_dev_zero_is_refused_without_reading():
    # In a child held to 2 GiB of address space and a minute, so a regression fails instead of
    # filling this machine's memory.
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    done = subprocess.run([sys.executable, "-m", "studio", "validate", "/dev/zero"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, preexec_fn=limit)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr == "studio validate: /dev/zero: cannot read: this is a device, not a graph file; give a regular .json file\n"


@pytest.mark.timeout(20)  # before the fix this waited for a writer forever
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_at_once(tmp_path, capsys):
    fifo = tmp_path / "graph.json"
    os.mkfifo(fifo)
    with pytest.raises(GraphFileError, match=r"cannot read: this is a FIFO \(named pipe\), not a graph file"):
        load(fifo)
    assert main(["validate", str(fifo)]) == 2


@pytest.mark.timeout(20)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_appearing_after_the_check_does_not_block(tmp_path, monkeypatch):
    fifo = tmp_path / "graph.json"
    os.mkfifo(fifo)
    regular, real_stat = os.stat(EXAMPLE), os.stat
    # as if the path were a regular file when checked and a FIFO by the time it is opened
    monkeypatch.setattr(reader.os, "stat", lambda path, *a, **k: regular if os.fspath(path) == str(fifo)
                        else real_stat(path, *a, **k))
    with pytest.raises(GraphFileError, match="FIFO"):
        load(fifo)


def test_folders_are_refused(tmp_path):
    with pytest.raises(GraphFileError, match="cannot read: this is a folder"):
        load(tmp_path)


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
    big = tmp_path / "big.json"
    with open(big, "wb") as f:  # sparse: costs no disk
        f.truncate(reader.MAX_FILE_BYTES + 1)
    with pytest.raises(GraphFileError) as info:
        load(big)
    assert str(info.value) == (f"{big}: cannot read: the file is 67,108,865 bytes, larger than the 64 MiB "
                               "(67,108,864 bytes) a graph file may be (graph files hold no weights or data)")


def test_a_file_that_grows_while_read_stops_at_the_limit(tmp_path, monkeypatch):
    small = write(tmp_path, "{}")
    real_open, real_read = os.open, os.read
    opened, asked = [], []

    def watch_open(path, *args, **kwargs):
        fd = real_open(path, *args, **kwargs)
        if os.fspath(path) == str(small):
            opened.append(fd)
        return fd

    def endless(fd, n):  # the file keeps growing after its size was checked
        if fd not in opened:
            return real_read(fd, n)
        asked.append(n)
        return b" " * n

    monkeypatch.setattr(reader.os, "open", watch_open)
    monkeypatch.setattr(reader.os, "read", endless)
    with pytest.raises(GraphFileError, match="the file grew past the 64 MiB"):
        load(small)
    assert sum(asked) == reader.MAX_FILE_BYTES + 1


# ---- anything at all in a valid file's place ------------------------------------------------

EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.json")
                  if p.stem not in ("alexnet", "vgg16", "resnet18"))  # the big ones add time, not cases
DOCS = {p.name: json.loads(p.read_text()) for p in EXAMPLES}

# Raw JSON text, so values json.dumps cannot write (5000 digits) or would escape differently go in as they are.
HOSTILE_TEXTS = [
    # huge whole numbers, at and past every limit
    "9223372036854775807", "9223372036854775808", "-9223372036854775809", "2147483648", "9" * 40, "9" * 41,
    "9" * 4300, "9" * 4301, "-" + "9" * 5000, "0", "-1", "1", "16",
    # real numbers
    "1e308", "1e309", "-1e400", "1.7976931348623157e308", "4.9e-324", "0.5", "-0.0", "1" + "0" * 400 + ".5",
    "9007199254740993.0", "1e-400",
    # surrogates, controls, and ordinary unicode
    '"\\ud800"', '"a\\udfffb"', '"\\udc80.out"', '"\\ud83d\\ude00"', '"\\u001b[31mred"', '"\\u009b2J"',
    '"\\u0000"', '"a\\nb"', '"caf\\u00e9"', '"\\u202e"', '""', '"x"', '"input.out"', '"out"',
    # wrong types and deep nesting
    "null", "true", "false", "[]", "{}", "[1, 2]", '{"": 1}', '{"\\ud800": 1}',
    "[" * 30 + "]" * 30, "[" * 3000 + "]" * 3000, '{"a": ' * 2000 + "1" + "}" * 2000,
]
HOSTILE = st.sampled_from(HOSTILE_TEXTS)


def _places(value, path=()):
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _places(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _places(v, path + (i,))


PLACES = [(name, path) for name, doc in DOCS.items() for path in _places(doc) if path]


def hostile_text(name: str, edits: list[tuple[tuple, str, str]]) -> str:
    """The example with each edit applied: a value replaced, or a key renamed, by raw JSON text."""
    doc = json.loads(json.dumps(DOCS[name]))
    raw: dict[str, str] = {}
    for n, (path, action, snippet) in enumerate(edits):
        parent = doc
        try:
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit took that place away
        if not isinstance(parent, (dict, list)):
            continue  # ... or put text there, which indexes but cannot be changed
        marker = f"@hostile{n}@"
        raw[json.dumps(marker)] = snippet
        if action == "rename" and isinstance(parent, dict) and snippet.startswith('"'):
            parent[marker] = parent.pop(path[-1])
        else:
            parent[path[-1]] = marker
    text = json.dumps(doc)
    for marker, snippet in raw.items():
        text = text.replace(marker, snippet)
    return text


def load_save_reload_or_refuse(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "crafted.json"
        path.write_bytes(text.encode("utf-8"))
        try:
            graph = load(path)
        except GraphFileError as exc:
            assert str(exc).startswith(f"{path}: ")
            str(exc).encode("utf-8")  # printable: no surrogate in a message
            return
        validate(graph)
        graph.total_params()
        save(graph, path)
        again = load(path)
        assert again.snapshot() == graph.snapshot()
        assert sorted(os.listdir(folder)) == ["crafted.json"]


@settings(max_examples=examples(60), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(PLACES).flatmap(lambda place: st.tuples(
    st.just(place[0]),
    st.lists(st.tuples(st.sampled_from([p for n, p in PLACES if n == place[0]]),
                       st.sampled_from(["set", "set", "rename"]), HOSTILE), min_size=1, max_size=3))))
def test_hostile_values_anywhere_in_an_example(case):
    name, edits = case
    load_save_reload_or_refuse(hostile_text(name, edits))


def test_every_hostile_value_in_every_place_of_one_example():
    # The exhaustive pass over the smallest example: each value at each place, once.
    name = "xor_perceptron.json"
    places = [p for n, p in PLACES if n == name]
    for snippet in HOSTILE_TEXTS:
        for path in places:
            load_save_reload_or_refuse(hostile_text(name, [(path, "set", snippet)]))


def test_a_node_id_ending_in_a_newline_is_refused():
    from studio.graph import Graph, GraphError

    with pytest.raises(GraphError):
        Graph().add_node("Input", id="x\n")


@pytest.mark.parametrize("far", [1e20, -1e308, 1_000_001])
def test_a_position_beyond_any_canvas_is_refused_with_its_path(far):
    import json

    from studio import files

    doc = {"format": "studio-graph", "version": 1, "name": "far",
           "nodes": [{"id": "x", "block": "Input", "position": [0, far], "params": {"shape": [2]}}],
           "edges": [], "training": {}}
    with pytest.raises(files.GraphFileError) as err:
        files.loads(json.dumps(doc), "far.json")
    assert "nodes[0].position[1]" in str(err.value)
