"""Graphs for the compiler tests, and the hand-written torch modules they must equal."""

from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from studio.graph import Graph


def add(g: Graph, node_id: str, block: str, **params) -> str:
    g.add_node(block, params, id=node_id)
    return node_id


def chain(g: Graph, *ids: str) -> None:
    """Wire ``out -> in`` along ``ids``."""
    for a, b in zip(ids, ids[1:]):
        g.connect(a, "out", b, "in")


def load_into(hand: nn.Module, compiled: nn.Module, rename: Mapping[str, str] = {}) -> None:
    """Copy the compiled weights into ``hand``; ``rename`` maps a compiled key prefix to the hand-written one."""
    state = {}
    for key, value in compiled.state_dict().items():
        for old, new in rename.items():
            if key == old or key.startswith(old + "."):
                key = new + key[len(old):]
                break
        state[key] = value
    hand.load_state_dict(state, strict=True)


def grads(module: nn.Module, rename: Mapping[str, str] = {}) -> dict[str, torch.Tensor]:
    out = {}
    for key, p in module.named_parameters():
        for old, new in rename.items():
            if key.startswith(old + "."):
                key = new + key[len(old):]
                break
        out[key] = p.grad
    return out


def same_grads(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], atol: float = 1e-6) -> bool:
    assert set(a) == set(b), (sorted(a), sorted(b))
    return all(torch.allclose(a[k], b[k], atol=atol, rtol=1e-5) for k in a)


def param_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# ---- MLP ---------------------------------------------------------------------------

def mlp_graph() -> Graph:
    g = Graph("mlp")
    add(g, "x", "Input", shape=[2])
    add(g, "fc1", "Linear", out_features=16)
    add(g, "relu1", "ReLU")
    add(g, "fc2", "Linear", out_features=16)
    add(g, "tanh2", "Tanh")
    add(g, "fc3", "Linear", out_features=3)
    chain(g, "x", "fc1", "relu1", "fc2", "tanh2", "fc3")
    return g


def mlp_hand() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))


MLP_KEYS = {"fc1": "0", "fc2": "2", "fc3": "4"}


# ---- LeNet-5 -----------------------------------------------------------------------

def lenet_graph() -> Graph:
    g = Graph("LeNet-5")
    add(g, "image", "Input", shape=[1, 32, 32])
    add(g, "conv1", "Conv2d", out_channels=6, kernel_size=5)
    add(g, "tanh1", "Tanh")
    add(g, "pool1", "AvgPool2d", kernel_size=2)
    add(g, "conv2", "Conv2d", out_channels=16, kernel_size=5)
    add(g, "tanh2", "Tanh")
    add(g, "pool2", "AvgPool2d", kernel_size=2)
    add(g, "flatten", "Flatten")
    add(g, "fc1", "Linear", out_features=120)
    add(g, "tanh3", "Tanh")
    add(g, "fc2", "Linear", out_features=84)
    add(g, "tanh4", "Tanh")
    add(g, "fc3", "Linear", out_features=10)
    chain(g, "image", "conv1", "tanh1", "pool1", "conv2", "tanh2", "pool2", "flatten",
          "fc1", "tanh3", "fc2", "tanh4", "fc3")
    return g


