"""Every example graph loads, is valid and re-saves byte for byte; the classics have their published sizes."""

from pathlib import Path

import pytest
import torch

from studio.compile import compile_graph
from studio.files import dumps, load
from studio.graph import validate

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ALL = sorted(EXAMPLES.glob("*.json"))

# torchvision's definitions (LeNet-5 in its 1998 form), input shape without batch, output size
CLASSICS = {
    "lenet5": (61_706, [1, 32, 32], 10),
    "alexnet": (61_100_840, [3, 224, 224], 1000),
    "vgg16": (138_357_544, [3, 224, 224], 1000),
    "resnet18": (11_689_512, [3, 224, 224], 1000),
}


def test_examples_are_there():
    names = {p.stem for p in ALL}
    assert set(CLASSICS) <= names


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_example_is_valid_and_round_trips(path):
    graph = load(path)
    assert validate(graph) == []
    assert dumps(graph) == path.read_text(encoding="utf-8")
    assert graph.name and graph.description
    positions = [n.position for n in graph.nodes.values()]
    assert len(set(positions)) == len(positions), "two nodes sit on the same spot"


@pytest.mark.parametrize("name", list(CLASSICS))
def test_classic_parameter_counts(name):
    count, in_shape, classes = CLASSICS[name]
    graph = load(EXAMPLES / f"{name}.json")
    assert graph.total_params() == count
    inputs = [n for n in graph.nodes.values() if n.spec.is_input]
    assert [list(n.params["shape"]) for n in inputs] == [in_shape]
    last = graph.topological_order()[-1]
    assert graph.shapes.output(last) == (classes,)

    # Each node built on its own from the document's shapes...
    per_node = 0
    for node_id in graph.topological_order():
        node = graph.node(node_id)
        if node.spec.constructor is None:
            continue
        with torch.device("meta"):
            module = node.spec.make(graph.shapes.inputs(node_id), node.params)
        per_node += sum(p.numel() for p in module.parameters())
    assert per_node == count
    # ...and the whole network compiled on the meta device, where a forward pass costs nothing.
    with torch.device("meta"):
        net = compile_graph(graph)
        out = net(torch.empty(2, *in_shape))
    assert sum(p.numel() for p in net.parameters()) == count
    assert tuple(out.shape) == (2, classes)


@pytest.mark.parametrize("name", list(CLASSICS))
def test_classics_read_left_to_right(name):
    graph = load(EXAMPLES / f"{name}.json")
    for e in graph.edges:  # every wire runs rightwards, one or more 280 px columns (room for the shape label)
        dx = graph.node(e.dst).position[0] - graph.node(e.src).position[0]
        assert dx > 0 and dx % 280 == 0, str(e)


def test_resnet_ids_and_shortcuts():
    resnet = load(EXAMPLES / "resnet18.json")
    for name in ("conv1", "bn1", "layer1_0_conv1", "layer2_0_downsample_conv", "layer4_1_add", "fc"):
        assert name in resnet
    # shortcuts sit below the main line, under the convolutions they bypass
    down, main = resnet.node("layer2_0_downsample_conv").position, resnet.node("layer2_0_conv1").position
    assert down[0] == main[0] and down[1] > main[1]
    # every block of ResNet-18 adds its shortcut: 8 Adds, 3 of them behind a 1x1 convolution
    adds = [n for n in resnet.nodes.values() if n.block == "Add"]
    assert len(adds) == 8
    downsamples = [n for n in resnet.nodes.values() if n.id.endswith("downsample_conv")]
    assert [n.params["kernel_size"] for n in downsamples] == [1, 1, 1]
    assert all(not n.params["bias"] for n in resnet.nodes.values() if n.block == "Conv2d")
    assert resnet.shapes.output("layer4_1_relu2") == (512, 7, 7)


def test_lenet_is_the_classic_form():
    lenet = load(EXAMPLES / "lenet5.json")
    used = [n.block for n in lenet.nodes.values()]
    assert used.count("Tanh") == 4 and used.count("AvgPool2d") == 2 and "ReLU" not in used
    assert lenet.shapes.output("conv3") == (120, 1, 1)


def test_lenet_runs_on_real_numbers():
    torch.manual_seed(0)
    net = compile_graph(load(EXAMPLES / "lenet5.json"))
    out = net(torch.randn(3, 1, 32, 32))
    assert out.shape == (3, 10) and torch.isfinite(out).all()


def _inferred(graph):
    return {n: (graph.shapes.outputs.get(n), graph.shapes.error(n)) for n in graph.nodes}


def test_edits_reinfer_to_what_a_fresh_load_infers():
    from studio.files import loads

    graph = load(EXAMPLES / "resnet18.json")
    original = _inferred(graph)
    changed = graph.shapes.update(["layer2_0_conv1"])
    assert changed == []  # nothing to redo when nothing changed
    graph.set_params("layer2_0_conv1", {"out_channels": 96})  # conv2 absorbs the new width
    assert graph.shapes.output("layer2_0_bn1") == (96, 28, 28)
    assert graph.param_count("layer2_0_conv2") == 96 * 128 * 9
    graph.set_params("layer3_1_conv2", {"out_channels": 200})  # no longer adds to the shortcut's 256
    assert _inferred(graph) == _inferred(loads(dumps(graph)))
    assert graph.shapes.error("layer3_1_add").port == "in2"
    assert graph.shapes.output("fc") is None
    graph.set_params("layer2_0_conv1", {"out_channels": 128})
    graph.set_params("layer3_1_conv2", {"out_channels": 256})
    assert _inferred(graph) == original
    assert dumps(graph) == (EXAMPLES / "resnet18.json").read_text()
