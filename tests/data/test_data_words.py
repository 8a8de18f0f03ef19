"""The words data set: generated sentences as skip-gram or CBOW pairs, the vocabulary as classes."""

import pytest

from studio.data import DataError, load_dataset
from studio.data.builtin.text import PAD, pairs


def test_skipgram_and_cbow_pairs_of_one_corpus():
    ids = {w: i for i, w in enumerate([PAD, "the", "cat", "chased", "mouse"])}
    corpus = [["the", "cat", "chased", "the", "mouse"]]
    x, y = pairs(corpus, ids, 1, "skipgram")
    assert x.shape == (8, 1)  # 5 words, each with its 1 or 2 neighbours
    assert list(zip(x[:, 0].tolist(), y.tolist()))[:3] == [(1, 2), (2, 1), (2, 3)]
    x, y = pairs(corpus, ids, 2, "cbow")
    assert x.shape == (5, 4) and y.tolist() == [1, 2, 3, 1, 4]
    assert x[0].tolist() == [0, 0, 2, 3]  # padded before the sentence's start


def test_words_loads_with_its_vocabulary_as_classes():
    ds = load_dataset({"name": "words", "sentences": 50, "mode": "cbow", "window": 3})
    assert ds.vocab == ds.class_names and ds.vocab[:3] == [PAD, "cat", "dog"] and len(ds.vocab) == 71
    assert ds.inputs[0].shape == (6,) and ds.inputs[0].dtype == "long" and ds.output_shape == (71,)
    assert int(ds.train.inputs[0].max()) < 71 and int(ds.train.targets.max()) < 71
    again = load_dataset({"name": "words", "sentences": 50, "mode": "cbow", "window": 3})
    assert bool((again.train.inputs[0] == ds.train.inputs[0]).all())  # seeded
    with pytest.raises(DataError, match="training.dataset.window"):
        load_dataset({"name": "words", "window": 0})
