"""The background run: batched events at <= 30 lists a second, in order, and failures contained."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QThread

from studio.training import Trainer
from studio.training.events import EndEvent, EpochEvent, StepsEvent
from studio.ui.training.worker import TrainingSession


def test_events_arrive_in_order_batched_at_most_20_a_second(qtbot, spiral):
    graph = spiral(epochs=40)
    graph.set_training({**graph.training, "report_every": 1})  # one event per step: a flood
    ui_thread = QThread.currentThread()
    batches: list[tuple[float, list]] = []
    trainer_threads = []

    def make(callback):
        trainer_threads.append(threading.current_thread())
        return Trainer(graph, callback=callback)

    session = TrainingSession(make)
    session.events.connect(lambda batch: batches.append((time.monotonic(), batch)))
    session.events.connect(lambda _b: trainer_threads.append(QThread.currentThread() is ui_thread))
    session.start()
    qtbot.waitUntil(lambda: not session.running, timeout=60_000)

    assert trainer_threads[0] is not threading.main_thread()  # trained on the background thread
    assert all(trainer_threads[1:])  # and every batch was handled on the UI thread
    events = [ev for _, batch in batches for ev in batch]
    steps = [ev for ev in events if isinstance(ev, StepsEvent)]
    assert len(steps) == 40 * 9  # every step reported, none lost
    assert [s.first_step for s in steps] == list(range(40 * 9))
    assert isinstance(events[-1], EndEvent) and events[-1].status == "finished"
    assert len(batches) < len(events) / 3  # batched, not one signal per event
    times = [t for t, _ in batches]
    span = times[-1] - times[0]
    assert len(batches) <= 20 * span + 3


def test_exception_while_building_the_trainer_is_reported(qtbot):
    def make(callback):
        raise ValueError("training.dataset.path: no such file")

    session = TrainingSession(make)
    failures = []
    session.failed.connect(failures.append)
    session.start()
    qtbot.waitUntil(lambda: not session.running, timeout=10_000)
    assert failures and failures[0].startswith("ValueError: training.dataset.path: no such file")
    assert "test_worker.py" in failures[0]  # where it was raised


def test_stop_pressed_before_the_trainer_exists_still_counts(qtbot, spiral):
    graph = spiral(epochs=200)
    ready = threading.Event()

    def make(callback):
        ready.wait(5)  # the person presses Stop while the network compiles
        return Trainer(graph, callback=callback)

    session = TrainingSession(make)
    ends = []
    session.events.connect(lambda batch: ends.extend(ev for ev in batch if isinstance(ev, EndEvent)))
    session.start()
    session.stop()
    ready.set()
    qtbot.waitUntil(lambda: not session.running, timeout=20_000)
    assert ends[-1].status == "stopped" and session.worker.trainer.step == 0


def test_events_just_before_a_quiet_spell_are_not_held_back(qtbot, spiral):
    graph = spiral(epochs=50)
    trainers = []

    def make(callback):
        def pause_after_first_epoch(event):
            callback(event)
            if isinstance(event, EpochEvent) and event.epoch == 1:
                trainers[0].pause()  # the person pauses: no more events for a while

        trainers.append(Trainer(graph, callback=pause_after_first_epoch))
        return trainers[0]

    session = TrainingSession(make)
    epochs = []
    session.events.connect(lambda batch: epochs.extend(ev for ev in batch if isinstance(ev, EpochEvent)))
    session.start()
    qtbot.waitUntil(lambda: bool(trainers) and trainers[0].is_paused, timeout=20_000)
    qtbot.waitUntil(lambda: len(epochs) == 1, timeout=2_000)  # swept up while the trainer waits
    session.stop()
    qtbot.waitUntil(lambda: not session.running, timeout=10_000)


def test_wait_returns_when_a_stopped_run_ends_without_the_event_loop(qtbot, spiral):
    session = TrainingSession(lambda callback: Trainer(spiral(epochs=500), callback=callback))
    session.start()
    qtbot.waitUntil(lambda: session.worker.trainer is not None and session.worker.trainer.step > 0, timeout=20_000)
    session.stop()
    assert session.wait(5_000)  # the UI thread blocks here (closing the window): no deadlock
    qtbot.waitUntil(lambda: not session.running, timeout=5_000)