class LeNet5(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.avg_pool2d(torch.tanh(self.conv1(x)), 2)
        x = nn.functional.avg_pool2d(torch.tanh(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = torch.tanh(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return self.fc3(x)


# ---- ResNet basic block with a downsampling shortcut --------------------------------

def resnet_block_graph(channels: int = 8, out_channels: int = 16, size: int = 8, blocks: int = 1) -> Graph:
    """``blocks`` basic blocks; the first halves the size and changes the channels through a 1x1 shortcut."""
    g = Graph("resnet stage")
    add(g, "x", "Input", shape=[channels, size, size])
    prev = "x"
    for i in range(1, blocks + 1):
        p = f"b{i}_"
        first = i == 1
        add(g, p + "conv1", "Conv2d", out_channels=out_channels, kernel_size=3, stride=2 if first else 1,
            padding=1, bias=False)
        add(g, p + "bn1", "BatchNorm2d")
        add(g, p + "relu1", "ReLU")
        add(g, p + "conv2", "Conv2d", out_channels=out_channels, kernel_size=3, padding=1, bias=False)
        add(g, p + "bn2", "BatchNorm2d")
        add(g, p + "add", "Add")
        add(g, p + "relu2", "ReLU")
        chain(g, prev, p + "conv1", p + "bn1", p + "relu1", p + "conv2", p + "bn2")
        g.connect(p + "bn2", "out", p + "add", "in1")
        if first:
            add(g, p + "down_conv", "Conv2d", out_channels=out_channels, kernel_size=1, stride=2, bias=False)
            add(g, p + "down_bn", "BatchNorm2d")
            chain(g, prev, p + "down_conv", p + "down_bn")
            g.connect(p + "down_bn", "out", p + "add", "in2")
        else:
            g.connect(prev, "out", p + "add", "in2")
        chain(g, p + "add", p + "relu2")
        prev = p + "relu2"
    return g


class BasicBlock(nn.Module):
    """torchvision's ResNet basic block."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


def resnet_stage_hand(channels: int = 8, out_channels: int = 16, blocks: int = 1) -> nn.Module:
    return nn.Sequential(*[
        BasicBlock(channels if i == 0 else out_channels, out_channels, 2 if i == 0 else 1) for i in range(blocks)
    ])


def resnet_keys(blocks: int = 1) -> dict[str, str]:
    keys = {}
    for i in range(1, blocks + 1):
        p, q = f"b{i}_", f"{i - 1}."
        keys.update({p + "conv1": q + "conv1", p + "bn1": q + "bn1", p + "conv2": q + "conv2",
                     p + "bn2": q + "bn2", p + "down_conv": q + "downsample.0", p + "down_bn": q + "downsample.1"})
    return keys


# ---- sequences ---------------------------------------------------------------------

def lstm_graph(vocab: int = 50, length: int = 7, embed: int = 8, hidden: int = 16, classes: int = 4) -> Graph:
    g = Graph("lstm classifier")
    add(g, "tokens", "Input", shape=[length], dtype="long")
    add(g, "embed", "Embedding", num_embeddings=vocab, embedding_dim=embed)
    add(g, "lstm", "LSTM", hidden_size=hidden, num_layers=2, output="last")
    add(g, "fc", "Linear", out_features=classes)
    chain(g, "tokens", "embed", "lstm", "fc")
    return g


class LSTMClassifier(nn.Module):
    def __init__(self, vocab: int = 50, embed: int = 8, hidden: int = 16, classes: int = 4) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=2, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(self.embed(tokens))
        return self.fc(h[-1])


def transformer_graph(length: int = 6, d_model: int = 16, layers: int = 2, classes: int = 3) -> Graph:
    g = Graph("transformer encoder")
    add(g, "x", "Input", shape=[length, d_model])
    add(g, "pos", "PositionalEncoding", dropout=0.0, max_len=64)
    ids = ["x", "pos"]
    for i in range(1, layers + 1):
        ids.append(add(g, f"enc{i}", "TransformerEncoderLayer", nhead=4, dim_feedforward=32, dropout=0.0))
    ids.append(add(g, "flatten", "Flatten"))
    ids.append(add(g, "fc", "Linear", out_features=classes))
    chain(g, *ids)
    return g


class TransformerClassifier(nn.Module):
    def __init__(self, length: int = 6, d_model: int = 16, layers: int = 2, classes: int = 3) -> None:
        super().__init__()
        position = torch.arange(64.0).unsqueeze(1)
        div = torch.tensor([10000.0 ** (-2 * i / d_model) for i in range(d_model // 2)])
        pe = torch.zeros(64, d_model)
        pe[:, 0::2] = torch.sin(position * div)
        pe[:, 1::2] = torch.cos(position * div)
        self.register_buffer("pe", pe, persistent=False)
        self.encoder = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, 4, 32, dropout=0.0, batch_first=True) for _ in range(layers)
        ])
        self.fc = nn.Linear(length * d_model, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.pe[: x.size(1)]
        for layer in self.encoder:
            x = layer(x)
        return self.fc(x.flatten(1))


def transformer_keys(layers: int = 2) -> dict[str, str]:
    return {f"enc{i}": f"encoder.{i - 1}" for i in range(1, layers + 1)}


# ---- a GAN: two separate networks ------------------------------------------------

def gan_graph() -> Graph:
    g = Graph("gan")
    add(g, "noise", "Input", shape=[8])
    add(g, "g_fc1", "Linear", out_features=16)
    add(g, "g_relu", "ReLU")
    add(g, "g_fc2", "Linear", out_features=2)
    add(g, "sample", "Input", shape=[2])
    add(g, "d_fc1", "Linear", out_features=16)
    add(g, "d_act", "LeakyReLU", negative_slope=0.2)
    add(g, "d_fc2", "Linear", out_features=1)
    chain(g, "noise", "g_fc1", "g_relu", "g_fc2")
    chain(g, "sample", "d_fc1", "d_act", "d_fc2")
    return g


def gan_hand() -> tuple[nn.Module, nn.Module]:
    gen = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    disc = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    return gen, disc


def statements(code: str) -> list[str]:
    """The generated forward's lines, without the ``x = None`` frees torch.fx appends."""
    out = []
    for line in code.strip().splitlines():
        line = line.split(";")[0].strip()
        if line:
            out.append(line)
    return out

