"""The examples drawn with groups compute what their flat versions do, weight for weight.

ResNet-18 (examples/resnet18.json) is a stem, eight basic-block groups and a head; the
flat network (every layer on the top level, ``make_classics.resnet18_flat``) is what the
example was before it had groups. A flat node ``layer2_0_conv1`` is ``conv1`` inside the
group ``layer2_0``: its checkpoint key ``layer2_0_conv1.weight`` becomes
``layer2_0.conv1.weight``, and its activation row ``layer2_0.conv1``. Both run on a
3x64x64 image, so each test takes a fraction of a second.
"""

import importlib.util
from pathlib import Path

import pytest
import torch

from studio.compile import compile_graph
from studio.export import export_python
from studio.files import load
from studio.graph import Graph
from studio.training.probes import grad_norms, record_outputs

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SIDE = 64


def make_classics():
    spec = importlib.util.spec_from_file_location("make_classics", EXAMPLES / "make_classics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def flat_ids(grouped: Graph) -> dict[str, str]:
    """Flat node id -> where it sits in the grouped graph: itself, or "group.inner"."""
    out = {}
    for node in grouped.nodes.values():
        if not node.is_group:
            out[node.id] = node.id
            continue
        definition = grouped.library.get(node.block)
        for inner in definition.graph.nodes:
            if inner not in definition.inputs:
                out[f"{node.id}_{inner}"] = f"{node.id}.{inner}"
    return out


def grouped_state(flat_state: dict, ids: dict[str, str]) -> dict:
    """The flat network's state dict under the grouped network's keys."""
    out = {}
    for key, value in flat_state.items():
        node, rest = key.split(".", 1)
        out[f"{ids[node]}.{rest}"] = value
    return out


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def resnets():
    """(flat graph, grouped graph, flat module, grouped module with the flat one's weights)."""
    flat, grouped = make_classics().resnet18_flat(), load(EXAMPLES / "resnet18.json")
    for g in (flat, grouped):
        g.set_params("image", {"shape": [3, SIDE, SIDE]})
    torch.manual_seed(0)
    flat_net, grouped_net = compile_graph(flat), compile_graph(grouped)
    grouped_net.load_state_dict(grouped_state(flat_net.state_dict(), flat_ids(grouped)))
    return flat, grouped, flat_net, grouped_net


def test_grouped_resnet_is_the_flat_network_in_sixteen_nodes(resnets):
    flat, grouped, flat_net, grouped_net = resnets
    assert len(flat) == 70 and len(grouped) == 16
    assert flat.total_params() == grouped.total_params() == 11_689_512
    assert sum(p.numel() for p in grouped_net.parameters()) == 11_689_512
    # every flat node has its place, and the checkpoint keys follow
    ids = flat_ids(grouped)
    assert sorted(ids) == sorted(flat.nodes)
    assert ids["layer2_0_downsample_conv"] == "layer2_0.downsample_conv"
    assert sorted(grouped_net.state_dict()) == sorted(grouped_state(flat_net.state_dict(), ids))
    assert "layer2_0.downsample_conv.weight" in grouped_net.state_dict()
    assert [type(grouped_net.get_submodule(f"layer{s}_{b}")).__name__ for s in (1, 2, 3, 4) for b in (0, 1)] == [
        "BasicBlock", "BasicBlock", *["BasicBlockDown", "BasicBlock"] * 3]
    # each group counts the parameters of the flat nodes it holds
    for node in grouped.nodes.values():
        if node.is_group:
            inner = [n for n in flat.nodes if n.startswith(node.id + "_")]
            assert grouped.param_count(node.id) == sum(flat.param_count(n) or 0 for n in inner), node.id


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_grouped_resnet_outputs_equal_the_flat_ones(resnets, mode):
    flat, grouped, flat_net, grouped_net = resnets
    x = torch.randn(2, 3, SIDE, SIDE, generator=torch.Generator().manual_seed(1))
    for net in (flat_net, grouped_net):
        getattr(net, mode)()
    assert torch.equal(flat_net(x), grouped_net(x))
    # and every layer's output, under its grouped name
    flat_out, grouped_out = record_outputs(flat_net, (x,)), record_outputs(grouped_net, (x,))
    ids = flat_ids(grouped)
    for node, value in flat_out.items():
        assert torch.equal(value, grouped_out[ids[node]]), node
    # in training mode batch norm's running statistics moved, the same way in both
    mapped = grouped_state(flat_net.state_dict(), ids)
    assert all(torch.equal(v, mapped[k]) for k, v in grouped_net.state_dict().items())


def test_grouped_resnet_gradients_equal_the_flat_ones(resnets):
    flat, grouped, flat_net, grouped_net = resnets
    x = torch.randn(2, 3, SIDE, SIDE, generator=torch.Generator().manual_seed(2))
    for net in (flat_net, grouped_net):
        net.eval()
        net.zero_grad()
        net(x).square().mean().backward()
    ids = flat_ids(grouped)
    grouped_grads = dict(grouped_net.named_parameters())
    for key, p in flat_net.named_parameters():
        node, rest = key.split(".", 1)
        assert torch.equal(p.grad, grouped_grads[f"{ids[node]}.{rest}"].grad), key
    flat_norms, grouped_norms = grad_norms({"model": flat_net}), grad_norms({"model": grouped_net})
    for node, norm in flat_norms.items():
        assert grouped_norms[ids[node]] == pytest.approx(norm, rel=1e-6), node
    assert grouped_norms["layer2_0"] == pytest.approx(
        sum(flat_norms[n] ** 2 for n in flat.nodes if n.startswith("layer2_0_") and n in flat_norms) ** 0.5, rel=1e-5)


def test_exported_grouped_resnet_matches_the_flat_network(resnets):
    flat, grouped, flat_net, grouped_net = resnets
    source = export_python(grouped)
    assert source.count("class BasicBlock(nn.Module)") == 1 and "self.layer2_0 = BasicBlockDown(" in source
    namespace: dict = {}
    exec(compile(source, "resnet18_export.py", "exec"), namespace)
    model = namespace["ResNet18"]()
    model.load_state_dict(grouped_state(flat_net.state_dict(), flat_ids(grouped)))
    model.eval()
    flat_net.eval()
    x = torch.randn(2, 3, SIDE, SIDE, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.equal(model(x), flat_net(x))
