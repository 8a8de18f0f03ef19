"""Every lesson file reads, opens its example, and each experiment applies to that example as one
step that leaves a graph ready to train, and undoes back exactly."""

from __future__ import annotations

import json

import pytest

from studio import files
from studio.graph.fixes import apply_fix
from studio.lessons import LESSONS_DIR, LessonError, lessons, load_lesson
from studio.training import preflight

ALL = lessons()


def test_the_curriculum_is_there_in_order():
    ids = [lesson.id for lesson in ALL]
    assert {"overfitting", "cnn_feature_maps", "rnn_memory", "gan"} <= set(ids)
    orders = [lesson.order for lesson in ALL]
    assert orders == sorted(orders) and len(set(ids)) == len(ids)
    for lesson in ALL:
        assert lesson.example_path.is_file(), lesson.id
        assert lesson.experiments, lesson.id
        for texts in [lesson.title, lesson.watch] + [e.title for e in lesson.experiments]:
            assert texts["en"].strip() and texts.get("zh", "").strip(), lesson.id


@pytest.mark.parametrize("lesson", ALL, ids=[lesson.id for lesson in ALL])
def test_each_experiment_applies_as_one_step_and_leaves_a_trainable_graph(lesson):
    graph = files.load(lesson.example_path)
    before = graph.snapshot()
    for experiment in lesson.experiments:
        journal = apply_fix(graph, experiment.fix)
        _config, _data, problems = preflight.check(graph, lesson.example_path.parent)
        errors = [p for p in problems if not getattr(p, "is_warning", False)]
        assert errors == [], f"{lesson.id}: {experiment.text('title')}: {errors}"
        journal.undo(graph)
        assert graph.snapshot() == before, f"{lesson.id}: {experiment.text('title')} did not undo exactly"


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("watch"), "missing 'watch'"),
    (lambda d: d.update(colour="red"), "unknown key 'colour'"),
    (lambda d: d["experiments"][0]["edits"].append({"explode": "x"}), "experiments[0].edits[2]: unknown edit"),
    (lambda d: d["title"].update(fr="Le taux"), "'fr' is not one of the languages"),
    (lambda d: d["experiments"][0].update(train="yes"), "experiments[0].train must be true or false"),
])
def test_a_broken_lesson_file_is_refused_naming_the_place(tmp_path, change, message):
    doc = json.loads((LESSONS_DIR / "overfitting.json").read_text(encoding="utf-8"))
    change(doc)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(LessonError, match="broken.json") as info:
        load_lesson(path)
    assert message in str(info.value)
    path.write_text("{not json")
    with pytest.raises(LessonError, match="broken.json"):
        load_lesson(path)
