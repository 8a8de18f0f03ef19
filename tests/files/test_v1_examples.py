"""Every example, as a version 1 file (before groups), opens, saves as version 2 and reads back
the same; the flat ResNet-18 of version 1 is the grouped example's network.

A flat example's version 1 file is its document with ``"version": 1`` and no
"definitions". An example drawn with groups was flat in version 1: that file is kept
in tests/files/v1 (``GROUPED``), and opens as the flat network it was, whose
parameters and outputs are the grouped example's.
"""

import json
from pathlib import Path

import pytest
import torch

from studio.compile import compile_graph
from studio.files import dumps, load, loads
from studio.graph import validate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
V1 = Path(__file__).resolve().parent / "v1"
GROUPED = {"resnet18": V1 / "resnet18_flat.json"}  # example -> its flat version 1 file


def version_1(path: Path) -> str:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc["definitions"]:
        return GROUPED[path.stem].read_text(encoding="utf-8")
    doc["version"] = 1
    del doc["definitions"]
    return json.dumps(doc, ensure_ascii=False, indent=1)


def test_every_grouped_example_has_its_flat_version_1_file():
    grouped = {p.stem for p in EXAMPLES if json.loads(p.read_text())["definitions"]}
    assert grouped == set(GROUPED)
    for path in GROUPED.values():
        doc = json.loads(path.read_text())
        assert doc["version"] == 1 and "definitions" not in doc


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_a_version_1_example_migrates_and_round_trips(path):
    old = version_1(path)
    assert json.loads(old)["version"] == 1
    graph = loads(old, f"{path.stem}.json")
    assert validate(graph) == []
    text = dumps(graph)
    doc = json.loads(text)
    assert doc["version"] == 2 and doc["definitions"] == []
    again = loads(text, f"{path.stem}.json")
    assert again.snapshot() == graph.snapshot()
    assert dumps(again) == text
    if path.stem not in GROUPED:  # unchanged in meaning: the example as this studio writes it
        assert text == path.read_text(encoding="utf-8")


def test_the_flat_version_1_resnet_is_the_grouped_example():
    flat, grouped = load(GROUPED["resnet18"]), load(ROOT / "examples" / "resnet18.json")
    assert (len(flat), len(grouped)) == (70, 16)
    assert flat.total_params() == grouped.total_params() == 11_689_512
    assert flat.shapes.output("fc") == grouped.shapes.output("fc") == (1000,)
    # the inside of each group is the flat nodes named after it, with the same parameters
    for node in grouped.nodes.values():
        if not node.is_group:
            assert flat.node(node.id).params == node.params
            continue
        definition = grouped.library.get(node.block)
        inside = definition.instance(grouped.shapes.inputs(node.id), node.params)
        for inner in inside.nodes:
            if inner not in definition.inputs:
                assert flat.node(f"{node.id}_{inner}").params == inside.node(inner).params, f"{node.id}.{inner}"
                assert flat.shapes.output(f"{node.id}_{inner}") == inside.shapes.output(inner)
    # the same weights give the same outputs (a small image keeps it quick)
    for g in (flat, grouped):
        g.set_params("image", {"shape": [3, 64, 64]})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        flat_net, grouped_net = compile_graph(flat), compile_graph(grouped)
        groups = [n.id for n in grouped.nodes.values() if n.is_group]

        def grouped_key(key: str) -> str:  # layer2_0_conv1.weight -> layer2_0.conv1.weight
            for group in groups:
                if key.startswith(group + "_"):
                    return f"{group}.{key[len(group) + 1:]}"
            return key

        grouped_net.load_state_dict({grouped_key(k): v for k, v in flat_net.state_dict().items()})
        flat_net.eval()
        grouped_net.eval()
        x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            assert torch.equal(flat_net(x), grouped_net(x))
    finally:
        torch.set_num_threads(threads)
