"""Writes the four classic convolutional networks as graph files.

LeNet-5, AlexNet, VGG-16 and ResNet-18 at their published input sizes, with
the parameter counts of their published (torchvision) definitions. ResNet-18 is
drawn with groups (a stem, eight basic blocks, a head); ``resnet18_flat`` builds
the same network with every layer on the top level. Run from the repository
root: ``.venv/bin/python examples/make_classics.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from studio.files import save  # noqa: E402
from studio.graph import Graph  # noqa: E402
from studio.graph.groups import Definition, Exposed, OutputPort  # noqa: E402
from studio.graph.layout import layered_positions  # noqa: E402

STEP = 280  # px between columns on the canvas
BRANCH = 160  # px a side branch sits below the main line


class Builder:
    """Adds nodes left to right, each wired to the one before unless told otherwise."""

    def __init__(self, name: str, description: str) -> None:
        self.graph = Graph(name)
        self.graph.description = description
        self.column = 0
        self.last: str | None = None

    def add(self, node_id: str, block: str, params: dict | None = None, *,
            src: str | None = None, row: int = 0, column: int | None = None, port: str = "in") -> str:
        col = self.column if column is None else column
        self.graph.add_node(block, params or {}, (col * STEP, row * BRANCH), node_id)
        src = self.last if src is None else src
        if src is not None and port:
            self.graph.connect(src, "out", node_id, port)
        if column is None:
            self.column += 1
        if row == 0:
            self.last = node_id
        return node_id

    def input(self, shape: list[int]) -> str:
        return self.add("image", "Input", {"shape": shape}, port="")


def lenet5() -> Graph:
    b = Builder("LeNet-5", (
        "LeNet-5 (LeCun et al., 1998) in its classic form: tanh activations and average pooling, "
        "a 32x32 grey image in, 10 classes out. C5 is a 5x5 convolution over a 5x5 map. 61,706 parameters."))
    b.input([1, 32, 32])
    b.add("conv1", "Conv2d", {"out_channels": 6, "kernel_size": 5})
    b.add("tanh1", "Tanh")
    b.add("pool1", "AvgPool2d", {"kernel_size": 2})
    b.add("conv2", "Conv2d", {"out_channels": 16, "kernel_size": 5})
    b.add("tanh2", "Tanh")
    b.add("pool2", "AvgPool2d", {"kernel_size": 2})
    b.add("conv3", "Conv2d", {"out_channels": 120, "kernel_size": 5})
    b.add("tanh3", "Tanh")
    b.add("flatten", "Flatten")
    b.add("fc1", "Linear", {"out_features": 84})
    b.add("tanh4", "Tanh")
    b.add("fc2", "Linear", {"out_features": 10})
    return b.graph


def alexnet() -> Graph:
    b = Builder("AlexNet", (
        "AlexNet (Krizhevsky et al., 2012) as torchvision defines it: five convolutions with max pooling, "
        "adaptive average pooling to 6x6, and a classifier of three linear layers with dropout. "
        "A 224x224 colour image in, 1000 classes out. 61,100,840 parameters."))
    b.input([3, 224, 224])
    b.add("conv1", "Conv2d", {"out_channels": 64, "kernel_size": 11, "stride": 4, "padding": 2})
    b.add("relu1", "ReLU")
    b.add("pool1", "MaxPool2d", {"kernel_size": 3, "stride": 2})
    b.add("conv2", "Conv2d", {"out_channels": 192, "kernel_size": 5, "padding": 2})
    b.add("relu2", "ReLU")
    b.add("pool2", "MaxPool2d", {"kernel_size": 3, "stride": 2})
    b.add("conv3", "Conv2d", {"out_channels": 384, "kernel_size": 3, "padding": 1})
    b.add("relu3", "ReLU")
    b.add("conv4", "Conv2d", {"out_channels": 256, "kernel_size": 3, "padding": 1})
    b.add("relu4", "ReLU")
    b.add("conv5", "Conv2d", {"out_channels": 256, "kernel_size": 3, "padding": 1})
    b.add("relu5", "ReLU")
    b.add("pool3", "MaxPool2d", {"kernel_size": 3, "stride": 2})
    b.add("avgpool", "AdaptiveAvgPool2d", {"output_size": 6})
    b.add("flatten", "Flatten")
    b.add("dropout1", "Dropout", {"p": 0.5})
    b.add("fc1", "Linear", {"out_features": 4096})
    b.add("relu6", "ReLU")
    b.add("dropout2", "Dropout", {"p": 0.5})
    b.add("fc2", "Linear", {"out_features": 4096})
    b.add("relu7", "ReLU")
    b.add("fc3", "Linear", {"out_features": 1000})
    return b.graph


def vgg16() -> Graph:
    b = Builder("VGG-16", (
        "VGG-16 (Simonyan and Zisserman, 2014), configuration D without batch normalisation, as torchvision "
        "defines it: thirteen 3x3 convolutions in five stages, adaptive average pooling to 7x7 and three linear "
        "layers with dropout. A 224x224 colour image in, 1000 classes out. 138,357,544 parameters."))
    b.input([3, 224, 224])
    for stage, (channels, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        for i in range(1, convs + 1):
            b.add(f"conv{stage}_{i}", "Conv2d", {"out_channels": channels, "kernel_size": 3, "padding": 1})
            b.add(f"relu{stage}_{i}", "ReLU")
        b.add(f"pool{stage}", "MaxPool2d", {"kernel_size": 2, "stride": 2})
    b.add("avgpool", "AdaptiveAvgPool2d", {"output_size": 7})
    b.add("flatten", "Flatten")
    b.add("fc6", "Linear", {"out_features": 4096})
    b.add("relu6", "ReLU")
    b.add("dropout6", "Dropout", {"p": 0.5})
    b.add("fc7", "Linear", {"out_features": 4096})
    b.add("relu7", "ReLU")
    b.add("dropout7", "Dropout", {"p": 0.5})
    b.add("fc8", "Linear", {"out_features": 1000})
    return b.graph


RESNET18_DESCRIPTION = (
    "ResNet-18 (He et al., 2015) as torchvision defines it: a 7x7 stem, four stages of two BasicBlocks "
    "(two 3x3 convolutions with batch normalisation, added to a shortcut), 1x1 convolution + batch norm "
    "shortcuts where the size changes, convolutions without bias, global average pooling and one linear "
    "layer. A 224x224 colour image in, 1000 classes out. 11,689,512 parameters.")
# (stage, block) -> (channels, stride, has a 1x1 projection shortcut), as torchvision builds them
RESNET18_BLOCKS = [
    (f"layer{stage}_{block}", channels, 2 if stage > 1 and block == 0 else 1, stage > 1 and block == 0)
    for stage, channels in enumerate([64, 128, 256, 512], start=1) for block in range(2)
]


def resnet18() -> Graph:
    """ResNet-18 as a person draws it: the stem, eight basic blocks (groups) and the head.

    Two definitions: ``BasicBlock`` (the shortcut is the identity; ``channels`` exposed) and
    ``BasicBlockDown`` (the shortcut is a strided 1x1 convolution + batch norm; ``channels`` and
    ``stride`` exposed). The node ids inside are those of the flat network after the block's
    name, so ``layer2_0_conv1`` there is ``layer2_0.conv1`` here, in checkpoints too."""
    b = Builder("ResNet-18", RESNET18_DESCRIPTION)
    library = b.graph.library
    library.add(_block_definition(library, "BasicBlock", downsample=False))
    library.add(_block_definition(library, "BasicBlockDown", downsample=True))
    _stem(b)
    for name, channels, stride, downsample in RESNET18_BLOCKS:
        if downsample:
            b.add(name, "BasicBlockDown", {"channels": channels, "stride": stride}, port="x")
        else:
            b.add(name, "BasicBlock", {"channels": channels}, port="x")
    _head(b)
    # 16 blocks in one row frame too small to read: two bands of 8, as Auto-layout lays them out
    for node_id, position in layered_positions(b.graph).items():
        b.graph.move_node(node_id, position)
    return b.graph


def resnet18_flat() -> Graph:
    """The same network with every layer on the top level (70 nodes): what the grouped one
    must equal, weight for weight."""
    b = Builder("ResNet-18", RESNET18_DESCRIPTION)
    _stem(b)
    for name, channels, stride, downsample in RESNET18_BLOCKS:
        basic_block(b, name, channels, stride, downsample)
    _head(b)
    return b.graph


def _stem(b: Builder) -> None:
    b.input([3, 224, 224])
    b.add("conv1", "Conv2d", {"out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": False})
    b.add("bn1", "BatchNorm2d")
    b.add("relu", "ReLU")
    b.add("maxpool", "MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1})


def _head(b: Builder) -> None:
    b.add("avgpool", "AdaptiveAvgPool2d", {"output_size": 1})
    b.add("flatten", "Flatten")
    b.add("fc", "Linear", {"out_features": 1000})


def _block_definition(library, name: str, downsample: bool) -> Definition:
    """A basic block as a definition of its own: input port ``x``, output port ``out``."""
    inner = Builder(name, "")
    inner.graph = Graph(name, library=library)
    channels, stride = (128, 2) if downsample else (64, 1)
    inner.add("x", "Input", {"shape": [64, 56, 56]}, port="")
    basic_block(inner, "", channels, stride, downsample)
    targets = [("conv1", "out_channels"), ("conv2", "out_channels")]
    exposed = []
    if downsample:
        exposed.append(Exposed("channels", (*targets, ("downsample_conv", "out_channels")), channels))
        exposed.append(Exposed("stride", (("conv1", "stride"), ("downsample_conv", "stride")), stride))
        description = ("Two 3x3 convolutions with batch normalisation, the first strided, added to a "
                       "shortcut that a strided 1x1 convolution + batch norm brings to the same size; then ReLU.")
    else:
        exposed.append(Exposed("channels", tuple(targets), channels))
        description = ("Two 3x3 convolutions with batch normalisation, added to the block's input "
                       "(the shortcut), then ReLU. The input must have as many channels as the block.")
    return Definition(name, inner.graph, ["x"], [OutputPort("out", "relu2")], exposed, description)


def basic_block(b: Builder, name: str, channels: int, stride: int, downsample: bool) -> None:
    """conv-bn-relu-conv-bn, plus the shortcut (1x1 conv + bn when the size changes), then add and relu.
    Node ids start with ``name_`` (none inside a definition, where ``name`` is empty)."""
    entry, start = b.last, b.column
    p = f"{name}_" if name else ""
    conv = {"out_channels": channels, "kernel_size": 3, "padding": 1, "bias": False}
    b.add(f"{p}conv1", "Conv2d", {**conv, "stride": stride})
    b.add(f"{p}bn1", "BatchNorm2d")
    b.add(f"{p}relu1", "ReLU")
    b.add(f"{p}conv2", "Conv2d", conv)
    main = b.add(f"{p}bn2", "BatchNorm2d")
    shortcut = entry
    if downsample:
        b.add(f"{p}downsample_conv", "Conv2d",
              {"out_channels": channels, "kernel_size": 1, "stride": stride, "bias": False},
              src=entry, row=1, column=start)
        shortcut = b.add(f"{p}downsample_bn", "BatchNorm2d",
                         src=f"{p}downsample_conv", row=1, column=start + 1)
    # Inside a definition an identity shortcut would run straight through the main line from the
    # input on its left; the add sits a row below instead, so the shortcut reads as a wire of its own.
    below = not downsample and not name
    add = b.add(f"{p}add", "Add", src=main, port="in1", row=1 if below else 0)
    b.graph.connect(shortcut, "out", add, "in2")
    b.add(f"{p}relu2", "ReLU", src=add)


CLASSICS = {"lenet5": lenet5, "alexnet": alexnet, "vgg16": vgg16, "resnet18": resnet18}


def main() -> None:
    out = Path(__file__).resolve().parent
    for name, make in CLASSICS.items():
        graph = make()
        save(graph, out / f"{name}.json")
        print(f"{name}.json: {len(graph)} nodes, {graph.total_params():,} parameters")


if __name__ == "__main__":
    main()
