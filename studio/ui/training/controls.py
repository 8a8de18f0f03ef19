"""Train, Check, Pause/Resume, Stop and Reset weights, the two progress bars and the run's numbers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget,
)

from studio.session.progress import RunProgress, format_duration
from .steady import SteadyLabel


class ControlBar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.train_button = QPushButton("▶ Train")
        self.train_button.setObjectName("train")
        self.train_button.setToolTip("Check the graph and the data, then train (continues from the current weights)")
        self.check_button = QPushButton("Check")
        self.check_button.setObjectName("check")
        self.check_button.setToolTip("Look at the network before its first step: the loss it starts from, and "
                                     "each layer's activations and gradients on one batch (nothing is trained)")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pause")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stop")
        self.stop_button.setToolTip("Stop after the current step")
        self.reset_button = QPushButton("↺ Reset weights")
        self.reset_button.setObjectName("reset")
        self.reset_button.setToolTip("Forget the trained weights: the next run starts from a fresh initialisation")
        buttons = QHBoxLayout()
        for b in (self.train_button, self.check_button, self.pause_button, self.stop_button, self.reset_button):
            buttons.addWidget(b)

        self.epoch_bar = QProgressBar()
        self.epoch_bar.setObjectName("epoch_progress")
        self.epoch_bar.setRange(0, 1000)
        self.run_bar = QProgressBar()
        self.run_bar.setObjectName("run_progress")
        self.run_bar.setRange(0, 1000)
        self.speed_label = SteadyLabel("— steps/s", template="888,888 steps/s")
        self.time_label = SteadyLabel("elapsed — · remaining —", template="elapsed 88:88:88 · remaining 88:88:88")
        self.device_label = QLabel("device —")
        bars = QGridLayout()
        bars.addWidget(QLabel("This epoch"), 0, 0)
        bars.addWidget(self.epoch_bar, 0, 1)
        bars.addWidget(QLabel("Whole run"), 1, 0)
        bars.addWidget(self.run_bar, 1, 1)
        numbers = QHBoxLayout()
        numbers.addWidget(self.speed_label)
        numbers.addStretch(1)
        numbers.addWidget(self.time_label)
        numbers.addStretch(1)
        numbers.addWidget(self.device_label)

        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(buttons)
        box.addLayout(bars)
        box.addLayout(numbers)
        # Clicking a button leaves the keyboard where it was (the canvas): a person who then
        # presses Tab or types means the canvas, not the next field of this dock. Tab still
        # reaches the buttons.
        for b in (self.train_button, self.check_button, self.pause_button, self.stop_button, self.reset_button):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.checking = False
        self.reset_progress()
        self.set_running(False)

    def reset_progress(self) -> None:
        """No run to show: empty bars and dashes (a new document, before its first run)."""
        self.epoch_bar.setValue(0)
        self.epoch_bar.setFormat("epoch —")
        self.run_bar.setValue(0)
        self.run_bar.setFormat("run —")
        self.speed_label.setText("— steps/s")
        self.time_label.setText("elapsed — · remaining —")

    def set_running(self, running: bool, paused: bool = False) -> None:
        self.train_button.setEnabled(not running and not self.checking)
        self.check_button.setEnabled(not running and not self.checking)
        self.reset_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(running and paused)
        self.pause_button.blockSignals(False)
        self.pause_button.setText("Resume" if running and paused else "Pause")

    def set_checking(self, checking: bool) -> None:
        """A doctor's check runs: neither Train nor another Check until it ends."""
        self.checking = checking
        running = self.pause_button.isEnabled()
        self.train_button.setEnabled(not running and not checking)
        self.check_button.setEnabled(not running and not checking)

    def show_progress(self, p: RunProgress) -> None:
        self.epoch_bar.setValue(int(1000 * p.epoch_fraction()))
        shown_epoch = min(p.epoch, p.epochs)
        self.epoch_bar.setFormat(f"epoch {shown_epoch} · step {p.step_in_epoch}/{p.steps_per_epoch or '—'}")
        self.run_bar.setValue(int(1000 * p.run_fraction()))
        self.run_bar.setFormat(f"{p.epochs_done}/{p.epochs} epochs · {p.run_fraction():.0%}")
        rate = p.steps_per_second()
        self.speed_label.setText(f"{rate:,.0f} steps/s" if rate else "— steps/s")
        self.time_label.setText(f"elapsed {format_duration(p.active_seconds())} · "
                                f"remaining {format_duration(p.remaining_seconds())}")
