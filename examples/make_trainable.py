"""Write the example networks that learn (examples/*.json) through the graph API.

Run ``python examples/make_trainable.py`` after changing a recipe here; each
file is written with ``studio.files.save``, so it reads back byte for byte.
Every example trains with its own defaults in well under two minutes on two
CPU cores (the figures are in docs/training.md; ``make examples`` checks them).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from studio.files import save  # noqa: E402
from studio.graph import Graph  # noqa: E402

STEP = 280  # px between neighbouring blocks, left to right


def chain(g: Graph, layers: list[tuple[str, str, dict[str, Any]]], *, x: int = 0, y: int = 0,
          after: str | None = None, after_port: str = "out") -> str:
    """Add ``(id, block, params)`` layers in a row from ``x``, each wired to the
    previous one (the first to ``after`` when given); returns the last id."""
    prev = after
    for i, (node_id, block, params) in enumerate(layers):
        g.add_node(block, params, (x + i * STEP, y), id=node_id)
        if prev is not None:
            in_port = g.node(node_id).input_ports()[0].name
            g.connect(prev, after_port if prev == after else "out", node_id, in_port)
        prev = node_id
    return prev or ""


def new(name: str, description: str, training: dict[str, Any]) -> Graph:
    g = Graph(name)
    g.description = description
    g.set_training(training)
    return g


# ---- the examples -------------------------------------------------------------

def xor_mlp() -> Graph:
    g = new("XOR MLP", (
        "XOR with one hidden layer. The four corners of the unit square, labelled x1 XOR x2, "
        "cannot be split by one straight line, but a hidden layer of 8 tanh units bends the "
        "space so the output layer can. Compare with xor_perceptron.json, which has no hidden "
        "layer and stays stuck. Training accuracy reaches 1.0 within a few dozen steps."
    ), {
        "task": "classification",
        "dataset": {"name": "xor"},
        "optimizer": {"name": "adam", "lr": 0.05},
        "batch_size": 4,
        "epochs": 100,
        "seed": 0,
    })
    chain(g, [
        ("x", "Input", {"shape": [2]}),
        ("hidden", "Linear", {"out_features": 8}),
        ("tanh", "Tanh", {}),
        ("logits", "Linear", {"out_features": 2}),
    ])
    return g


def xor_perceptron() -> Graph:
    g = new("XOR perceptron", (
        "A single-layer perceptron on XOR: one linear layer, score_k = w_k1 x1 + w_k2 x2 + b_k for "
        "the two classes, and no hidden layer. Where the two scores are equal is one straight "
        "line, and no line puts (0,0) and (1,1) on one side and (0,1) and (1,0) on the other, so "
        "at best 3 of the 4 points are right: accuracy stays at 0.5 or 0.75 however long it "
        "trains (Minsky and Papert, 1969), and the loss settles at ln 2 = 0.693, the loss of a "
        "coin toss. Add a hidden layer (xor_mlp.json) and it learns."
    ), {
        "task": "classification",
        "dataset": {"name": "xor"},
        "optimizer": {"name": "sgd", "lr": 0.5},
        "batch_size": 4,
        "epochs": 100,
        "seed": 0,
    })
    chain(g, [
        ("x", "Input", {"shape": [2]}),
        ("perceptron", "Linear", {"out_features": 2}),
    ])
    return g


def spiral_mlp() -> Graph:
    g = new("Spiral MLP", (
        "Three interleaved spiral arms, one class each (the CS231n spiral). No straight line "
        "separates them; two hidden layers of 64 ReLU units carve a curved decision boundary. "
        "Watch the boundary wrap around the arms as it trains; validation accuracy passes 0.95."
    ), {
        "task": "classification",
        "dataset": {"name": "spiral", "classes": 3, "points": 200, "noise": 0.2, "val_fraction": 0.2, "seed": 0},
        "optimizer": {"name": "adam", "lr": 0.01},
        "batch_size": 32,
        "epochs": 80,
        "seed": 0,
    })
    chain(g, [
        ("points", "Input", {"shape": [2]}),
        ("hidden1", "Linear", {"out_features": 64}),
        ("relu1", "ReLU", {}),
        ("hidden2", "Linear", {"out_features": 64}),
        ("relu2", "ReLU", {}),
        ("logits", "Linear", {"out_features": 3}),
    ])
    return g


def vanishing_gradients() -> Graph:
    depth = 8
    g = new("Vanishing gradients", (
        f"Vanishing gradients: {depth} Linear + Sigmoid layers of 32 units on the spiral, trained with "
        "plain SGD. The sigmoid's slope is at most 1/4, and backpropagation multiplies one such "
        "slope (and one weight matrix) per layer, so the gradient shrinks about tenfold at every "
        "layer on its way back. On the Gradient flow tab the first layer's norm sits near 1e-8 "
        "while the last layer's is near 0.1, and the early layers are flagged as vanishing: they "
        "hardly change, and accuracy stays at chance (1/3). Change every Sigmoid to ReLU and the "
        "optimizer to Adam with lr 0.01, and the same depth learns the spiral."
    ), {
        "task": "classification",
        "dataset": {"name": "spiral", "classes": 3, "points": 200, "noise": 0.2, "val_fraction": 0.2, "seed": 0},
        "optimizer": {"name": "sgd", "lr": 0.1},
        "batch_size": 32,
        "epochs": 40,
        "seed": 0,
    })
    layers: list[tuple[str, str, dict[str, Any]]] = [("points", "Input", {"shape": [2]})]
    for i in range(1, depth + 1):
        layers += [(f"fc{i}", "Linear", {"out_features": 32}), (f"sigmoid{i}", "Sigmoid", {})]
    layers.append(("logits", "Linear", {"out_features": 3}))
    chain(g, layers)
    return g


def overfitting() -> Graph:
    g = new("Overfitting", (
        "Overfitting: a 2-256-256-3 ReLU network (67,000 weights) on only 60 noisy spiral points "
        "to learn from, with another 60 kept aside for validation. Within about ten epochs the "
        "validation loss is at its best; after that the network memorises its 60 points: "
        "training loss falls towards 0 and training accuracy reaches 100%, while validation loss "
        "climbs to several times its best. The Loss tab shades the gap between the two curves "
        "and marks the epoch where overfitting starts. Things to try: more points, weight decay "
        "(Weight decay 1e-3), a Dropout block after each ReLU, or early stopping."
    ), {
        "task": "classification",
        "dataset": {"name": "spiral", "classes": 3, "points": 40, "noise": 0.35, "val_fraction": 0.5, "seed": 0},
        "optimizer": {"name": "adam", "lr": 0.01},
        "batch_size": 16,
        "epochs": 200,
        "seed": 0,
    })
    chain(g, [
        ("points", "Input", {"shape": [2]}),
        ("hidden1", "Linear", {"out_features": 256}),
        ("relu1", "ReLU", {}),
        ("hidden2", "Linear", {"out_features": 256}),
        ("relu2", "ReLU", {}),
        ("logits", "Linear", {"out_features": 3}),
    ])
    return g


def lenet5_digits() -> Graph:
    g = new("LeNet digits", (
        "A small LeNet-style convolutional network on the 8x8 handwritten digits: two "
        "convolution + pooling stages find strokes and their combinations, then three dense "
        "layers classify. 1,797 images, 10 classes, each pixel standardised with the training "
        "images' mean and spread; validation accuracy passes 0.95 in a few epochs. The feature "
        "maps of conv1 and conv2 show what each filter responds to."
    ), {
        "task": "classification",
        "dataset": {"name": "digits", "val_fraction": 0.2, "seed": 0, "standardize": "zscore"},
        "optimizer": {"name": "adam", "lr": 0.001},
        "batch_size": 32,
        "epochs": 15,
        "seed": 0,
    })
    chain(g, [
        ("image", "Input", {"shape": [1, 8, 8]}),
        ("conv1", "Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
        ("relu1", "ReLU", {}),
        ("pool1", "MaxPool2d", {"kernel_size": 2}),
        ("conv2", "Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1}),
        ("relu2", "ReLU", {}),
        ("pool2", "MaxPool2d", {"kernel_size": 2}),
        ("flatten", "Flatten", {}),
        ("fc1", "Linear", {"out_features": 120}),
        ("relu3", "ReLU", {}),
        ("fc2", "Linear", {"out_features": 84}),
        ("relu4", "ReLU", {}),
        ("fc3", "Linear", {"out_features": 10}),
    ])
    return g


def _recurrent(block: str, title: str, cell_text: str) -> Callable[[], Graph]:
    def make() -> Graph:
        g = new(f"{title} forecasting", (
            f"Forecasting a noisy sine with a{'n' if block[0] in 'AEIOUL' else ''} {block}: each sample is a "
            f"window of 20 past values [20, 1], the target is the next value. {cell_text} "
            "The last hidden state (output 'last') feeds a linear layer that predicts the next value; "
            "validation uses the last windows in time. The validation mean squared error falls "
            "below 0.01 (the noise alone gives 0.0025)."
        ), {
            "task": "sequence",
            "dataset": {"name": "sine", "samples": 600, "length": 20, "horizon": 1, "noise": 0.05,
                        "val_fraction": 0.2, "seed": 0},
            "optimizer": {"name": "adam", "lr": 0.01},
            "batch_size": 32,
            "epochs": 15,
            "seed": 0,
        })
        chain(g, [
            ("series", "Input", {"shape": [20, 1]}),
            (block.lower(), block, {"hidden_size": 32, "output": "last"}),
            ("forecast", "Linear", {"out_features": 1}),
        ])
        return g

    return make


rnn_sequence = _recurrent("RNN", "RNN", (
    "The plain recurrent network keeps one hidden state, h_t = tanh(W x_t + U h_(t-1) + b), "
    "updated at every step."))
lstm_sequence = _recurrent("LSTM", "LSTM", (
    "The LSTM adds a cell state guarded by input, forget and output gates, so what it remembers "
    "can last across many steps."))
gru_sequence = _recurrent("GRU", "GRU", (
    "The GRU merges the LSTM's gates into an update and a reset gate: fewer weights, much the same "
    "memory."))


def transformer_sequence() -> Graph:
    g = new("Transformer reverse", (
        "A small Transformer encoder learns to reverse a sequence of 8 tokens (vocabulary of 10). "
        "Tokens become vectors (Embedding), sinusoidal positional encodings tell each position "
        "where it is, and two self-attention layers let every output position look at the input "
        "position it must copy from; a linear layer scores the 10 tokens at each position. "
        "Validation accuracy per token passes 0.95."
    ), {
        "task": "classification",
        "dataset": {"name": "reverse", "samples": 2000, "length": 8, "vocab": 10, "val_fraction": 0.2, "seed": 0},
        "optimizer": {"name": "adam", "lr": 0.002},
        "batch_size": 64,
        "epochs": 8,
        "seed": 0,
    })
    chain(g, [
        ("tokens", "Input", {"shape": [8], "dtype": "long"}),
        ("embedding", "Embedding", {"num_embeddings": 10, "embedding_dim": 64}),
        ("position", "PositionalEncoding", {"dropout": 0.0, "max_len": 64}),
        ("encoder1", "TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 128, "dropout": 0.0}),
        ("encoder2", "TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 128, "dropout": 0.0}),
        ("scores", "Linear", {"out_features": 10}),
    ])
    return g


def gcn_karate() -> Graph:
    g = new("GCN karate club", (
        "Zachary's karate club: 34 members, 78 friendships, and a quarrel that split the club in "
        "two. Only 2 members per side are labelled; a two-layer graph convolutional network "
        "(GCN, H' = D^-1/2 (A+I) D^-1/2 H W) spreads what it knows along the friendships and "
        "predicts the side of every other member. Validation accuracy on the unlabelled members "
        "passes 0.85."
    ), {
        "task": "node_classification",
        "dataset": {"name": "karate", "labels_per_class": 2, "seed": 0},
        "optimizer": {"name": "adam", "lr": 0.01},
        "weight_decay": 0.0005,
        "batch_size": 1,
        "epochs": 100,
        "seed": 0,
    })
    g.add_node("Input", {"shape": [34, 34]}, (0, 0), id="x", label="members")
    g.add_node("Input", {"shape": [34, 34]}, (0, 160), id="adj", label="friendships")
    g.add_node("GCNConv", {"out_channels": 16}, (STEP, 0), id="gcn1")
    g.connect("x", "out", "gcn1", "x")
    g.connect("adj", "out", "gcn1", "adj")
    chain(g, [("relu", "ReLU", {})], x=2 * STEP, after="gcn1")
    g.add_node("GCNConv", {"out_channels": 2}, (3 * STEP, 0), id="gcn2")
    g.connect("relu", "out", "gcn2", "x")
    g.connect("adj", "out", "gcn2", "adj")
    return g


def gan_ring2d() -> Graph:
    g = new("GAN ring of Gaussians", (
        "A generative adversarial network on eight Gaussians (std 0.05) placed on a ring of "
        "radius 2. The generator (top) turns 8 random numbers into a 2-D point; the "
        "discriminator (bottom) tells real points from generated ones, and each learns from the "
        "other's mistakes. A generator that finds one mode and stays there has 'collapsed'; "
        "this one spreads over the ring and covers at least 6 of the 8 modes (a mode counts "
        "when 2% of the generated points fall within 3 standard deviations of its centre)."
    ), {
        "task": "gan",
        "dataset": {"name": "ring", "points": 4000, "std": 0.05, "seed": 0},
        "gan": {"generator": "noise", "discriminator": "sample", "latent_size": 8},
        "optimizer": {"name": "adam", "lr": 0.001, "betas": [0.5, 0.999]},
        "batch_size": 128,
        "epochs": 60,
        "seed": 0,
    })
    chain(g, [
        ("noise", "Input", {"shape": [8]}),
        ("g_fc1", "Linear", {"out_features": 128}),
        ("g_relu1", "ReLU", {}),
        ("g_fc2", "Linear", {"out_features": 128}),
        ("g_relu2", "ReLU", {}),
        ("g_out", "Linear", {"out_features": 2}),
    ])
    chain(g, [
        ("sample", "Input", {"shape": [2]}),
        ("d_fc1", "Linear", {"out_features": 128}),
        ("d_relu1", "LeakyReLU", {"negative_slope": 0.2}),
        ("d_fc2", "Linear", {"out_features": 128}),
        ("d_relu2", "LeakyReLU", {"negative_slope": 0.2}),
        ("d_out", "Linear", {"out_features": 1}),
    ], y=200)
    return g


EXAMPLES: dict[str, Callable[[], Graph]] = {
    "xor_mlp": xor_mlp,
    "xor_perceptron": xor_perceptron,
    "spiral_mlp": spiral_mlp,
    "vanishing_gradients": vanishing_gradients,
    "overfitting": overfitting,
    "lenet5_digits": lenet5_digits,
    "rnn_sequence": rnn_sequence,
    "lstm_sequence": lstm_sequence,
    "gru_sequence": gru_sequence,
    "transformer_sequence": transformer_sequence,
    "gcn_karate": gcn_karate,
    "gan_ring2d": gan_ring2d,
}


def main(argv: list[str]) -> int:
    wanted = argv or list(EXAMPLES)
    for name in wanted:
        if name not in EXAMPLES:
            print(f"unknown example {name!r} (known: {', '.join(EXAMPLES)})", file=sys.stderr)
            return 2
        save(EXAMPLES[name](), HERE / f"{name}.json")
        print(f"wrote examples/{name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
