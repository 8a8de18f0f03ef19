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
    for g in (graph, *(d.graph for d in graph.library.definitions.values())):
        positions = [n.position for n in g.nodes.values()]
        assert len(set(positions)) == len(positions), f"two nodes sit on the same spot in {g.name}"


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
    for g in (graph, *(d.graph for d in graph.library.definitions.values())):
        for e in g.edges:  # every wire runs rightwards, one or more 280 px columns (room for the shape label)...
            (sx, sy), (dx, dy) = g.node(e.src).position, g.node(e.dst).position
            if dx == 0 and dy > sy:
                continue  # ...or from the end of a band to the start of the next, as Auto-layout wraps them
            assert dx - sx > 0 and (dx - sx) % 280 == 0, f"{g.name}: {e}"


def test_resnet_is_a_stem_eight_basic_blocks_and_a_head():
    resnet = load(EXAMPLES / "resnet18.json")
    blocks_ = [f"layer{s}_{b}" for s in (1, 2, 3, 4) for b in (0, 1)]
    assert list(resnet.nodes) == ["image", "conv1", "bn1", "relu", "maxpool", *blocks_, "avgpool", "flatten", "fc"]
    assert list(resnet.library.definitions) == ["BasicBlock", "BasicBlockDown"]
    kinds = {n: resnet.node(n).block for n in blocks_}
    assert [n for n, k in kinds.items() if k == "BasicBlockDown"] == ["layer2_0", "layer3_0", "layer4_0"]
    assert [resnet.node(n).params for n in blocks_] == [
        {"channels": 64}, {"channels": 64}, {"channels": 128, "stride": 2}, {"channels": 128},
        {"channels": 256, "stride": 2}, {"channels": 256}, {"channels": 512, "stride": 2}, {"channels": 512}]
    assert [resnet.shapes.output(n, "out")[0] for n in blocks_] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert resnet.shapes.output("layer4_1", "out") == (512, 7, 7)
    # inside: the ids of the flat network after the block's name, shortcuts below the main line
    down = resnet.library.get("BasicBlockDown").graph
    assert list(down.nodes) == ["x", "conv1", "bn1", "relu1", "conv2", "bn2", "downsample_conv", "downsample_bn",
                                "add", "relu2"]
    assert down.node("downsample_conv").position[0] == down.node("conv1").position[0]
    assert down.node("downsample_conv").position[1] > down.node("conv1").position[1]
    assert down.node("downsample_conv").params["kernel_size"] == 1
    same = resnet.library.get("BasicBlock").graph
    assert "downsample_conv" not in same and {(e.src, e.dst_port) for e in same.in_edges("add")} == {
        ("bn2", "in1"), ("x", "in2")}
    for d in resnet.library.definitions.values():  # no convolution of ResNet has a bias
        assert all(not n.params["bias"] for n in d.graph.nodes.values() if n.block == "Conv2d")
    # the counts of the flat network's parts: 8 shortcut adds, 3 of them behind a 1x1 convolution
    assert len(resnet.library.instances("BasicBlock")) == 5 and len(resnet.library.instances("BasicBlockDown")) == 3


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
    changed = graph.shapes.update(["layer2_0"])
    assert changed == []  # nothing to redo when nothing changed
    graph.set_params("layer2_0", {"channels": 96})  # a block's width, set on the group
    assert graph.shapes.output("layer2_0", "out") == (96, 28, 28)
    assert graph.param_count("layer2_0") == 64 * 96 * 9 + 96 * 96 * 9 + 64 * 96 + 3 * 2 * 96
    # layer2_1 adds its 128 channels to the 96 coming in: the error inside shows on the group
    assert "inside BasicBlock, add" in graph.shapes.error("layer2_1").message
    assert _inferred(graph) == _inferred(loads(dumps(graph)))
    assert graph.shapes.output("fc") is None
    graph.set_params("layer2_0", {"channels": 128})
    assert _inferred(graph) == original
    # an edit inside a definition changes every instance of it
    inside = graph.library.get("BasicBlock").graph
    inside.set_params("bn1", {"affine": False})  # its 2 x channels weights go, in all five instances
    assert graph.total_params() == 11_689_512 - 2 * (64 + 64 + 128 + 256 + 512)
    inside.set_params("bn1", {"affine": True})
    inside.set_params("conv2", {"padding": 0})  # 56 -> 54: the shortcut no longer fits, in the first use
    assert "inside BasicBlock, add: cannot add [64, 56, 56]" in graph.shapes.error("layer1_0").message
    assert _inferred(graph) == _inferred(loads(dumps(graph)))
    inside.set_params("conv2", {"padding": 1})
    assert _inferred(graph) == original
    assert dumps(graph) == (EXAMPLES / "resnet18.json").read_text()


def test_classic_files_are_what_make_classics_writes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_classics", EXAMPLES / "make_classics.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    for name, build in make.CLASSICS.items():
        assert dumps(build()) == (EXAMPLES / f"{name}.json").read_text(), name
