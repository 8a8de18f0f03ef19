"""pause, resume and stop from another thread, honoured between steps."""

import threading
import time

from studio.training import StepsEvent, Trainer

from training_graphs import settings

WAIT = 20  # seconds a handshake may take on a loaded machine before the test fails


def handshake_at(step: int):
    """A callback that holds the training thread at ``step`` until the test lets it go."""
    reached, release = threading.Event(), threading.Event()

    def callback(event):
        if isinstance(event, StepsEvent) and event.first_step + len(event.losses) == step:
            reached.set()
            assert release.wait(WAIT)

    return callback, reached, release


def start(trainer):
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("result", trainer.run()))
    thread.start()
    return thread, out


def test_stop_from_another_thread_ends_before_the_next_step(spiral_graph):
    callback, reached, release = handshake_at(5)
    trainer = Trainer(spiral_graph, config=settings(epochs=50, report_every=1), callback=callback)
    thread, out = start(trainer)
    assert reached.wait(WAIT)
    trainer.stop()
    release.set()
    thread.join(WAIT)
    result = out["result"]
    assert result.status == "stopped"
    assert result.steps == 5 and len(result.losses) == 5  # not one step more
    assert result.message == "stopped after step 5, with 0 of 50 epochs complete"
    assert trainer.state == "stopped" and not trainer.is_running


def test_stop_while_running_freely(spiral_graph):
    trainer = Trainer(spiral_graph, config=settings(epochs=100000))
    thread, out = start(trainer)
    deadline = time.monotonic() + WAIT
    while trainer.step < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    trainer.stop()
    thread.join(WAIT)
    assert not thread.is_alive()
    assert out["result"].status == "stopped" and 20 <= out["result"].steps < 100000 * 8


def test_pause_holds_and_resume_continues(spiral_graph):
    callback, reached, release = handshake_at(6)
    trainer = Trainer(spiral_graph, config=settings(epochs=2, report_every=1), callback=callback)
    began = time.perf_counter()
    thread, out = start(trainer)
    assert reached.wait(WAIT)
    trainer.pause()
    release.set()
    deadline = time.monotonic() + WAIT
    while trainer.state != "paused" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert trainer.state == "paused" and trainer.is_paused and trainer.is_running
    time.sleep(0.5)
    assert trainer.step == 6  # nothing moves while paused
    trainer.resume()
    thread.join(WAIT)
    took = time.perf_counter() - began
    result = out["result"]
    assert result.status == "finished" and result.steps == 16
    assert result.history[0].seconds <= took - 0.5  # time spent paused is not training time


def test_a_paused_run_has_reported_every_step_it_took(spiral_graph):
    events = []
    # Losses are read back every 5 steps; a pause after step 7 must not keep steps 6 and 7 back.
    trainer = Trainer(spiral_graph, config=settings(epochs=50, report_every=5), callback=events.append)
    trainer.prepare()
    real_step = trainer.recipe.step

    def step(i):
        loss = real_step(i)
        if trainer.step == 6:  # the 7th step is under way: pause lands before the 8th
            trainer.pause()
        return loss

    trainer.recipe.step = step
    thread, out = start(trainer)

    def reported():
        return sum(len(e.losses) for e in list(events) if isinstance(e, StepsEvent))

    try:
        deadline = time.monotonic() + 5
        while reported() < 7 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        assert trainer.is_paused and trainer.step == 7 and reported() == 7  # not only the first 5
    finally:
        trainer.stop()  # a failed check must not leave a paused thread behind
        thread.join(WAIT)
    assert out["result"].status == "stopped" and out["result"].steps == 7


def test_stop_ends_a_paused_run(spiral_graph):
    callback, reached, release = handshake_at(3)
    trainer = Trainer(spiral_graph, config=settings(epochs=5, report_every=1), callback=callback)
    thread, out = start(trainer)
    assert reached.wait(WAIT)
    trainer.pause()
    release.set()
    time.sleep(0.2)
    trainer.stop()
    thread.join(WAIT)
    assert out["result"].status == "stopped" and out["result"].steps == 3


def test_a_trainer_runs_once(spiral_graph):
    trainer = Trainer(spiral_graph, config=settings(epochs=1))
    assert trainer.state == "ready"
    assert trainer.run().status == "finished"
    try:
        trainer.run()
    except RuntimeError as exc:
        assert "already run" in str(exc)
    else:
        raise AssertionError("a second run() must be refused")
