"""Weights carried into a run land whatever key names the one network: the trainer keys it
"model", a weights file or an import by the Input's node id."""

from __future__ import annotations

import torch

import studio
from studio.compile import compile_networks
from studio.training import Trainer
from studio.ui.training.run import load_weights

EXAMPLE = "examples/xor_mlp.json"


def _trained_elsewhere():
    graph = studio.load(EXAMPLE)
    torch.manual_seed(123)
    networks = compile_networks(graph)
    assert list(networks) == ["x"]  # keyed by the Input's node id
    return graph, {key: net.state_dict() for key, net in networks.items()}


def test_one_network_s_weights_land_under_another_key():
    graph, weights = _trained_elsewhere()
    trainer = Trainer(graph, base_dir="examples")
    trainer.prepare()
    assert list(trainer.networks) != list(weights)
    loaded = load_weights(trainer, weights)
    own = next(iter(trainer.networks.values())).state_dict()
    assert loaded == len(own) > 0
    for name, value in weights["x"].items():
        assert torch.equal(own[name], value), name


def test_weights_under_the_trainer_s_own_key_still_land():
    graph, weights = _trained_elsewhere()
    trainer = Trainer(graph, base_dir="examples")
    trainer.prepare()
    key = next(iter(trainer.networks))
    assert load_weights(trainer, {key: weights["x"]}) == len(weights["x"])
