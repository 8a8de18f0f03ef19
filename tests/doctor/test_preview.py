"""The look before the first step: the loss at initialisation, activations, gradients, flags."""

import json
import math
from pathlib import Path

import pytest
import torch

from studio.data import load_dataset
from studio.data.dataset import Split
from studio.doctor import preview as doctor_preview
from studio.doctor.preview import node_stats, preview
from studio.files import load, to_document
from studio.graph import Graph
from studio.training.errors import TrainingSetupError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def example(name: str) -> Graph:
    return load(EXAMPLES / f"{name}.json")


def test_vanishing_gradients_flags_its_first_layers_before_any_step():
    graph = example("vanishing_gradients")
    before = to_document(graph)
    found = preview(graph, EXAMPLES)
    assert to_document(graph) == before  # the graph is untouched
    vanishing = found.flagged("vanishing")
    assert {"fc1", "fc2"} <= set(vanishing)
    assert "logits" not in vanishing and "fc8" not in vanishing
    norms = [found.node(f"fc{i}").grad_norm for i in range(1, 9)] + [found.node("logits").grad_norm]
    assert all(a < b for a, b in zip(norms, norms[1:]))  # smaller at every layer back
    assert norms[0] < 1e-5  # where the live gradient view turns the wire blue
    problems = {p.node: p for p in found.problems if p.code == "vanishing-gradient"}
    assert {"fc1", "fc2"} <= set(problems)
    p = problems["fc1"]
    assert (p.kind, p.level) == ("lint", "warning")
    assert f"{found.node('fc1').grad_norm:.1e}" in p.message and "ReLU" in p.message
    assert found.node("sigmoid3").saturated is not None and found.node("sigmoid3").dead is None
    assert found.loss.as_expected  # the loss is fine; only the gradients fade


def test_spiral_mlp_loss_at_init_is_about_ln_3_and_nothing_vanishes():
    found = preview(example("spiral_mlp"), EXAMPLES)
    assert found.loss.expected == pytest.approx(math.log(3))
    assert abs(found.loss.value / math.log(3) - 1) < 0.10
    assert found.loss.verdict == "as expected"
    assert "ln 3 = 1.10 for 3 classes" in found.loss.reason
    assert found.flagged("vanishing") == [] and found.problems == []
    assert found.batch_size == 32  # the settings' batch size
    relu = found.node("relu1")
    assert 0.0 <= relu.dead < 0.5 and relu.saturated is None and relu.grad_norm is None
    assert found.node("hidden1").grad_norm > 0
    # the same weights as a run's first step: the inputs' statistics are the data's
    assert [n.node for n in found.nodes] == ["points", "hidden1", "relu1", "hidden2", "relu2", "logits"]
    data = json.loads(json.dumps(found.to_json()))
    assert data["loss"]["verdict"] == "as expected" and data["nodes"][1]["node"] == "hidden1"
    text = found.render()
    assert "hidden1" in text and "Grad norm" in text and "ln 3 = 1.10" in text


def test_a_cnn_gives_sane_numbers():
    found = preview(example("lenet5_digits"), EXAMPLES, batch_size=64)
    assert found.batch_size == 64
    assert abs(found.loss.value / math.log(10) - 1) < 0.10
    for n in found.nodes:
        assert math.isfinite(n.mean) and n.std >= 0
        assert n.dead is None or 0 <= n.dead < 0.5
    convs = [found.node(k).grad_norm for k in ("conv1", "conv2")]
    assert all(1e-4 < g < 10 for g in convs)
    assert found.problems == []


def test_preview_repeats_exactly_and_leaves_the_callers_random_state():
    graph = example("spiral_mlp")
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    first = preview(graph, EXAMPLES)
    assert torch.equal(torch.rand(3), expected)
    second = preview(graph, EXAMPLES)
    assert first.to_json() == second.to_json()


def _scaled(graph: Graph, factor: float):
    """The graph's data set with its inputs multiplied by ``factor``."""
    data = load_dataset(graph.training["dataset"], EXAMPLES)
    data.train = Split(tuple(t * factor for t in data.train.inputs), data.train.targets)
    return data


