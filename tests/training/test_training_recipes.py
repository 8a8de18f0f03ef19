"""Node classification (one graph is one sample) and GAN (two networks, in turns)."""

import numpy as np
import torch

from studio.data import load_dataset
from studio.graph import Graph
from studio.training import EpochEvent, ProbeEvent, StepsEvent, Trainer
from studio.training.gan import EVAL_SAMPLES, MODE_SHARE

from training_graphs import chain, settings


def gcn_graph() -> Graph:
    g = Graph("gcn")
    g.add_node("Input", {"shape": [34, 34]}, id="x")
    g.add_node("Input", {"shape": [34, 34]}, id="adj")
    g.add_node("GCNConv", {"out_channels": 16}, id="gcn1")
    g.add_node("ReLU", {}, id="relu")
    g.add_node("GCNConv", {"out_channels": 2}, id="gcn2")
    for src, dst in (("x", "gcn1.x"), ("adj", "gcn1.adj"), ("gcn1", "relu.in"), ("relu", "gcn2.x"),
                     ("adj", "gcn2.adj")):
        node, port = dst.split(".")
        g.connect(src, "out", node, port)
    return g


def test_node_classification_learns_from_four_labelled_nodes():
    events = []
    trainer = Trainer(gcn_graph(), config=settings(epochs=60, dataset={"name": "karate", "seed": 0},
                                                   probes={"every": 20, "budget": 1.0}),
                      callback=events.append)
    result = trainer.run()
    assert result.status == "finished", result.message
    assert result.steps == 60  # the whole graph is one step
    first, last = result.history[0], result.history[-1]
    assert last.train_loss < first.train_loss / 10
    assert last.train_acc == 1.0 and last.val_acc >= 0.8  # 30 held-out members of the club
    probe = [e for e in events if isinstance(e, ProbeEvent)][-1]
    assert probe.activations["gcn1"].hist_counts.sum() == 34 * 16
    assert set(probe.grad_norms) == {"gcn1", "gcn2"}


def gan_graph(hidden: int = 64) -> Graph:
    g = Graph("gan")
    chain(g, ("Input", {"shape": [4]}, "noise"), ("Linear", {"out_features": hidden}, "g1"), ("ReLU", {}, "g_act"),
          ("Linear", {"out_features": hidden}, "g2"), ("ReLU", {}, "g_act2"), ("Linear", {"out_features": 2}, "fake"))
    chain(g, ("Input", {"shape": [2]}, "sample"), ("Linear", {"out_features": hidden}, "d1"),
          ("LeakyReLU", {"negative_slope": 0.2}, "d_act"), ("Linear", {"out_features": hidden}, "d2"),
          ("LeakyReLU", {"negative_slope": 0.2}, "d_act2"), ("Linear", {"out_features": 1}, "score"))
    return g


GAN = dict(epochs=40, batch_size=64, dataset={"name": "ring", "points": 512, "modes": 4, "std": 0.15, "seed": 0},
           optimizer={"name": "adam", "lr": 0.002, "betas": [0.5, 0.999]})


def test_gan_finds_the_modes_of_a_ring():
    events = []
    trainer = Trainer(gan_graph(), config=settings(**GAN, probes={"every": 100, "budget": 1.0}),
                      callback=events.append)
    result = trainer.run()
    assert result.status == "finished", result.message
    # roles found by shape: the discriminator's Input takes a real sample
    assert (trainer.recipe.g_name, trainer.recipe.d_name) == ("noise", "sample")
    covered = [e.extra["modes_covered"] for e in result.history]
    assert covered[0] <= 1 and covered[-1] == 4
    assert all("generator_loss" in e.extra for e in result.history)
    steps = [e for e in events if isinstance(e, StepsEvent)]
    assert len(steps[0].extra["generator_loss"]) == len(steps[0].losses)
    assert result.best.extra["modes_covered"] == 4
    probe = [e for e in events if isinstance(e, ProbeEvent)][-1]
    assert probe.samples["generated"].shape == probe.samples["real"].shape == (500, 2)
    radius = np.linalg.norm(probe.samples["generated"], axis=1)
    assert abs(np.median(radius) - 2.0) < 0.3  # the ring's radius
    assert {"g1", "d1"} <= set(probe.grad_norms) and "fake" in probe.activations


def test_modes_covered_counts_modes_holding_two_percent_of_the_samples():
    data = load_dataset({"name": "ring", "points": 64, "seed": 0})  # the eight Gaussians
    trainer = Trainer(gan_graph(hidden=8), data, config=settings(epochs=1, dataset=None))
    trainer.prepare()
    recipe = trainer.recipe
    centres = torch.tensor(recipe.centres)
    # a generator that always answers with the centres of modes 0..4 covers five of eight
    per_mode = EVAL_SAMPLES // 5
    fixed = centres[torch.arange(EVAL_SAMPLES) % 5]

    class Fixed(torch.nn.Module):
        def forward(self, z):
            return fixed[: z.shape[0]]

    recipe.G = Fixed()
    assert recipe.evaluate().extra["modes_covered"] == 5
    # a mode with fewer than 2% of the samples does not count
    few = int(MODE_SHARE * EVAL_SAMPLES) - 1
    fixed = centres[0].repeat(EVAL_SAMPLES, 1)
    fixed[:few] = centres[6]
    assert recipe.evaluate().extra["modes_covered"] == 1
    assert per_mode > MODE_SHARE * EVAL_SAMPLES


def test_gan_roles_can_be_named_and_are_checked():
    wrong = Trainer(gan_graph(), config=settings(**GAN, gan={"generator": "nothing"})).check()
    assert wrong == ["training.gan.generator: no network 'nothing' in the graph (networks, named by their first "
                     "Input: noise, sample)"]
    swapped = Trainer(gan_graph(), config=settings(**GAN, gan={"generator": "sample", "discriminator": "noise"}))
    problems = swapped.check()
    assert problems == ["the discriminator noise takes [4], the data set's samples are [2]"]
    bad_latent = Trainer(gan_graph(), config=settings(**GAN, gan={"latent_size": 8})).check()
    assert bad_latent == ["training.gan.latent_size: 8, but the generator's Input noise takes [4]"]


def test_gan_steps_ratio_trains_the_discriminator_more():
    cfg = settings(**{**GAN, "epochs": 1}, gan={"d_steps": 2, "g_steps": 1})
    trainer = Trainer(gan_graph(), config=cfg)
    result = trainer.run()
    assert result.status == "finished"
    assert trainer.recipe.steps_per_epoch == 4  # 8 real batches, two per round
    d_opt, g_opt = (u.optimizer for u in trainer.recipe.updates)
    d_steps = d_opt.state[next(iter(d_opt.state))]["step"]
    g_steps = g_opt.state[next(iter(g_opt.state))]["step"]
    assert (float(d_steps), float(g_steps)) == (8.0, 4.0)
    assert isinstance(result.history[0], EpochEvent)
