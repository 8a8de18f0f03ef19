"""Every broken graph of the zoo: the doctor names the finding and its node, its fix mends
the graph (no error, the finding gone), and the mended graph trains to its target."""

from __future__ import annotations

import pytest
import torch

from studio.data import load_dataset
from studio.doctor.lints import diagnose
from studio.files.reach import Reach
from studio.graph.fixes import apply_fix
from studio.training import Trainer, TrainingConfig

from .zoo import EXAMPLES, ZOO


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def _dataset(graph):
    return load_dataset(graph.training["dataset"], Reach.of(EXAMPLES))


@pytest.mark.parametrize("broken", ZOO, ids=[b.name for b in ZOO])
def test_the_doctor_finds_it_the_fix_mends_it_and_it_trains(broken):
    graph = broken.graph()
    dataset = _dataset(graph)
    found = diagnose(graph, dataset)
    hits = [p for p in found if p.code == broken.code]
    assert hits, f"{broken.name}: expected {broken.code}, found {[(p.code, p.node, p.message) for p in found]}"
    finding = hits[0]
    assert finding.node == broken.node
    assert len(finding.fixes) > broken.fix and finding.message

    before = graph.snapshot()
    journal = apply_fix(graph, finding.fixes[broken.fix])
    after = diagnose(graph, dataset)
    assert after == [], [str(p) for p in after]  # mended, and the fix brought no new finding
    fixed = graph.snapshot()
    journal.undo(graph)  # one step, and exactly
    assert graph.snapshot() == before
    journal.redo(graph)
    assert graph.snapshot() == fixed

    training = {**graph.training, "epochs": broken.epochs, "probes": False, "threads": 1}
    result = Trainer(graph, dataset, TrainingConfig.from_dict(training), base_dir=EXAMPLES).run()
    assert result.status == "finished", result.message
    last = result.history[-1]
    if broken.min_acc is not None:
        acc = last.val_acc if last.val_acc is not None else last.train_acc
        assert acc >= broken.min_acc, f"{broken.name}: accuracy {acc} after the fix"
    if broken.max_loss is not None:
        loss = last.val_loss if last.val_loss is not None else last.train_loss
        assert loss <= broken.max_loss, f"{broken.name}: loss {loss} after the fix"


def test_the_zoo_is_large_and_every_finding_is_in_the_docs():
    """docs/checks.md has a section for every code the doctor can report."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    checks = (root / "docs" / "checks.md").read_text()
    assert len(ZOO) >= 15
    patterns = (r'code="([a-z]+(?:-[a-z]+)+)"', r'"lint", "(?:warning|error)", "([a-z]+(?:-[a-z]+)+)"',
                r'_warning\([\w.]+, "([a-z]+(?:-[a-z]+)+)"', r'"(overfit-batch)"', r'code = "([a-z]+(?:-[a-z]+)+)"')
    codes = set()
    for path in [*(root / "studio").rglob("*.py")]:
        text = path.read_text()
        for pattern in patterns:
            codes.update(re.findall(pattern, text))
    codes.update(b.code for b in ZOO)
    assert len(codes) >= 20, sorted(codes)
    missing = [c for c in sorted(codes) if f"`{c}`" not in checks]
    assert not missing, missing