def test_inputs_far_too_large_read_as_overconfident_outputs_and_exploding_gradients():
    graph = example("spiral_mlp")
    found = preview(graph, EXAMPLES, _scaled(graph, 1000.0))
    assert found.loss.value > 10 * math.log(3)
    assert "overconfident" in found.loss.verdict
    codes = {(p.code, p.node) for p in found.problems}
    assert ("loss-at-init", "logits") in codes
    exploding = [p for p in found.problems if p.code == "exploding-gradient"]
    assert {p.node for p in exploding} == set(found.flagged("exploding")) != set()
    assert all(found.node(p.node).grad_norm > 1e2 for p in exploding)
    exploding = exploding[0]
    assert [e.path for fix in exploding.fixes for e in fix.edits] == [("grad_clip",)]
    assert "mean 0 and std 1" in next(p for p in found.problems if p.code == "loss-at-init").message


def test_tanh_fed_large_inputs_saturates():
    graph = example("xor_mlp")
    found = preview(graph, EXAMPLES, _scaled(graph, 100.0))
    tanh = found.node("tanh")
    assert tanh.saturated > 0.5 and "saturated" in tanh.flags
    problem = next(p for p in found.problems if p.code == "saturated-units")
    assert problem.node == "tanh" and f"{tanh.saturated:.0%}" in problem.message
    assert preview(graph, EXAMPLES).node("tanh").saturated < 0.5  # the file's own inputs do not


def test_dead_and_saturated_shares_count_units_and_bounds():
    graph = Graph()
    graph.add_node("Input", {"shape": [4]}, id="x")
    graph.add_node("ReLU", id="relu")
    graph.add_node("Sigmoid", id="sig")
    graph.connect("x", "out", "relu", "in")
    graph.connect("relu", "out", "sig", "in")
    relu = torch.tensor([[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]])  # units 0, 1 dead
    sig = torch.tensor([[0.001, 0.5, 0.99, 0.97]])  # 0.001 and 0.99 lie within 2% of a bound
    rows = {r.node: r for r in node_stats(graph, {"relu": relu, "sig": sig}, {})}
    assert rows["relu"].dead == pytest.approx(0.5) and "dead" not in rows["relu"].flags
    assert rows["sig"].saturated == pytest.approx(0.5) and rows["sig"].dead is None
    relu[:, 2] = 0.0
    rows = {r.node: r for r in node_stats(graph, {"relu": relu, "sig": sig}, {})}
    assert rows["relu"].dead == pytest.approx(0.75) and rows["relu"].flags == ("dead",)


def test_gradient_flags_agree_with_the_live_view():
    from studio.ui.training import colors

    assert (doctor_preview.VANISHING, doctor_preview.EXPLODING) == (colors.VANISHING, colors.EXPLODING)


def test_a_graph_without_data_is_refused_by_the_runs_own_checks():
    graph = example("spiral_mlp")
    graph.set_training({k: v for k, v in graph.training.items() if k != "dataset"})
    with pytest.raises(TrainingSetupError, match="no data set"):
        preview(graph, EXAMPLES)


def test_a_forecast_expects_the_mean_squared_target_and_warns_only_when_far_off():
    from studio.doctor.run_setup import isolated, prepare

    graph = example("gru_sequence")
    found = preview(graph, EXAMPLES)
    with isolated():
        targets = prepare(graph, EXAMPLES).batch(found.batch_size).targets
    assert found.loss.name == "mse"
    assert found.loss.expected == pytest.approx(float((targets ** 2).mean()), rel=1e-5)
    assert "what predicting 0 scores" in found.loss.reason
    assert 0.5 < found.loss.ratio < 0.9  # below by more than 10%: said, but a fresh GRU's spread explains it
    assert not found.loss.as_expected and not found.loss.worrying
    assert [p for p in found.problems if p.code == "loss-at-init"] == []
