"""The example networks that learn, in short runs: each learns clearly better than
chance within a few epochs (``make examples`` runs them at full length and checks
the real targets; the figures are in docs/training.md)."""

import math
from pathlib import Path

import pytest
import torch

from studio.files import load
from studio.training import ProbeEvent, Trainer, TrainingConfig

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TRAINABLE = ("xor_mlp", "xor_perceptron", "perceptron_rule", "linear_regression", "universal_approximation",
             "spiral_mlp", "vanishing_gradients", "overfitting", "lenet5_digits", "rnn_sequence", "lstm_sequence",
             "gru_sequence", "transformer_sequence", "word_embeddings", "gcn_karate", "gan_ring2d")


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def short_run(name: str, epochs: int | None = None, **changes):
    """Train the example as its file says, but for ``epochs`` epochs, without probes."""
    graph = load(EXAMPLES / f"{name}.json")
    training = {**graph.training, **changes, "probes": False, "threads": 1}
    if epochs is not None:
        training["epochs"] = epochs
    result = Trainer(graph, None, TrainingConfig.from_dict(training), base_dir=EXAMPLES).run()
    assert result.status == "finished", result.message
    return result


@pytest.mark.parametrize("name", TRAINABLE)
def test_example_reads_well(name):
    graph = load(EXAMPLES / f"{name}.json")
    assert len(graph.description) > 150  # a paragraph a learner can read
    assert graph.training["dataset"]["name"]
    positions = [n.position for n in graph.nodes.values()]
    assert len(set(positions)) == len(positions)  # no two blocks on top of each other
    for edge in graph.edges:  # laid out left to right, ~280 px per layer
        dx = graph.node(edge.dst).position[0] - graph.node(edge.src).position[0]
        assert dx >= 200, f"{edge} runs {dx} px"


def test_xor_mlp_learns_xor():
    result = short_run("xor_mlp", epochs=60)
    assert result.history[-1].train_acc == 1.0
    assert result.history[-1].train_loss < 0.05 < 0.6 < result.history[0].train_loss


def test_xor_perceptron_cannot():
    result = short_run("xor_perceptron")  # its full length: four points train in a blink
    accuracies = {e.train_acc for e in result.history}
    assert max(accuracies) <= 0.75  # one straight line never gets all four corners
    assert result.history[-1].train_loss == pytest.approx(math.log(2), abs=0.01)  # a coin toss's loss


def test_linear_regression_finds_the_line_at_lr_005_and_diverges_at_lr_1():
    result = short_run("linear_regression")  # its full length: 500 steps on 80 points
    (w, b), = [[float(p.detach()) for p in net.parameters()] for net in result.networks.values()]
    assert w == pytest.approx(2.0, abs=0.05) and b == pytest.approx(1.0, abs=0.15)  # y = 2 x + 1 + noise
    assert result.history[-1].val_loss < 0.02
    graph = load(EXAMPLES / "linear_regression.json")
    training = {**graph.training, "optimizer": {"name": "sgd", "lr": 1.0}, "probes": False, "threads": 1}
    diverged = Trainer(graph, None, TrainingConfig.from_dict(training), base_dir=EXAMPLES).run()
    assert diverged.status == "failed" and "lower learning rate" in diverged.message


def test_universal_approximation_is_coarse_with_3_units_and_follows_the_sine_with_50():
    graph = load(EXAMPLES / "universal_approximation.json")
    losses = {}
    for width in (3, 50):
        graph.set_params("hidden", {"out_features": width})
        training = {**graph.training, "epochs": 300, "probes": False, "threads": 1}
        result = Trainer(graph, None, TrainingConfig.from_dict(training), base_dir=EXAMPLES).run()
        losses[width] = result.history[-1].val_loss
    # three bends cannot make the sine's four turns; fifty run through the points (noise alone is 0.0025)
    assert losses[50] < 0.01 < 0.04 < losses[3]


def test_spiral_mlp_beats_chance():
    result = short_run("spiral_mlp", epochs=12)
    first, last = result.history[0], result.history[-1]
    assert last.val_acc > 0.8  # chance is 1/3
    assert last.train_loss < 0.5 * first.train_loss


def test_vanishing_gradients_fade_layer_by_layer_and_nothing_is_learnt():
    graph = load(EXAMPLES / "vanishing_gradients.json")
    training = {**graph.training, "epochs": 4, "threads": 1, "probes": {"every": 30, "budget": 1.0}}
    events = []
    result = Trainer(graph, None, TrainingConfig.from_dict(training), callback=events.append,
                     base_dir=EXAMPLES).run()
    norms = [e.grad_norms for e in events if isinstance(e, ProbeEvent) and e.grad_norms][-1]
    layers = [f"fc{i}" for i in range(1, 9)] + ["logits"]
    assert all(norms[a] < norms[b] for a, b in zip(layers, layers[1:]))  # smaller at every layer back
    assert norms["fc1"] < 1e-5 < 1e-2 < norms["logits"]  # below 1e-5 the app flags a layer as vanishing
    assert max(e.val_acc for e in result.history) < 0.5  # chance is 1/3


def test_overfitting_memorises_while_validation_loss_rises():
    result = short_run("overfitting", epochs=60)
    best = min(e.val_loss for e in result.history)
    last = result.history[-1]
    assert last.train_acc == 1.0 and last.train_loss < 0.01
    assert last.val_loss > 2 * best  # and it keeps rising over the full 200 epochs (make examples)


def test_lenet5_digits_beats_chance():
    result = short_run("lenet5_digits", epochs=2)
    last = result.history[-1]
    assert last.val_acc > 0.6  # chance is 1/10
    assert last.val_loss < 0.5 * math.log(10)


@pytest.mark.parametrize("name", ("rnn_sequence", "lstm_sequence", "gru_sequence"))
def test_recurrent_forecast_error_falls(name):
    result = short_run(name, epochs=3)
    first, last = result.history[0], result.history[-1]
    # predicting 0 for a unit sine scores about 0.5; three epochs get well below
    assert last.val_loss < 0.05
    assert last.train_loss < 0.5 * first.train_loss


def test_transformer_learns_to_reverse():
    result = short_run("transformer_sequence", epochs=3)
    last = result.history[-1]
    assert last.val_acc > 0.6  # chance is 1/10 per token
    assert last.train_loss < 0.5 * result.history[0].train_loss


def test_gcn_karate_labels_the_club():
    result = short_run("gcn_karate", epochs=60)
    assert result.best.val_acc >= 0.75  # 30 unlabelled members; chance is 1/2
    assert result.history[-1].train_loss < 0.5 * result.history[0].train_loss


def test_gan_moves_its_samples_onto_the_ring():
    graph = load(EXAMPLES / "gan_ring2d.json")
    latent = graph.training["gan"]["latent_size"]
    z = torch.randn(2000, latent, generator=torch.Generator().manual_seed(1))

    def distance_from_ring(generator):
        generator.eval()
        with torch.no_grad():
            points = generator(z)
        return (points.norm(dim=1) - 2.0).abs().mean().item()

    result = short_run("gan_ring2d", epochs=20)
    before = Trainer(graph, None, TrainingConfig.from_dict({**graph.training, "epochs": 1}), base_dir=EXAMPLES)
    before.prepare()  # the same seed draws the same starting weights
    start = distance_from_ring(before.networks["noise"])
    end = distance_from_ring(result.networks["noise"])
    assert start > 1.0  # untrained, the samples sit near the origin
    assert end < 0.25 * start  # trained, they lie on the ring
    assert result.best.extra["modes_covered"] >= 3  # and start to split into its modes
