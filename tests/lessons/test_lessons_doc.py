"""docs/lessons.md lists every lesson, generated from the lesson files, and shows its views."""

from __future__ import annotations

import re

from doc_generators import DOCS
from doc_generators import load_generator

from studio.lessons import lessons


def test_the_lessons_page_is_current_and_its_pictures_exist():
    page = (DOCS / "lessons.md").read_text(encoding="utf-8")
    assert page == load_generator("gen_lessons").render(page), (
        "the list in docs/lessons.md is stale: run .venv/bin/python docs/gen_lessons.py")
    for lesson in lessons():
        assert f"`studio/lessons/data/{lesson.id}.json`" in page
    for image in re.findall(r"\]\((images/[^)]+)\)", page):
        assert (DOCS / image).is_file(), image
