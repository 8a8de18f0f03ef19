"""torch.export programs (.pt2): they load back without Studio and compute what the compiled module does."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from studio.compile import Networks, compile_graph
from studio.export import export_program
from studio.files import load

ROOT = Path(__file__).resolve().parents[2]


def _args(graph, net, batch, gen):
    out = []
    for node_id in net.input_nodes:
        p = graph.node(node_id).params
        shape = (batch, *p["shape"])
        out.append(torch.randint(0, 10, shape, generator=gen) if p["dtype"] == "long"
                   else torch.rand(shape, generator=gen))
    return out


@pytest.mark.parametrize("name", ["lenet5", "lstm_sequence", "transformer_sequence", "gcn_karate", "gan_ring2d"])
def test_program_loads_back_and_matches_the_compiled_module(name, tmp_path):
    graph = load(ROOT / "examples" / f"{name}.json")
    torch.manual_seed(3)
    module = compile_graph(graph)
    module.train()
    written = export_program(graph, tmp_path / f"{name}.pt2", module)
    assert module.training  # the caller's module keeps its mode
    nets = dict(module.items()) if isinstance(module, Networks) else {"": module}
    if len(nets) == 1:
        assert written == [tmp_path / f"{name}.pt2"]
    else:
        assert written == [tmp_path / f"{name}-{key}.pt2" for key in nets]
    module.eval()
    gen = torch.Generator().manual_seed(5)
    for path, net in zip(written, nets.values()):
        assert path.stat().st_size > 1000
        program = torch.export.load(str(path))
        loaded = program.module()
        for batch in (1, 2, 3):  # the example's batch and others: the batch dimension is dynamic
            args = _args(graph, net, batch, gen)
            with torch.no_grad():
                expected, got = net(*args), loaded(*args)
            assert got.shape == expected.shape
            if name == "transformer_sequence":
                # eager evaluation takes the encoder layer's fused fast path; the program runs its
                # plain ops, so sums are ordered differently (they differ by ~4e-7)
                torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
            else:
                assert torch.equal(got, expected), (got - expected).abs().max().item()
        assert sum(t.numel() for t in program.state_dict.values()) == \
            sum(p.numel() for p in net.parameters()) + sum(
                b.numel() for n, b in net.named_buffers() if n in net.state_dict())


def test_program_of_a_fresh_compile_has_the_graph_parameter_count(tmp_path):
    graph = load(ROOT / "examples" / "lenet5.json")
    path, = export_program(graph, tmp_path / "sub" / "lenet.pt2")
    program = torch.export.load(str(path))
    assert sum(t.numel() for t in program.state_dict.values()) == 61706
    out = program.module()(torch.randn(4, 1, 32, 32))
    assert out.shape == (4, 10)
