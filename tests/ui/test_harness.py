"""The test process itself: a window a test leaves open survives pytest-qt's last paint of it.

pytest-qt holds weak references only and paints once more after the test returns; a pyqtgraph
view then held by nothing but its own reference cycles was collected by a collection that one of
its paint handlers set off, and deleted in the middle of its paint (a segfault in shuffled orders).
``tests/conftest.py`` holds such windows until teardown. Without it, this test ends the run."""

import gc

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget


class HeldByItself(QWidget):
    """A live view's shape: a widget holding a plot, in a reference cycle."""

    def __init__(self) -> None:
        super().__init__()
        self.plot = pg.PlotWidget()
        QVBoxLayout(self).addWidget(self.plot)
        self.itself = self


def test_a_view_held_only_by_its_cycles_is_painted_after_the_test_returns(qtbot):
    view = HeldByItself()
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    # what an allocation in a paint handler may set off, made certain
    view.plot.scene().sigPrepareForPaint.connect(gc.collect)
    view.resize(view.width() + 40, view.height() + 40)  # one more paint is due
    assert view.isVisible()
    # returns with the view held by its own cycle and pytest-qt's weak reference only
