"""Whatever a file holds, loading either succeeds or raises GraphFileError, never anything else."""

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.files import GraphFileError, dumps, loads
from studio.graph import validate

from file_samples import small_graph
from fuzzing import examples

VALID = json.loads(dumps(small_graph()))
VALID_TEXT = dumps(small_graph())

# Values near the ones a graph file holds, so mutations reach deep into the reader.
WORDS = st.sampled_from([
    "studio-graph", "Input", "Linear", "ReLU", "Add", "Conv2d", "Step", "Reshape", "Concat", "fc1", "relu1.out",
    "add.in2", "input.out", "fc2.in", "out", "in", "id", "block", "params", "position", "shape", "float", "long",
    "nodes", "edges", "", ".", "a.b.c", "\ud800", "fc1\udfff", "\x1b[31m", "\x9b",
])
SCALARS = (
    st.none() | st.booleans() | st.integers(-3, 40) | st.integers() | st.sampled_from([2**63, -(2**63) - 1, 10**40, 10**41])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6) | WORDS
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(WORDS | st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)

FUZZ = settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_or_refuse(text: str) -> None:
    try:
        g = loads(text, "fuzz.json")
    except GraphFileError as exc:
        assert str(exc).startswith("fuzz.json: ")
        return
    validate(g)  # a graph that loads can be checked and written again
    for node_id in g.nodes:
        g.shapes.output(node_id)
    assert loads(dumps(g)).snapshot() == g.snapshot()


@FUZZ
@given(JSON)
def test_arbitrary_json_values(value):
    load_or_refuse(json.dumps(value))


@FUZZ
@given(JSON)
def test_arbitrary_json_under_the_right_header(value):
    doc = {"format": "studio-graph", "version": 1, "nodes": value, "edges": value}
    load_or_refuse(json.dumps(doc))


def _containers(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _containers(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _containers(v, path + (i,))


PLACES = [p for p, _ in _containers(VALID)]


def _at(doc, path):
    for part in path:
        doc = doc[part]
    return doc


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PLACES), st.sampled_from(["set", "delete", "insert"]), JSON),
                min_size=1, max_size=4))
def test_mutations_of_a_valid_file(edits):
    doc = copy.deepcopy(VALID)
    for path, action, value in edits:
        try:
            parent = _at(doc, path[:-1]) if path else None
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed that place
        if not path:
            doc = value
            continue
        key = path[-1]
        if isinstance(parent, dict) and isinstance(key, str):
            if action == "delete":
                parent.pop(key, None)
            else:
                parent[key] = value
        elif isinstance(parent, list) and isinstance(key, int) and key < len(parent):
            if action == "delete":
                del parent[key]
            elif action == "insert":
                parent.insert(key, value)
            else:
                parent[key] = value
    load_or_refuse(json.dumps(doc))


@FUZZ
@given(st.integers(0, len(VALID_TEXT) - 1), st.integers(0, 8), st.text(max_size=4))
def test_text_edits_of_a_valid_file(start, length, insert):
    load_or_refuse(VALID_TEXT[:start] + insert + VALID_TEXT[start + length:])
