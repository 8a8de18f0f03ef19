"""The block library, the graph and the file layer load, and a graph is read and its shapes inferred,
without torch: the palette, `studio validate` and the editor's first window do not pay for it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
import blocks, studio.graph, studio.files, studio.cli.validate, studio.doctor.lints
blocks.all_blocks()
graph = studio.files.load(sys.argv[1])
assert graph.shapes.output("fc") is not None, "shapes were not inferred"
print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""


def test_reading_a_graph_and_inferring_its_shapes_imports_no_torch():
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT / "examples" / "resnet18.json")],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
