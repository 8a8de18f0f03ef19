"""One preflight: the Trainer runs the same checks as ``studio validate`` and the app, and a
caller that ran them already hands over what they found, so nothing is checked twice."""

from __future__ import annotations

import pytest
from counting import counting
from training_graphs import mlp, settings

from studio.graph import Graph
from studio.training import Trainer, TrainingConfig, TrainingSetupError, preflight
from studio.training.preflight import Checked, check, check_run, checked


def graph_with(**changes) -> Graph:
    graph = mlp(hidden=8)
    graph.set_training(settings(**changes))
    return graph


@pytest.fixture
def counted(monkeypatch):
    """How often the graph is validated and the data set loaded."""
    import studio.data

    return counting(monkeypatch, validate=(preflight, "validate"), load=(studio.data, "load_dataset"))


def test_a_trainer_checks_once(counted, tmp_path):
    trainer = Trainer(graph_with(epochs=1), base_dir=tmp_path)
    assert trainer.run().status == "finished"
    assert counted == {"validate": 1, "load": 1}


def test_a_trainer_handed_the_check_checks_nothing_again(counted, tmp_path):
    graph = graph_with(epochs=2)
    found, problems = check_run(graph, tmp_path)
    assert problems == [] and isinstance(found, Checked)
    assert found.task == "classification" and found.reach.folder == tmp_path.resolve()
    assert isinstance(found.config, TrainingConfig) and found.config.epochs == 2
    assert counted == {"validate": 1, "load": 1}
    trainer = Trainer(graph, checked=found)
    result = trainer.run()
    assert result.status == "finished" and result.epochs == 2
    assert trainer.dataset is found.dataset and trainer.config is found.config
    assert counted == {"validate": 1, "load": 1}


def test_check_run_hands_over_nothing_while_a_problem_stands(tmp_path):
    graph = graph_with()
    graph.add_node("Linear", {"out_features": 4}, id="loose")
    found, problems = check_run(graph, tmp_path)
    assert found is None and [str(p) for p in problems] == ["loose.in: not connected"]


def test_a_checked_run_takes_its_data_and_settings_from_the_check(tmp_path):
    graph = graph_with()
    found = checked(graph, tmp_path)
    with pytest.raises(ValueError, match="from the check"):
        Trainer(graph, found.dataset, checked=found)
    with pytest.raises(ValueError, match="from the check"):
        Trainer(graph, config=settings(), checked=found)


def test_the_run_check_stops_at_the_first_part_that_fails_before_reading_data(counted, tmp_path):
    graph = graph_with(optimizer={"name": "adam", "lr": 0.01})
    graph.add_node("Linear", {"out_features": 4}, id="loose")
    with pytest.raises(TrainingSetupError) as info:
        checked(graph, tmp_path)
    assert str(info.value) == "the graph has problems:\n  loose.in: not connected"
    assert counted["load"] == 0  # a graph that cannot train is said before the data set is read
    # the report lists it with everything else
    assert [str(p) for p in check(graph, tmp_path)[2]] == ["loose.in: not connected"]


def test_settings_given_in_code_are_checked_as_the_files_are(tmp_path):
    config = TrainingConfig.from_dict(settings())
    config.optimizer.lr = -1
    with pytest.raises(TrainingSetupError) as info:
        checked(mlp(hidden=8), tmp_path, config=config)
    assert info.value.problems == ["training.optimizer.lr: must be > 0, got -1"]
    assert str(info.value).startswith("the training settings have problems:")


def test_early_stopping_without_a_validation_part_is_found_by_every_check(tmp_path):
    no_val = {"name": "spiral", "points": 100, "val_fraction": 0.0, "seed": 0}
    graph = graph_with(dataset=no_val, early_stopping={"enabled": True})
    message = ("training.early_stopping: needs a validation part, and 'spiral' holds none "
               "(set its val_fraction above 0)")
    problems = check(graph, tmp_path)[2]
    assert [(p.kind, str(p)) for p in problems] == [("config", message)]
    assert Trainer(graph, base_dir=tmp_path).check() == [message]
