"""Exported code is safe by construction: text from a graph file never becomes code.

A graph's name, description and node labels, its file's name, and its node ids reach the
exported Python source and torchrun script only as string literals, checked names or
docstring text that cannot end its docstring. Crafted files are exported with the command
line and their output imported and run (``--help``) in a subprocess; a property test makes
names, labels, descriptions and file names of quotes, backslashes, ``\\N{...}``, newlines,
template markers, format markers and unicode, and checks that every export parses to the
same code as a plain name gives, holds the text exactly, and runs no payload.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import keyword
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzzing import examples
from studio.cli.main import main
from studio.compile import compile_graph
from studio.export import export_python, export_torchrun_script
from studio.export import torchrun
from studio.export.source_text import MARKER as TEMPLATE_MARKER
from studio.graph import Graph

ROOT = Path(__file__).resolve().parents[2]
XOR = ROOT / "examples" / "xor_perceptron.json"

# A payload leaves this file behind if it ever runs.
RAN = Path(tempfile.gettempdir()) / f"studio-export-payload-ran-{os.getpid()}"
PAYLOAD = f"__import__('pathlib').Path({str(RAN)!r}).touch()"
MARKERS = sorted(set(TEMPLATE_MARKER.findall(torchrun._TEMPLATE)))

FRAGMENTS = [
    '"""', "'''", '"', "'", "\\", "\\\\", "\\N", "\\N{BULLET}", "\\x41", "\\u0041", "\\\n", "\n", "\r", "\r\n",
    "\t", "\x0b", "\x0c", "\x00", "\x1b[31m", "\u2028", "\u2029", "\u202e", "\u200f", "\u061c", "\ufeff",
    "שלום", "مرحبا", "😀", "𝔘𝔫𝔦", "\U0010ffff", "é", "ﬁ",
    "{}", "{0}", "{name}", "{{", "}}", "%s", "%(x)s", "%", "#", "*/", "$(x)", "`x`",
    *(f"__{m}__" for m in MARKERS), "__doc__", "__name__", "__",
    f'x"""\n{PAYLOAD}\n"""', f"x'''\n{PAYLOAD}\n'''", f'",help={PAYLOAD})#', f"',help={PAYLOAD})#",
    f"\\\n{PAYLOAD}", f"\n{PAYLOAD}\n", f"{{{PAYLOAD}}}",
]
texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=5).map("".join)
# a file name holds anything but "/" and NUL; bytes that are no UTF-8 come as surrogates (b"\xff": "\udcff")
stems = st.lists(st.one_of(st.sampled_from([*FRAGMENTS, "\udcff", "\udc80"]), st.text(max_size=6)),
                 max_size=5).map(lambda parts: "".join(parts).replace("/", "_").replace("\x00", "_"))


RAN.unlink(missing_ok=True)


def _xor(name: str = "XOR perceptron", description: str = "", label: str = "") -> Graph:
    graph = Graph(name)
    graph.description = description
    graph.add_node("Input", {"shape": [2]}, (0, 0), "x", label=label)
    graph.add_node("Linear", {"out_features": 2}, (280, 0), "perceptron", label=label)
    graph.connect("x", "out", "perceptron", "in")
    graph.set_training(json.loads(XOR.read_text())["training"])
    return graph


def _shape(source: str) -> str:
    """The code of ``source`` with every string constant emptied and the classes renamed: what user
    text may change. Two sources of one shape differ only inside strings and in the class name."""
    tree = ast.parse(source)
    classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
        elif isinstance(node, ast.ClassDef):
            node.name = "CLASS"
        elif isinstance(node, ast.Name) and node.id in classes:
            node.id = "CLASS"
    return ast.dump(tree)


def _out_default(source: str) -> str:
    """The default of the torchrun script's ``--out`` argument, read from its code."""
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"
                and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == "--out"):
            (default,) = [k.value for k in node.keywords if k.arg == "default"]
            return ast.literal_eval(default)
    raise AssertionError("no --out argument")


PLAIN_PYTHON = _shape(export_python(_xor()))
PLAIN_SCRIPT = _shape(export_torchrun_script(_xor(), "/graphs/xor.json"))


def _script_help(source: str) -> str:
    """What ``python script.py --help`` prints, run in a namespace of its own."""
    namespace: dict = {"__name__": "train"}
    exec(compile(source, "train.py", "exec"), namespace)
    out = io.StringIO()
    with mock.patch.object(sys, "argv", ["train.py", "--help"]), contextlib.redirect_stdout(out):
        with pytest.raises(SystemExit) as info:
            namespace["main"]()
    assert info.value.code == 0
    return out.getvalue()


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=texts, description=texts, label=texts, stem=stems)
def test_user_text_stays_text_in_every_export(name, description, label, stem):
    graph = _xor(name, description, label)
    graph_path = Path("/graphs") / f"{stem}.json"

    python = export_python(graph)
    assert _shape(python) == PLAIN_PYTHON
    namespace: dict = {"__name__": "exported"}
    exec(compile(python, "exported.py", "exec"), namespace)
    assert namespace["GRAPH_NAME"] == name
    (cls,) = [v for v in namespace.values() if isinstance(v, type) and issubclass(v, torch.nn.Module)]
    assert cls.__name__.isidentifier() and not keyword.iskeyword(cls.__name__)
    cls()

    script = export_torchrun_script(graph, graph_path)
    assert _shape(script) == PLAIN_SCRIPT
    assert _out_default(script) == f"{graph_path.stem}.pt"
    assert "--out OUT" in _script_help(script)
    assert not RAN.exists(), "a payload ran"


