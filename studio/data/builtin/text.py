"""Word contexts: a generated corpus of simple sentences about animals, vehicles and food,
turned into (word -> a word near it) pairs (skip-gram) or (the words around -> the word) pairs
(CBOW). Words of one kind share their neighbours ("the cat chased ...", "the dog chased ..."),
so an Embedding trained on the pairs puts them near each other."""

from __future__ import annotations

from typing import Any

import numpy as np
from blocks import Param

from ..assemble import assemble
from ..catalog import DatasetInfo, register
from ..limits import check_memory
from ..options import SPLIT, place, with_defaults

KINDS = {
    "animal": ("cat", "dog", "mouse", "horse", "cow", "bird"),
    "vehicle": ("car", "bus", "truck", "train", "bike", "boat"),
    "food": ("bread", "apple", "cheese", "cake", "soup", "rice"),
}
# Each kind's sentences; {animal}, {vehicle} and {food} take a word of that kind.
TEMPLATES = {
    "animal": (
        "the {animal} chased the {animal}",
        "the {animal} ate the {food}",
        "the {animal} slept in the barn",
        "a hungry {animal} ran across the field",
        "the farmer fed the {animal}",
        "the little {animal} was hungry",
    ),
    "vehicle": (
        "the {vehicle} drove down the road",
        "the {vehicle} stopped at the station",
        "she parked the {vehicle} near the house",
        "a fast {vehicle} carried the people to town",
        "the driver washed the {vehicle}",
        "the old {vehicle} was slow",
    ),
    "food": (
        "we ate the {food} for dinner",
        "she cooked the {food} in the kitchen",
        "he bought fresh {food} at the market",
        "the {food} was tasty",
        "a plate of warm {food} sat on the table",
        "the cook served the {food}",
    ),
}
PAD = "<pad>"  # CBOW: the context beyond a sentence's ends


def vocabulary() -> list[str]:
    """Every word of the corpus, the padding token first, the kinds' words in order, then the rest."""
    words = [PAD] + [w for kind in KINDS.values() for w in kind]
    for templates in TEMPLATES.values():
        for template in templates:
            for word in template.split():
                if not word.startswith("{") and word not in words:
                    words.append(word)
    return words


def sentences(count: int, rng: np.random.Generator) -> list[list[str]]:
    """``count`` sentences, each of a kind drawn at random, filled with words drawn at random."""
    kinds = list(TEMPLATES)
    out = []
    for k in rng.integers(0, len(kinds), count):
        templates = TEMPLATES[kinds[k]]
        words = []
        for word in templates[rng.integers(0, len(templates))].split():
            if word.startswith("{"):
                choices = KINDS[word[1:-1]]
                word = choices[rng.integers(0, len(choices))]
            words.append(word)
        out.append(words)
    return out


def pairs(corpus: list[list[str]], ids: dict[str, int], window: int, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Skip-gram: x [n, 1] a word, y [n] a word within ``window`` of it. CBOW: x [n, 2*window] the
    words around (padded past the sentence's ends), y [n] the word in the middle."""
    xs, ys = [], []
    pad = ids[PAD]
    for words in corpus:
        tokens = [ids[w] for w in words]
        for i, centre in enumerate(tokens):
            around = [j for j in range(i - window, i + window + 1) if j != i]
            if mode == "skipgram":
                for j in around:
                    if 0 <= j < len(tokens):
                        xs.append([centre])
                        ys.append(tokens[j])
            else:
                xs.append([tokens[j] if 0 <= j < len(tokens) else pad for j in around])
                ys.append(centre)
    return np.array(xs, dtype=np.int64).reshape(len(xs), -1), np.array(ys, dtype=np.int64)


def _words(o: dict[str, Any], base) -> Any:
    per_sentence = 10 * 2 * o["window"]  # at most ten words a sentence, each with 2 * window neighbours
    check_memory(3 * 8 * o["sentences"] * per_sentence, f"{o['sentences']:,} sentences x up to {per_sentence} "
                 "pairs x 8 bytes, three times", place("sentences"), "use fewer sentences or a smaller window")
    rng = np.random.default_rng(o["seed"])
    vocab = vocabulary()
    x, y = pairs(sentences(o["sentences"], rng), {w: i for i, w in enumerate(vocab)}, o["window"], o["mode"])
    return assemble("words", "classification", x, y, o, x_dtype="long", class_names=vocab, vocab=vocab)


register(DatasetInfo(
    "words", "classification",
    "Text: generated sentences about animals, vehicles and food ('the cat chased the mouse', 'the car drove "
    "down the road') as word-context pairs, for learning word embeddings. skipgram: [1] a word -> a word near "
    "it; cbow: [2 x window] the words around -> the word. The vocabulary is the classes.",
    (
        Param("mode", "choice", "skipgram", "skipgram: a word predicts its neighbours; cbow: the neighbours "
              "predict the word", choices=("skipgram", "cbow")),
        Param("sentences", "int", 1000, "sentences generated", min=1, max=1000000),
        Param("window", "int", 2, "words either side that count as a word's context", min=1, max=8),
        *with_defaults(SPLIT, val_fraction=0.1),
    ),
    _words,
    suggested={'optimizer': {'name': 'adam', 'lr': 0.01}, 'batch_size': 128, 'epochs': 10},
))
