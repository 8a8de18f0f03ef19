"""Overfitting one batch and the learning-rate range test."""

import math
from pathlib import Path

import pytest
import torch

from studio.doctor.sanity import NEAR_ZERO, lr_find, overfit_batch
from studio.files import load, to_document
from studio.graph import Graph
from studio.graph.fixes import apply_fix
from studio.training import Trainer, TrainingConfig
from studio.training.errors import TrainingSetupError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPIRAL_TARGET = 0.95  # examples/check_examples.py: the best epoch's val_acc


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def example(name: str) -> Graph:
    return load(EXAMPLES / f"{name}.json")


def squashed_spiral() -> Graph:
    """spiral_mlp with a Sigmoid after its logits: cross entropy then sees scores in (0, 1), and
    its loss cannot fall below -ln(e / (e + 2)) = 0.55 for 3 classes, whatever the weights."""
    graph = example("spiral_mlp")
    graph.add_node("Sigmoid", id="squash")
    graph.connect("logits", "out", "squash", "in")
    return graph


def test_spiral_mlp_learns_one_batch_by_heart_and_stops_once_it_has():
    graph = example("spiral_mlp")
    before = to_document(graph)
    result = overfit_batch(graph, EXAMPLES)
    assert to_document(graph) == before
    assert result.passed and result.problems == []
    assert result.target == pytest.approx(NEAR_ZERO * math.log(3))
    assert result.first == pytest.approx(math.log(3), rel=0.1)
    assert result.last <= result.target < result.losses[-2]  # it stopped at the first step under the bar
    assert result.steps == len(result.losses) - 1 < 200
    assert result.batch_size == 32
    assert "can learn" in result.verdict
    assert result.to_json()["passed"] is True and "passed" in result.render()


def test_an_output_squashed_before_cross_entropy_cannot_learn_one_batch():
    result = overfit_batch(squashed_spiral(), EXAMPLES)
    assert not result.passed
    assert result.steps == 200 and len(result.losses) == 201
    assert min(result.losses) > 0.5 > 5 * result.target  # bounded far above near zero
    assert "the network or the loss is wrong" in result.verdict
    assert "Sigmoid or Softmax" in result.verdict
    [problem] = result.problems
    assert (problem.code, problem.level, problem.kind) == ("overfit-batch", "warning", "lint")
    assert "FAILED" in result.render()


def test_progress_is_reported_and_stop_ends_the_check():
    seen = []
    result = overfit_batch(example("spiral_mlp"), EXAMPLES, progress=lambda step, loss: seen.append((step, loss)),
                           stop=lambda: len(seen) >= 5)
    assert result.stopped and not result.passed and result.problems == []
    assert [s for s, _ in seen] == [0, 1, 2, 3, 4] and [v for _, v in seen] == result.losses


def test_lr_find_suggestion_trains_spiral_mlp_to_its_target():
    graph = example("spiral_mlp")
    graph.set_training({**graph.training, "optimizer": {"name": "adam", "lr": 1.0}})  # far too large: misses
    before = to_document(graph)
    result = lr_find(graph, EXAMPLES)
    assert to_document(graph) == before
    assert result.optimizer == "adam" and result.current_lr == 1.0
    assert 1e-3 <= result.suggested <= 0.1
    assert float(f"{result.suggested:.2g}") == result.suggested  # two significant figures
    lowest = min(range(3, len(result.smoothed)), key=result.smoothed.__getitem__)
    assert result.suggested == pytest.approx(result.lrs[lowest] / 10, rel=0.06)
    assert result.diverged and result.smoothed[-1] > 4 * result.smoothed[lowest]
    assert len(result.lrs) < 100 and result.lrs == sorted(result.lrs) and result.lrs[0] == 1e-6
    fix = result.fix()
    apply_fix(graph, fix)
    assert graph.training["optimizer"] == {"name": "adam", "lr": result.suggested}
    training = {**graph.training, "probes": False, "threads": 1}
    run = Trainer(graph, None, TrainingConfig.from_dict(training), base_dir=EXAMPLES).run()
    assert run.status == "finished", run.message
    assert run.best.val_acc >= SPIRAL_TARGET
    assert "Suggested learning rate" in result.render() and result.to_json()["suggested"] == result.suggested


def test_lr_find_repeats_exactly_and_leaves_the_callers_random_state():
    graph = example("spiral_mlp")
    torch.manual_seed(7)
    expected = torch.rand(2)
    torch.manual_seed(7)
    seen = []
    first = lr_find(graph, EXAMPLES, start=1e-4, end=1.0, steps=30, progress=lambda k, loss: seen.append(k))
    assert torch.equal(torch.rand(2), expected)
    second = lr_find(graph, EXAMPLES, start=1e-4, end=1.0, steps=30)
    assert first.losses == second.losses and first.suggested == second.suggested
    assert seen == list(range(len(first.losses)))
    assert first.lrs[-1] == pytest.approx(1.0) or first.diverged


def test_lr_find_suggests_nothing_where_no_rate_helps():
    result = lr_find(example("vanishing_gradients"), EXAMPLES, steps=60)
    assert result.suggested is None and "never fell" in result.why
    with pytest.raises(ValueError, match="never fell"):
        result.fix()


def test_a_gan_and_a_bad_range_are_refused():
    with pytest.raises(TrainingSetupError, match="gan"):
        lr_find(example("gan_ring2d"), EXAMPLES)
    with pytest.raises(ValueError, match="start < end"):
        lr_find(example("spiral_mlp"), EXAMPLES, start=1.0, end=0.1)


def test_the_gradient_checks_say_they_do_not_apply_to_the_perceptron_rule():
    for check in (overfit_batch, lr_find):
        with pytest.raises(TrainingSetupError, match="learns without gradients"):
            check(example("perceptron_rule"), EXAMPLES)