NODE_IDS = st.one_of(
    st.sampled_from(["x", "class", "None", "self", "input", "forward", "training", "torch", "nn", "F", "math",
                     "MODEL", "TRAINING", "INPUTS", "GRAPH_NAME", "main", "np", "dist", "os", "args", "super",
                     "__init__", "_", "__", "type", "list"]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
)


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ids=st.lists(NODE_IDS, min_size=4, max_size=4, unique=True))
def test_node_ids_become_checked_names_and_the_export_computes_the_same(ids):
    a, b, add, fc = ids
    graph = Graph("two inputs")
    graph.add_node("Input", {"shape": [3]}, (0, 0), a)
    graph.add_node("Input", {"shape": [3]}, (0, 100), b)
    graph.add_node("Add", {}, (200, 0), add)
    graph.add_node("Linear", {"out_features": 2}, (400, 0), fc)
    graph.connect(a, "out", add, "in1")
    graph.connect(b, "out", add, "in2")
    graph.connect(add, "out", fc, "in")
    graph.set_training({"task": "regression", "loss": "mse"})

    namespace: dict = {"__name__": "exported"}
    exec(compile(export_python(graph), "exported.py", "exec"), namespace)
    module = compile_graph(graph).eval()
    model = namespace["TwoInputs"]().eval()
    model.load_state_dict(module.state_dict())
    xs = (torch.randn(2, 3), torch.randn(2, 3))
    assert torch.equal(model(*xs), module(*xs))

    script: dict = {"__name__": "train"}
    exec(compile(export_torchrun_script(graph), "train.py", "exec"), script)
    assert [name for name, _ in script["INPUTS"]] == [a, b]  # the .npz arrays are named after the inputs
    assert not RAN.exists(), "a payload ran"


def test_a_node_id_that_is_no_name_is_refused_naming_the_node(tmp_path, capsys):
    doc = json.loads(XOR.read_text())
    doc["nodes"][0]["id"] = "x\n"  # a trailing newline: refused when the file is read, before any export
    doc["edges"][0]["from"] = "x\n.out"
    path = tmp_path / "xor.json"
    path.write_text(json.dumps(doc))
    for fmt in ("python", "torchrun"):
        assert main(["export", str(path), "--format", fmt]) == 2
        err = capsys.readouterr().err
        assert "nodes[0].id" in err and "\n" not in err.strip()


CRAFTED = [  # (graph name, file name without .json)
    # the name and the file name from the report: they closed a docstring and a string and ran a command
    ('x"""\n__import__(\'os\').system(\'touch pwned\')\n"""', 'x",help=__import__("os").system("touch pwned"))#'),
    # a backslash escape the parser rejects, markers of the torchrun template, quotes of both kinds
    ("net \\N and \\N{BULLET} __MODEL__ __TITLE__ ''' \"\"\"", "bad \\N{ __WEIGHTS__ ''' x"),
    # direction marks, line separators, non-BMP characters, format markers; a file name that is no UTF-8
    ("\u202e\u2028 😀 {} %s {0} \r\n \x00", "\udcff \u202e x {} %s 😀 \"\"\"\r"),
]


def test_crafted_files_export_to_code_that_imports_and_runs_no_payload(tmp_path, capsys):
    RAN.unlink(missing_ok=True)
    doc = json.loads(XOR.read_text())
    doc["description"] = f'"""\n{PAYLOAD}\n"""'
    for node in doc["nodes"]:
        node["label"] = f"'''\n{PAYLOAD}\n'''"
    out = tmp_path / "out"
    out.mkdir()
    for i, (name, stem) in enumerate(CRAFTED):
        path = tmp_path / f"{stem}.json"
        path.write_text(json.dumps({**doc, "name": name}))
        for fmt, target in (("python", f"model_{i}.py"), ("torchrun", f"train_{i}.py"), ("program", f"m_{i}.pt2")):
            assert main(["export", str(path), "--format", fmt, "-o", str(out / target)]) == 0, capsys.readouterr().err
        program = torch.export.load(str(out / f"m_{i}.pt2")).module()
        assert program(torch.zeros(2, 2)).shape == (2, 2)

    env = {**os.environ, "PYTHONPATH": "", "OMP_NUM_THREADS": "1"}
    # the file from the report, run as the report ran it: the script with --help
    run = subprocess.run([sys.executable, "train_0.py", "--help"], cwd=out, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "torchrun --nproc_per_node=N" in run.stdout

    # every model imported as a module and run, every script run with --help, in one fresh interpreter
    driver = (
        "import json, runpy, sys, torch\n"
        "names = []\n"
        "for i in range(3):\n"
        "    module = __import__(f'model_{i}')\n"
        "    names.append(module.GRAPH_NAME)\n"
        "    (cls,) = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, torch.nn.Module)]\n"
        "    assert cls()(torch.zeros(2, 2)).shape == (2, 2)\n"
        "    sys.argv = [f'train_{i}.py', '--help']\n"
        "    try:\n"
        "        runpy.run_path(f'train_{i}.py', run_name='__main__')\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, exc.code\n"
        "print(json.dumps(names))\n"
    )
    run = subprocess.run([sys.executable, "-c", driver], cwd=out, env=env, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    assert json.loads(run.stdout.decode().splitlines()[-1]) == [name for name, _ in CRAFTED]
    assert not (out / "pwned").exists() and not (tmp_path / "pwned").exists() and not RAN.exists()
