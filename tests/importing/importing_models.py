"""Model definitions the import tests bring in, written as people write them."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class ResNet(nn.Module):
    def __init__(self, num_classes: int = 10, widths=(8, 16, 32)) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        layers, cin = [], widths[0]
        for i, w in enumerate(widths):
            layers.append(nn.Sequential(BasicBlock(cin, w, 1 if i == 0 else 2), BasicBlock(w, w)))
            cin = w
        self.layer1, self.layer2, self.layer3 = layers
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1], num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


class VGG(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        cfg = [8, "M", 16, 16, "M", 32, "M"]
        layers, cin = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(cin, v, kernel_size=3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                cin = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(32 * 4 * 4, 64), nn.ReLU(True), nn.Dropout(), nn.Linear(64, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int, act) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.conv = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), act(inplace=True),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden),
            act(inplace=True),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        if self.use_res:  # decided in __init__: traceable
            return x + self.conv(x)
        return self.conv(x)


class MobileNet(nn.Module):
    def __init__(self, num_classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6(inplace=True))
        self.blocks = nn.Sequential(
            InvertedResidual(8, 8, 1, 2, nn.ReLU6), InvertedResidual(8, 16, 2, 3, nn.Hardswish),
            InvertedResidual(16, 16, 1, 3, nn.Hardswish))
        self.head = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = x.mean((2, 3))
        return self.head(F.hardswish(x))


class LSTMClassifier(nn.Module):
    def __init__(self, vocab: int = 50, embed: int = 12, hidden: int = 16, classes: int = 4) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed, padding_idx=0)
        self.lstm = nn.LSTM(embed, hidden, num_layers=2, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, tokens):
        x = self.embedding(tokens)
        out, (h, c) = self.lstm(x)
        return self.fc(out[:, -1])


class TransformerClassifier(nn.Module):
    def __init__(self, vocab: int = 40, d_model: int = 16, classes: int = 3) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, 4, dim_feedforward=32, dropout=0.1, batch_first=True)
            for _ in range(2)])
        self.out = nn.Linear(d_model, classes)

    def forward(self, tokens):
        x = self.embed(tokens)
        for layer in self.layers:
            x = layer(x)
        return self.out(x.mean(dim=1))


class CrossAttention(nn.Module):
    """A decoder over a memory: a decoder layer, then cross-attention read by getitem 0."""

    def __init__(self, d_model: int = 16) -> None:
        super().__init__()
        self.src_proj = nn.Linear(6, d_model)
        self.tgt_proj = nn.Linear(8, d_model)
        self.decoder = nn.TransformerDecoderLayer(d_model, 2, dim_feedforward=24, batch_first=True,
                                                  activation="gelu", norm_first=True)
        self.cross = nn.MultiheadAttention(d_model, 4, batch_first=True)
        self.head = nn.Linear(d_model, 5)

    def forward(self, tgt, memory):
        m = torch.tanh(self.src_proj(memory))
        t = self.tgt_proj(tgt)
        t = self.decoder(t, m)
        attended = self.cross(t, m, m)[0]
        return self.head(attended + t)
