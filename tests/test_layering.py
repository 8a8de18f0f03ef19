"""The core runs on a machine without Qt: import every headless package with Qt made unimportable."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import sys

    class NoQt:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6", "pytestqt"):
                raise ImportError(f"{name} is not available on this server")
            return None

    sys.meta_path.insert(0, NoQt())
    import studio, blocks
    import studio.graph, studio.compile, studio.files, studio.data, studio.training
    import studio.cli.validate, studio.cli.train
    graph = studio.load("examples/spiral_mlp.json")
    module = studio.compile(graph)
    import torch
    shape = graph.shapes.output(graph.topological_order()[-1])
    out = module(torch.zeros(3, 2))
    assert tuple(out.shape) == (3, *shape), out.shape
    assert not any(m.split(".")[0] in ("PySide6", "pyqtgraph") for m in sys.modules)
    print("headless ok", sum(p.numel() for p in module.parameters()))
""")


def test_core_imports_and_compiles_without_qt():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("headless ok ")
    assert int(done.stdout.split()[-1]) > 0


def test_the_layers_contract_is_the_readmes_order():
    """import-linter checks the layers in the order the README gives them (bottom first there)."""
    import re
    import tomllib

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## How it is built"):]
    chain = section[: section.index("`studio/launch.py`")]
    written = [m.replace("/", ".") for m in re.findall(r"`(blocks|studio/\w+)/?`(?= \(| →|\n)", chain)]
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [layers] = [c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    assert layers == ["studio.launch"] + written[::-1]
