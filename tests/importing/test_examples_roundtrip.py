"""Every example that compiles, exported as Python, imported back: the same outputs and
parameter count. An example that cannot round-trip would be listed here with its reason
(and in docs/import.md); today every one does."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from studio.compile import compile_networks
from studio.export import export_python
from studio.export.python_source import ModelSource
from studio.files import load
from studio.graph import validate
from studio.importing import import_model, model_from
from studio.training.checkpoint import flatten, load_flat_state

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.json"))

# example file name -> why it cannot round-trip (none today)
CANNOT_ROUND_TRIP: dict[str, str] = {}


def _compiles(path: Path) -> bool:
    return not validate(load(path))


def test_every_example_is_checked_or_listed():
    assert EXAMPLES, "no examples found"
    assert all(_compiles(p) or p.name in CANNOT_ROUND_TRIP for p in EXAMPLES)


LARGE = {"vgg16.json", "alexnet.json"}  # hundreds of MB of weights: `make test-large`


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.large) if p.name in LARGE else p
                                  for p in EXAMPLES if p.name not in CANNOT_ROUND_TRIP], ids=lambda p: p.stem)
def test_exported_class_imports_back_the_same(path, tmp_path):
    graph = load(path)
    exported = tmp_path / f"{path.stem}_exported.py"  # as a person would: studio export -o, then import
    with torch.device("meta"):  # source and names only: no time spent drawing weights
        exported.write_text(export_python(graph))
        names = ModelSource(graph).names
        networks = compile_networks(graph)
    vocab = min([n.params["num_embeddings"] for n in graph.nodes.values() if n.block == "Embedding"] or [2])
    for key, net in networks.items():
        torch.manual_seed(0)
        original, _ = model_from(f"{exported}:{names[key]}")
        original.eval()
        inputs = [graph.node(i).params for i in net.input_nodes]
        result = import_model(original, [p["shape"] for p in inputs], [p["dtype"] for p in inputs])
        back = compile_networks(result.graph)
        load_flat_state(back, flatten(result.weights), "imported weights")
        (back,) = back.values()
        back.eval()
        xs = [torch.randint(0, vocab, (3, *p["shape"])) if p["dtype"] == "long" else torch.randn(3, *p["shape"])
              for p in inputs]
        if path.stem == "gcn_karate":  # an adjacency of 0s and 1s, as the data set gives
            xs[1] = (xs[1] > 0.5).float()
        with torch.no_grad():
            want, got = original(*xs), back(*xs)
        assert torch.allclose(got, want, atol=1e-5), f"{path.name} {key}: {(got - want).abs().max()}"
        count = sum(p.numel() for p in original.parameters())
        assert sum(p.numel() for p in back.parameters()) == count
        # the blocks come back as they were: same blocks, same parameters
        assert sorted(n.block for n in result.graph.nodes.values()) == sorted(
            graph.node(n).block for n in net.meta["nodes"])
