"""The doctor's list is worked out again only when what it reads moves (the document, the
parameter total, the data set): opening or leaving a group shows the same list without running
``standing`` again. The training tabs that follow the graph's blocks look at a grouping's hundreds
of events without going over the graph for each. Counted, not timed."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QWidget

import studio.ui.main_window as main_window
from studio.graph import Graph
from studio.ui.training.block_tabs import BlockTabs

from graph_helpers import linear_chain


def chain(n: int) -> Graph:
    g = linear_chain(n)
    g.add_node("Sigmoid", {}, id="gate")  # a problem for the list: a node nothing feeds
    return g


def settle(window, qtbot) -> None:
    window.counter.compute_now()
    qtbot.waitUntil(lambda: not window._status_timer.isActive(), timeout=5000)


def test_opening_and_leaving_a_group_do_not_run_the_doctor_again(window, qtbot, monkeypatch):
    runs = []
    original = main_window.standing
    monkeypatch.setattr(main_window, "standing", lambda *a, **k: runs.append(1) or original(*a, **k))
    window.set_document(chain(6), None)
    settle(window, qtbot)
    window.scene.select_nodes([f"{k}{i}" for i in range(1, 4) for k in ("fc", "act")])
    gid = window.group_selection()
    settle(window, qtbot)
    assert runs  # the grouping was an edit: the list is worked out for it
    shown = (window.status_label.text(), list(window.problems.problems), window.status_label.toolTip())
    assert window.problems.problems and "gate" in {p.node for p in window.problems.problems}
    runs.clear()
    assert window.open_group(gid)
    settle(window, qtbot)
    window._status_timer.start()  # what a parameter count arriving does: nothing moved, nothing run
    settle(window, qtbot)
    assert window.leave_group()
    settle(window, qtbot)
    assert runs == []
    assert (window.status_label.text(), list(window.problems.problems), window.status_label.toolTip()) == shown
    window.editor.undo_stack.undo()  # an edit again: run, and the list follows it
    settle(window, qtbot)
    assert runs == [1] and "6 nodes" not in window.status_label.text() and "14 nodes" in window.status_label.text()


def test_the_block_tabs_go_over_the_graph_only_when_a_block_comes_or_goes(qtbot, monkeypatch):
    from studio.graph.groups import group_nodes

    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    page = QWidget()
    tabs.addTab(page, "Embeddings")
    g = chain(30)
    watcher = BlockTabs(tabs, g, {page: frozenset({"Embedding"})})
    passes = []
    update = BlockTabs.update
    monkeypatch.setattr(BlockTabs, "update", lambda self: passes.append(1) or update(self))
    journal, _gid = group_nodes(g, [f"{k}{i}" for i in range(5, 25) for k in ("fc", "act")], "Stretch")
    journal.undo(g)
    # the new block's node came and went (its definition too): a handful, not one per event
    assert len(passes) <= 6
    assert not tabs.isTabVisible(0)
    g.add_node("Embedding", {"num_embeddings": 10, "embedding_dim": 4}, id="words")
    assert tabs.isTabVisible(0)
    g.add_node("Embedding", {"num_embeddings": 10, "embedding_dim": 4}, id="more")
    g.remove_node("words")
    assert tabs.isTabVisible(0)  # one still there
    g.remove_node("more")
    assert not tabs.isTabVisible(0)
    assert watcher.graph is g
