"""The Attention and Embeddings tabs: a learner opens an example, presses Train and sees where a
Transformer's positions look (query x key, one head or their mean) and the word vectors
gathering by kind; the tabs are there only for graphs with such layers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from person import choose, click, node_point, press, type_into

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def tab_index(panel, title: str) -> int:
    bar = panel.views.tabBar()
    return next(i for i in range(bar.count()) if bar.tabText(i) == title)


def open_and_train(qtbot, window, example: str, epochs: int, tab: str):
    """Open ``example``, type its epochs, bring ``tab`` forward with a click, press Train, wait."""
    assert window.open_path(EXAMPLES / example, ask=False)
    panel = window.training_panel
    type_into(panel.config_form.widgets[("epochs",)], str(epochs), then="enter")
    bar = panel.views.tabBar()
    QTest.mouseClick(bar, Qt.LeftButton, Qt.NoModifier, bar.tabRect(tab_index(panel, tab)).center())
    assert panel.views.tabText(panel.views.currentIndex()) == tab
    page = panel.views.currentWidget()  # before a run: the hint, no empty plot, nothing to choose
    assert not page.plot_widget.isVisible() and not page.node_box.isEnabled() and "Train" in page.caption.text()
    ended = []
    panel.runFinished.connect(ended.append)
    QTest.mouseClick(panel.controls.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: bool(ended) and panel.session is None, timeout=20_000)
    assert ended == ["finished"], panel.status_label.text()
    return panel


def test_attention_tab_draws_each_head_of_each_node(qtbot, window):
    panel = window.training_panel
    assert not panel.views.isTabVisible(tab_index(panel, "Attention"))  # a new graph has no attention layer
    panel = open_and_train(qtbot, window, "transformer_sequence.json", 1, "Attention")
    view = panel.attention_view
    last = panel.progress.epochs_done * panel.progress.steps_per_epoch
    qtbot.waitUntil(lambda: view.probe is not None and view.probe.step == last, timeout=3000)
    assert view.plot_widget is not None and view.plot_widget.isVisible()
    assert [view.node_box.itemText(i) for i in range(view.node_box.count())] == ["encoder1", "encoder2"]
    assert view.head_box.count() == 5 and view.head_box.currentText() == "Mean of heads"
    mean = view.matrix.copy()
    assert mean.shape == (8, 8)
    np.testing.assert_allclose(mean.sum(axis=1), 1.0, rtol=1e-4)
    tokens = view.probe.attention["encoder1"].tokens[0]
    assert [label for _, label in view.plot.getAxis("bottom")._tickLevels[0]] == tokens  # the sample's tokens
    assert view.step_label.text().startswith(f"step {last} (epoch ")
    # a head with the keyboard, then the other node: a different map each time
    choose(view.head_box, "Head 2")
    head2 = view.matrix.copy()
    assert not np.allclose(head2, mean) and "head 2" in view.plot.titleLabel.text
    choose(view.node_box, "encoder2")
    assert not np.allclose(view.matrix, head2) and view.plot.titleLabel.text.startswith("encoder2, head 2")
    # the second sample, with the spin box's arrow key
    before = view.matrix.copy()
    press(view.sample_box, Qt.Key_Up)
    assert view.sample_box.value() == 2 and not np.allclose(view.matrix, before)


def test_embeddings_tab_labels_the_words_and_follows_the_graph(qtbot, window):
    panel = open_and_train(qtbot, window, "word_embeddings.json", 2, "Embeddings")
    assert not panel.views.isTabVisible(tab_index(panel, "Attention"))
    view = panel.embedding_view
    last = panel.progress.epochs_done * panel.progress.steps_per_epoch
    qtbot.waitUntil(lambda: view.probe is not None and view.probe.step == last, timeout=3000)
    assert view.points.shape == (71, 2) and view.node_box.currentText() == "embedding"
    texts = view.cloud.texts
    assert texts[:4] == ["<pad>", "cat", "dog", "mouse"] and len(texts) == 71
    np.testing.assert_array_equal(view.cloud.points, view.points)  # each text drawn at its point
    view.plot_widget.grab()  # painted: every word written once, those on one spot in one label
    drawn = [word for _, _, line in view.cloud.lines for word in line.split(", ")]
    assert sorted(drawn) == sorted(texts)
    assert view.cloud.isVisible() and view.plot.vb.viewRect().contains(*view.points[1])  # cat in view
    assert "of the variance" in view.step_label.text()
    assert view.step_label.text().startswith(f"step {last} (epoch ")
    # the Embedding deleted on the canvas: its tab goes; undone: it comes back
    click(window.view.viewport(), node_point(window, "embedding"))
    press(window.view, Qt.Key_Delete)
    assert not panel.views.isTabVisible(tab_index(panel, "Embeddings"))
    press(window.view, Qt.Key_Z, Qt.ControlModifier)
    assert panel.views.isTabVisible(tab_index(panel, "Embeddings"))
