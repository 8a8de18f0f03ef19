import pytest

from studio.data import check_fits, load_dataset, match_inputs
from studio.graph import Graph


def chain(*nodes):
    """A straight network: (id, block, params) in order, each wired to the next."""
    g = Graph()
    for node_id, block, params in nodes:
        g.add_node(block, params, id=node_id)
    for (a, _, _), (b, block, _) in zip(nodes, nodes[1:]):
        g.connect(a, "out", b, "in")
    return g


def mlp(features, outputs, hidden=8):
    return chain(("x", "Input", {"shape": [features]}), ("fc1", "Linear", {"out_features": hidden}),
                 ("act", "ReLU", {}), ("fc3", "Linear", {"out_features": outputs}))


def messages(problems):
    return [str(p) for p in problems]


@pytest.fixture(scope="module")
def iris():
    return load_dataset("iris")


def test_a_fitting_graph_has_no_problems(iris):
    assert check_fits(iris, mlp(4, 3)) == []


def test_feature_count_and_classes_name_both_sides(iris):
    problems = check_fits(iris, mlp(3, 10))
    assert messages(problems) == [
        "x: Input x takes [3] but the data set 'iris' gives [4] features",
        "fc3.out: the last node fc3 gives 10 outputs but 'iris' has 3 classes",
    ]
    assert [(p.node, p.kind) for p in problems] == [("x", "data"), ("fc3", "data")]


def test_two_classes_take_two_scores_or_one_logit():
    xor = load_dataset("xor")
    assert check_fits(xor, mlp(2, 2)) == []
    assert check_fits(xor, mlp(2, 1)) == []
    assert messages(check_fits(xor, mlp(2, 3))) == [
        "fc3.out: the last node fc3 gives 3 outputs but 'xor' has 2 classes "
        "(give 2 scores, or 1 logit for bce_with_logits)"]


def test_labels_are_used_in_messages(iris):
    g = mlp(4, 2)
    g.set_label("fc3", "head")
    assert messages(check_fits(iris, g)) == ["fc3.out: the last node head gives 2 outputs but 'iris' has 3 classes"]


def test_wrong_image_size():
    digits = load_dataset("digits")
    g = chain(("img", "Input", {"shape": [1, 28, 28]}), ("conv", "Conv2d", {"out_channels": 4, "kernel_size": 3}),
              ("flat", "Flatten", {}), ("fc", "Linear", {"out_features": 10}))
    assert messages(check_fits(digits, g)) == [
        "img: Input img takes [1, 28, 28] but the data set 'digits' gives images [1, 8, 8]"]
    g.set_params("img", {"shape": [1, 8, 8]})
    assert check_fits(digits, g) == []


def test_token_dtype_and_per_position_outputs():
    reverse = load_dataset({"name": "reverse", "length": 8, "vocab": 10})
    good = chain(("tokens", "Input", {"shape": [8], "dtype": "long"}),
                 ("emb", "Embedding", {"num_embeddings": 10, "embedding_dim": 16}),
                 ("out", "Linear", {"out_features": 10}))
    assert check_fits(reverse, good) == []
    good.set_params("tokens", {"dtype": "float"})
    assert messages(check_fits(reverse, good)) == [
        "tokens: Input tokens takes float values (dtype float) but the data set 'reverse' gives "
        "integer token ids (dtype long)"]
    good.set_params("tokens", {"dtype": "long"})
    good.set_params("out", {"out_features": 12})
    assert messages(check_fits(reverse, good)) == [
        "out.out: the last node out gives [8, 12] but 'reverse' needs [8, 10] "
        "(a score for each of 10 classes in the last dimension)"]


def test_regression_targets():
    sine = load_dataset({"name": "sine", "samples": 30, "length": 20, "horizon": 2})
    g = chain(("x", "Input", {"shape": [20, 1]}), ("flat", "Flatten", {}), ("fc", "Linear", {"out_features": 1}))
    assert messages(check_fits(sine, g)) == ["fc.out: the last node fc gives [1] but the targets of 'sine' are [2]"]
    g.set_params("fc", {"out_features": 2})
    assert check_fits(sine, g) == []


def test_number_of_inputs_and_matching_by_name():
    karate = load_dataset("karate")
    g = Graph()
    g.add_node("Input", {"shape": [34, 34]}, id="adj")  # first in the document, matched by name
    g.add_node("Input", {"shape": [34, 34]}, id="feats")
    g.add_node("GCNConv", {"out_channels": 2}, id="gcn")
    g.connect("feats", "out", "gcn", "x")
    g.connect("adj", "out", "gcn", "adj")
    assert [(n, d.name) for n, d in match_inputs(karate, g)] == [("adj", "adj"), ("feats", "x")]
    assert check_fits(karate, g) == []

    g.remove_node("adj")
    problems = messages(check_fits(karate, g))
    assert problems[0] == ("data set: the graph has 1 Input node(s) (feats) but the data set 'karate' gives "
                           "2 input(s) (x [34, 34], adj [34, 34])")

    wide = mlp(4, 3)
    assert messages(check_fits(karate, wide))[:2] == [
        "data set: the graph has 1 Input node(s) (x) but the data set 'karate' gives 2 input(s) (x [34, 34], adj [34, 34])",
        "x: Input x takes [4] but the data set 'karate' gives samples [34, 34] as x",
    ]


def test_several_outputs_are_refused(iris):
    g = mlp(4, 3)
    g.add_node("Linear", {"out_features": 3}, id="aux")
    g.connect("act", "out", "aux", "in")
    assert messages(check_fits(iris, g)) == [
        "data set: the graph has 2 outputs (fc3, aux); training on 'iris' needs exactly one"]


def test_unknown_shapes_are_left_to_validation(iris):
    g = mlp(5, 3)
    g.disconnect(g.edge_into("fc1", "in"))
    # fc1 and fc3 have no shapes now (validation reports fc1); only the Input is compared.
    assert messages(check_fits(iris, g)) == ["x: Input x takes [5] but the data set 'iris' gives [4] features"]


def test_gan_needs_a_generator_and_a_discriminator():
    ring = load_dataset({"name": "ring", "points": 10})
    g = Graph()
    for node_id, block, params in [
        ("z", "Input", {"shape": [8]}), ("g1", "Linear", {"out_features": 16}), ("g2", "Linear", {"out_features": 2}),
        ("real", "Input", {"shape": [2]}), ("d1", "Linear", {"out_features": 16}), ("d2", "Linear", {"out_features": 1}),
    ]:
        g.add_node(block, params, id=node_id)
    for a, b in [("z", "g1"), ("g1", "g2"), ("real", "d1"), ("d1", "d2")]:
        g.connect(a, "out", b, "in")
    assert check_fits(ring, g) == []
    g.set_params("g2", {"out_features": 3})
    g.set_params("real", {"shape": [3]})
    assert messages(check_fits(ring, g)) == [
        "data set: no Input takes a sample of 'ring' [2] for the discriminator (Inputs: z [8], real [3])",
        "data set: no generator output gives a sample of 'ring' [2] (outputs: g2 [3], d2 [1])",
    ]
