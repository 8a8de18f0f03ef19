"""Reading lesson files (``data/<id>.json``) into ``Lesson`` records.

A lesson file is checked as it is read: an unknown key, a missing text or an edit
of an unknown kind is refused naming the file and the place in it, so a broken
lesson never reaches the panel half-read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from studio.graph.fixes import Bypass, Fix, InsertOnWire, Replace, SetParams, SetTraining, pairs

LESSONS_DIR = Path(__file__).resolve().parent / "data"
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
LANGUAGES = ("en", "zh")
LESSON_KEYS = {"order", "title", "example", "view", "watch", "experiments"}
EXPERIMENT_KEYS = {"title", "edits", "expect", "train"}


class LessonError(ValueError):
    """A lesson file that cannot be used, with the file and the place in it."""


@dataclass(frozen=True)
class Experiment:
    title: dict[str, str]
    fix: Fix  # the edits, applied as one step
    expect: dict[str, str] = field(default_factory=dict)  # what the learner should see afterwards
    train: bool = True  # press Train once the edits are in

    def text(self, key: str, language: str = "en") -> str:
        return _in(getattr(self, key), language)


@dataclass(frozen=True)
class Lesson:
    id: str
    order: int
    title: dict[str, str]
    example: str  # a file in examples/
    view: str  # the training dock tab to bring forward
    watch: dict[str, str]
    experiments: tuple[Experiment, ...] = ()

    @property
    def example_path(self) -> Path:
        return EXAMPLES_DIR / self.example

    def text(self, key: str, language: str = "en") -> str:
        return _in(getattr(self, key), language)


def _in(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or texts["en"]


def lessons(directory: Path | None = None) -> list[Lesson]:
    """Every lesson in ``directory`` (the package's own by default), in curriculum order."""
    if directory is None:
        return list(_packaged())
    return sorted((load_lesson(p) for p in directory.glob("*.json")), key=lambda l: (l.order, l.id))


@lru_cache(maxsize=1)
def _packaged() -> tuple[Lesson, ...]:
    return tuple(lessons(LESSONS_DIR))


def load_lesson(path: Path) -> Lesson:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LessonError(f"{path}: {exc}") from exc
    where = Path(path).name
    obj = _object(raw, where, LESSON_KEYS, required=LESSON_KEYS)
    order = obj["order"]
    if not isinstance(order, int) or isinstance(order, bool):
        raise LessonError(f"{where}: order must be a whole number, not {order!r}")
    example, view = (_string(obj[k], f"{where}: {k}") for k in ("example", "view"))
    experiments = obj["experiments"]
    if not isinstance(experiments, list):
        raise LessonError(f"{where}: experiments must be a list")
    return Lesson(Path(path).stem, order, _texts(obj["title"], f"{where}: title"), example, view,
                  _texts(obj["watch"], f"{where}: watch"),
                  tuple(_experiment(e, f"{where}: experiments[{i}]") for i, e in enumerate(experiments)))


def _experiment(raw: Any, where: str) -> Experiment:
    obj = _object(raw, where, EXPERIMENT_KEYS, required={"title", "edits"})
    title = _texts(obj["title"], f"{where}.title")
    edits = obj["edits"]
    if not isinstance(edits, list) or not edits:
        raise LessonError(f"{where}.edits: a list of at least one edit")
    train = obj.get("train", True)
    if not isinstance(train, bool):
        raise LessonError(f"{where}.train must be true or false")
    fix = Fix(title["en"], tuple(_edit(e, f"{where}.edits[{i}]") for i, e in enumerate(edits)))
    expect = _texts(obj["expect"], f"{where}.expect") if "expect" in obj else {}
    return Experiment(title, fix, expect, train)


def _edit(raw: Any, where: str):
    if not isinstance(raw, dict):
        raise LessonError(f"{where}: an edit is an object")
    if "set_training" in raw:
        obj = _object(raw, where, {"set_training", "value"}, required={"set_training", "value"})
        path = obj["set_training"]
        if not (isinstance(path, list) and path and all(isinstance(k, str) and k for k in path)):
            raise LessonError(f"{where}.set_training: a list of keys, e.g. [\"optimizer\", \"lr\"]")
        value = obj["value"]
        return SetTraining(tuple(path), value)
    if "set_params" in raw:
        obj = _object(raw, where, {"set_params", "changes"}, required={"set_params", "changes"})
        return SetParams(_string(obj["set_params"], f"{where}.set_params"), pairs(_dict(obj["changes"], where)))
    if "replace" in raw:
        obj = _object(raw, where, {"replace", "block", "params"}, required={"replace", "block"})
        return Replace(_string(obj["replace"], f"{where}.replace"), _string(obj["block"], f"{where}.block"),
                       pairs(_dict(obj.get("params", {}), where)))
    if "insert" in raw:
        obj = _object(raw, where, {"insert", "params", "between", "ports"}, required={"insert", "between"})
        between = obj["between"]
        if not (isinstance(between, list) and len(between) == 2 and all(isinstance(n, str) for n in between)):
            raise LessonError(f"{where}.between: two node ids, [\"from\", \"to\"]")
        ports = obj.get("ports", ["out", "in"])
        if not (isinstance(ports, list) and len(ports) == 2 and all(isinstance(p, str) for p in ports)):
            raise LessonError(f"{where}.ports: two port names, [\"out\", \"in\"]")
        return InsertOnWire(_string(obj["insert"], f"{where}.insert"), pairs(_dict(obj.get("params", {}), where)),
                            between[0], ports[0], between[1], ports[1])
    if "remove" in raw:
        obj = _object(raw, where, {"remove"}, required={"remove"})
        return Bypass(_string(obj["remove"], f"{where}.remove"))
    raise LessonError(f"{where}: unknown edit; one of set_training, set_params, replace, insert, remove")


def _object(raw: Any, where: str, allowed: set[str], required: set[str]) -> dict:
    if not isinstance(raw, dict):
        raise LessonError(f"{where}: expected an object")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise LessonError(f"{where}: unknown key {unknown[0]!r}")
    missing = sorted(required - set(raw))
    if missing:
        raise LessonError(f"{where}: missing {missing[0]!r}")
    return raw


def _texts(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not isinstance(raw.get("en"), str) or not raw["en"].strip():
        raise LessonError(f"{where}: an object with an English text, {{\"en\": \"...\", \"zh\": \"...\"}}")
    bad = sorted(k for k, v in raw.items() if k not in LANGUAGES or not isinstance(v, str))
    if bad:
        raise LessonError(f"{where}: {bad[0]!r} is not one of the languages {', '.join(LANGUAGES)} with a text")
    return dict(raw)


def _string(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise LessonError(f"{where}: expected a name")
    return raw


def _dict(raw: Any, where: str) -> dict:
    if not isinstance(raw, dict):
        raise LessonError(f"{where}: parameters are an object")
    return raw
