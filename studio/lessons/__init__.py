"""Lessons: the curriculum walked through the examples, as data.

Each lesson names its example, the view to watch, three sentences on what to watch,
and experiments: edits applied as one undoable step, then usually a new run, so the
run history shows the network before and after.
"""

from .catalog import LESSONS_DIR, Experiment, Lesson, LessonError, load_lesson, lessons

__all__ = ["LESSONS_DIR", "Experiment", "Lesson", "LessonError", "lessons", "load_lesson"]
