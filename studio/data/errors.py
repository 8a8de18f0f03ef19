"""The one error a data set raises, carrying the place a person must look at."""

from __future__ import annotations


class DataError(ValueError):
    """A data set that cannot be loaded as described.

    ``place`` names where to look: an option (``training.dataset.points``), a
    file and line (``data/iris.csv line 7, column 'sepal_length'``) or a file
    (``photos/cat/3.png``). ``str(error)`` starts with the place.
    """

    def __init__(self, message: str, place: str | None = None):
        self.message = message
        self.place = place
        super().__init__(f"{place}: {message}" if place else message)


class DataOutsideFolder(DataError):
    """A data path the graph file names lies outside the graph's folder and was not granted.

    ``outside`` is the ``studio.files.reach.OutsideFolder`` refusal: the app asks
    the person about ``outside.resolved`` and loads again with a ``Reach`` that
    grants it; ``studio train`` takes ``--allow-outside PATH``.
    """

    def __init__(self, outside, message: str | None = None, place: str | None = None):
        self.outside = outside
        super().__init__(message or str(outside), place or outside.place or None)
