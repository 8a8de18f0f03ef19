"""The public API: ``import studio`` is cheap; load, validate, compile and save work end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import studio
from studio.files import GraphFileError
from studio.graph import Graph, InvalidGraphError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_studio_loads_neither_torch_nor_qt():
    loaded = json.loads(_run(
        "import json, sys, studio\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'PySide6', 'pyqtgraph', 'networkx', 'studio'))))"
    ))
    assert loaded == ["studio"]


def test_compile_is_callable_whether_or_not_the_compiler_package_was_imported():
    out = _run(
        "import studio\n"
        "g = studio.Graph()\n"
        "g.add_node('Input', {'shape': [3]}, id='x'); g.add_node('Linear', {'out_features': 2}, id='fc')\n"
        "g.connect('x', 'out', 'fc', 'in')\n"
        "first = studio.compile(g)\n"
        "import studio.compile.compiler\n"
        "second = studio.compile(g)\n"
        "print(type(first).__name__, type(second).__name__, sorted(second.state_dict()))\n"
    )
    assert out.split() == ["Network", "Network", "['fc.bias',", "'fc.weight']"]


def test_public_names():
    assert studio.Graph is Graph
    assert studio.validate is __import__("studio.graph", fromlist=["validate"]).validate
    assert {"Graph", "compile", "load", "save", "validate"} <= set(dir(studio))
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        studio.nonsense  # noqa: B018


def test_load_validate_compile_save_round_trip(tmp_path):
    graph = studio.load(EXAMPLES / "lenet5.json")
    assert studio.validate(graph) == []
    model = studio.compile(graph)
    assert sum(p.numel() for p in model.parameters()) == 61_706
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 10)
    assert "conv1 = self.conv1(image)" in model.code  # values are named after node ids
    path = tmp_path / "copy.json"
    studio.save(graph, path)
    again = studio.load(path)
    assert again.snapshot() == graph.snapshot()
    twin = studio.compile(again)
    twin.load_state_dict(model.state_dict())
    x = torch.randn(1, 1, 32, 32)
    assert torch.equal(twin(x), model(x))


def test_bad_inputs_name_their_place(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "studio-graph", "version": 1, "nodes": [{"id": "a", "block": "Nope"}]}')
    with pytest.raises(GraphFileError, match="broken.json"):
        studio.load(broken)
    g = studio.Graph()
    g.add_node("Input", {"shape": [4]}, id="x")
    g.add_node("Linear", {}, id="fc")
    with pytest.raises(InvalidGraphError, match=r"fc\.in: not connected"):
        studio.compile(g)
