"""A training tab that draws one chosen node's part of each probe (attention maps, embeddings).

A node chooser (and the tab's own further choosers) with the probe's step beside them, a hint
until a run brings something to show, a plot built when the tab is first shown, and the
probes fed shown in turn (``FramePacer``). Subclasses say which probes hold their part
(``holds``), build their plot (``build_plot``) and draw (``draw``).
"""

from __future__ import annotations

from typing import Iterable, Sequence

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio.training.events import ProbeEvent

from .draw_budget import MeteredPlotWidget
from .pacing import FramePacer
from .steady import SteadyLabel


class NodeTab(QWidget):
    HINT = ""  # before a run
    CAPTION = ""  # under the plot, once it draws

    def __init__(self, name: str, node_tip: str, extra: Sequence[QWidget] = (), parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name
        self.node_box = QComboBox()
        self.node_box.setObjectName(f"{name}_node")
        self.node_box.setToolTip(node_tip)
        self.choosers: tuple[QWidget, ...] = (self.node_box, *extra)
        # the step shown, beside the choosers: a plot title changed on every frame cost a third of its paint.
        # Its width is what the choosers leave (a narrow window cuts its end, the tooltip keeps it all).
        self.step_label = SteadyLabel(lines=1)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Node"))
        controls.addWidget(self.node_box, 1)
        for widget in extra:
            controls.addWidget(widget, 1 if isinstance(widget, QComboBox) else 0)
        controls.addWidget(self.step_label, 2)
        self.caption = QLabel(self.HINT)
        self.caption.setWordWrap(True)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.addLayout(controls)
        self.box.addWidget(self.caption)
        # Made when the tab is first shown (``_ensure_plot``): most graphs never show it.
        self.plot_widget: MeteredPlotWidget | None = None
        self.probe: ProbeEvent | None = None  # the probe shown (or to show once the plot is built)
        self.redraws = 0
        self.pacer = FramePacer(self._take, self)
        self.node_box.currentIndexChanged.connect(self.redraw)
        self._set_ready(False)

    # ---- what a subclass says ------------------------------------------------------
    def holds(self, probe: ProbeEvent) -> bool:
        raise NotImplementedError

    def build_plot(self) -> None:
        """Make ``self.plot_widget`` and what draws in it."""
        raise NotImplementedError

    def draw(self, probe: ProbeEvent) -> bool:
        """Draw the chosen node's part of ``probe``; False when there is nothing to draw."""
        raise NotImplementedError

    def forget(self) -> None:
        """What the last drawing kept, dropped (a new run)."""

    def pace(self, frames: list[ProbeEvent]) -> list[ProbeEvent]:
        """The frames to show in turn, of those just fed (all of them by default)."""
        return frames

    # ---- building ------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._ensure_plot()
        super().showEvent(event)
        self.redraw()

    def _ensure_plot(self) -> None:
        if self.plot_widget is not None:
            return
        self.build_plot()
        self.plot_widget.setObjectName(f"{self.name}_plot")
        self.box.insertWidget(1, self.plot_widget, 1)
        self.plot_widget.setVisible(self.probe is not None)  # before a run: the hint alone
        self.caption.setText(self.CAPTION if self.probe is not None else self.HINT)

    def _set_ready(self, ready: bool) -> None:
        """The choosers and the plot once there is something to show; before that, the hint alone."""
        for widget in self.choosers:
            widget.setEnabled(ready)
        if self.plot_widget is not None:
            self.plot_widget.setVisible(ready)

    # ---- feeding -------------------------------------------------------------------
    def clear(self) -> None:
        """No run yet: no nodes, nothing drawn, the hint."""
        self.pacer.clear()
        self.probe = None
        self.redraws = 0
        self.node_box.clear()
        self.forget()
        self.caption.setText(self.HINT)
        self._set_ready(False)
        if self.plot_widget is not None:
            self.plot_widget.getPlotItem().setTitle("")
        self.step_label.setText("")

    def feed(self, events: Iterable[object]) -> None:
        frames = [ev for ev in events if isinstance(ev, ProbeEvent) and self.holds(ev)]
        if not frames:
            return
        if self.isVisible():
            self.pacer.push(self.pace(frames))
        else:  # drawn when the tab is shown
            self.pacer.clear()
            self.probe = frames[-1]

    def catch_up(self) -> None:
        """Show the newest probe fed now, skipping any still waiting their turn."""
        self.pacer.finish()

    def _take(self, probe: ProbeEvent) -> None:
        self.probe = probe
        self.redraw()

    def choose_node(self, nodes: list[str]) -> str:
        """The chooser offers ``nodes``, keeping the one chosen where it is still there."""
        if [self.node_box.itemText(i) for i in range(self.node_box.count())] != nodes:
            keep = self.node_box.currentText()
            self.node_box.blockSignals(True)
            self.node_box.clear()
            self.node_box.addItems(nodes)
            self.node_box.setCurrentIndex(nodes.index(keep) if keep in nodes else 0)
            self.node_box.blockSignals(False)
        return self.node_box.currentText()

    def redraw(self, *_args) -> None:
        probe = self.probe
        if probe is None or self.plot_widget is None or not self.isVisible() or not self.draw(probe):
            return
        self.caption.setText(self.CAPTION)
        if not self.plot_widget.isVisible():
            self._set_ready(True)
        self.redraws += 1
