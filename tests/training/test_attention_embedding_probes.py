"""The attention probe (each head's weights, query x key) and the embedding probe (the vectors on
their two principal axes): what they report, and what they show once a network has learnt."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.files import load
from studio.graph import Graph
from studio.training import ProbeEvent, Trainer, TrainingConfig

from training_graphs import chain, settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def probes_of(graph, training: dict, base_dir=None) -> tuple[Trainer, list[ProbeEvent]]:
    events = []
    trainer = Trainer(graph, None, TrainingConfig.from_dict(training), events.append, base_dir=base_dir)
    result = trainer.run()
    assert result.status == "finished", result.message
    return trainer, [e for e in events if isinstance(e, ProbeEvent) and (e.attention or e.embeddings)]


def anti_diagonal_share(weights: np.ndarray) -> float:
    """Share of query rows (all samples, heads averaged) whose largest weight is on key L-1-q."""
    top = weights.mean(axis=1).argmax(axis=-1)  # [samples, queries]
    return float((top == np.arange(top.shape[-1])[::-1]).mean())


def test_reversal_attention_finds_the_anti_diagonal():
    graph = load(EXAMPLES / "transformer_sequence.json")
    # 3 epochs: the second layer's anti-diagonal held on seeds 0-3 (0.94 to 1.0 of rows; 2 s)
    trainer, found = probes_of(graph, {**graph.training, "epochs": 3, "threads": 1}, EXAMPLES)
    first, last = found[0].attention, found[-1].attention
    assert set(last) == {"encoder1", "encoder2"}
    maps = last["encoder2"]
    assert maps.weights.shape == (4, 4, 8, 8)  # samples, heads, queries, keys
    np.testing.assert_allclose(maps.weights.sum(axis=-1), 1.0, rtol=1e-5)
    # the positions' token texts: the sample's own tokens
    ids = trainer.recipe.probe_x[0][:4].tolist()
    assert maps.tokens == [[str(t) for t in row] for row in ids]
    assert anti_diagonal_share(first["encoder2"].weights) < 0.4  # not there before it learns
    assert anti_diagonal_share(maps.weights) > 0.75  # there once it reverses


def test_attention_weights_are_what_the_module_computes_with_its_masks_and_pre_norm():
    graph = chain(Graph("attend"), ("Input", {"shape": [6, 1]}, "x"), ("Linear", {"out_features": 8}, "proj"),
                  ("MultiheadAttention", {"num_heads": 2, "causal": True}, "causal"),
                  ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16, "dropout": 0.0,
                                               "norm_first": True}, "encoder"),
                  ("Flatten", {}, "flat"), ("Linear", {"out_features": 1}, "out"))
    data = {"name": "sine", "samples": 40, "length": 6, "horizon": 1, "val_fraction": 0.0}
    every = {"enabled": True, "every": 1, "budget": 1.0}
    trainer, found = probes_of(graph, settings(dataset=data, probes=every, epochs=1, task="sequence"))
    maps = found[-1].attention
    assert set(maps) == {"causal", "encoder"} and found[-1].embeddings == {}
    causal = maps["causal"].weights
    assert causal.shape == (4, 2, 6, 6) and maps["causal"].tokens is None  # not tokens: positions
    assert np.all(np.triu(causal, 1) == 0)  # no query looks ahead, as the block masks
    # the encoder's heads, worked out by hand from what its attention sees: norm1(x) (pre-norm)
    model = trainer.networks["model"]
    layer = model.submodule_of("encoder")
    seen = {}

    def keep_query(_module, args):
        seen["q"] = args[0]

    layer.self_attn.register_forward_pre_hook(keep_query)
    model.train()
    with torch.no_grad():
        model(trainer.recipe.probe_x[0][:4])
        q = seen["q"]
        w, b = layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias
        query, key = (q @ w[:8].T + b[:8]), (q @ w[8:16].T + b[8:16])
        heads = lambda t: t.reshape(4, 6, 2, 4).transpose(1, 2)  # noqa: E731
        expected = torch.softmax(heads(query) @ heads(key).transpose(-1, -2) / math.sqrt(4), dim=-1)
    np.testing.assert_allclose(maps["encoder"].weights, expected.numpy(), rtol=1e-4, atol=1e-6)


def test_word_embeddings_put_cat_near_dog_not_car():
    graph = load(EXAMPLES / "word_embeddings.json")
    # 5 epochs of the file's 1000 sentences (1.5 s): cat-dog cosine 0.92 to 1.0, cat-car below 0.35, seeds 0-5
    trainer, found = probes_of(graph, {**graph.training, "epochs": 5, "threads": 1}, EXAMPLES)
    points = found[-1].embeddings["embedding"]
    assert points.labels[:4] == ["<pad>", "cat", "dog", "mouse"] and len(points.labels) == 71
    assert points.points.shape == (71, 2) and 0 < points.explained[1] <= points.explained[0] < 1
    at = {w: i for i, w in enumerate(points.labels)}

    def cosine(v, a, b):
        return float(v[at[a]] @ v[at[b]] / np.linalg.norm(v[at[a]]) / np.linalg.norm(v[at[b]]))

    vectors = trainer.networks["model"].submodule_of("embedding").weight.detach().numpy()
    assert cosine(vectors, "cat", "dog") > cosine(vectors, "cat", "car") + 0.4
    flat = points.points
    assert cosine(flat, "cat", "dog") > cosine(flat, "cat", "car") + 0.4
    assert np.linalg.norm(flat[at["cat"]] - flat[at["dog"]]) < np.linalg.norm(flat[at["cat"]] - flat[at["car"]])
    # the projection is the vectors' own PCA, computed afresh on the final weights
    centred = vectors[:71] - vectors[:71].mean(axis=0)
    _, s, _ = np.linalg.svd(centred, full_matrices=False)
    assert points.explained[0] == pytest.approx(s[0] ** 2 / (s ** 2).sum(), rel=1e-4)
    assert np.abs(flat[:, 0]).max() == pytest.approx(np.abs(centred @ np.linalg.svd(centred)[2][0]).max(), rel=1e-4)
