"""The block library, the graph and the file layer load, a graph is read, its shapes inferred and its
parameters counted (as `studio validate` reports them) without torch: the palette, validate and the
editor's first window do not pay for it."""

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
report = studio.cli.validate.summarize(graph)
assert report["valid"] and report["params"] == 11_689_512, report["params"]  # torchvision's resnet18
print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""


def test_reading_validating_and_counting_resnet18_imports_no_torch():
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT / "examples" / "resnet18.json")],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
