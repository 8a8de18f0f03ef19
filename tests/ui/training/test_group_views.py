"""The live views through groups, in the main window: a grouped network trains, gradient flow
and activations show each group as one row, and a click opens it to its inner rows."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from pathlib import Path

from studio.files import load
from studio.graph.groups import group_nodes

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "spiral_mlp.json"


def grouped_spiral():
    """points -> block (hidden1 -> relu1 -> pair (hidden2 -> relu2)) -> logits."""
    g = load(EXAMPLE)
    training = dict(g.training)
    training["dataset"] = {**training["dataset"], "points": 60}
    training.update(epochs=3, batch_size=16, threads=1, probes={"every": 1, "grid": 24, "budget": 1.0})
    g.set_training(training)
    _, pair = group_nodes(g, ["hidden2", "relu2"], "Pair", group_id="pair")
    group_nodes(g, ["hidden1", "relu1", pair], "Block", group_id="block")
    assert list(g.nodes) == ["points", "block", "logits"]
    return g


def show_tab(panel, title: str) -> None:
    bar = panel.views.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    QTest.mouseClick(bar, Qt.LeftButton, Qt.NoModifier, bar.tabRect(index).center())
    assert panel.views.currentIndex() == index


def tick(box) -> None:
    """Click a check box on its box (a stretched box's middle is empty space, not the button)."""
    QTest.mouseClick(box, Qt.LeftButton, Qt.NoModifier, QPoint(8, box.height() // 2))


def click_legend(qtbot, view, text: str) -> None:
    label = next(lab for _, lab in view.plot.legend.items if lab.text == text)
    widget = view.plot_widget
    pos = widget.mapFromScene(label.sceneBoundingRect().center())
    QTest.mouseClick(widget.viewport(), Qt.LeftButton, Qt.NoModifier, pos)


def test_a_group_is_one_row_until_a_click_opens_it(qtbot, make_window):
    window = make_window()
    window.set_document(grouped_spiral(), None)
    panel = window.training_panel
    show_tab(panel, "Gradient flow")
    QTest.mouseClick(panel.controls.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.session is None and bool(panel.gradient_view.latest), timeout=60000)
    grads = panel.gradient_view
    assert grads.shown() == ["block", "logits"]
    assert [lab.text for _, lab in grads.plot.legend.items] == ["▸ block", "logits"]
    assert grads.open_all.isVisible() and not grads.open_all.isChecked()
    steps = len(grads.buffers["block"].x)
    assert steps > 1 and len(grads.buffers["block.pair.hidden2"].x) == steps  # kept while closed

    click_legend(qtbot, grads, "▸ block")  # opens the group: its inner rows follow it
    assert grads.shown() == ["block", "block.hidden1", "block.pair", "logits"]
    assert [lab.text for _, lab in grads.plot.legend.items] == ["▾ block", "block.hidden1", "▸ block.pair", "logits"]
    assert len(grads.curves["block.hidden1"].getData()[0]) == steps  # the whole run, not from now on
    click_legend(qtbot, grads, "▸ block.pair")  # the nested group
    assert "block.pair.hidden2" in grads.shown()
    click_legend(qtbot, grads, "▾ block")  # closed again: one row
    assert grads.shown() == ["block", "logits"] and set(grads.curves) == {"block", "logits"}

    tick(grads.open_all)  # every group opened at once
    assert grads.shown() == ["block", "block.hidden1", "block.pair", "block.pair.hidden2", "logits"]

    show_tab(panel, "Activations")
    acts = panel.activation_view
    qtbot.waitUntil(lambda: acts.node is not None, timeout=3000)
    assert acts.listed() == ["points", "block", "logits"]
    tick(acts.open_all)
    assert acts.listed() == ["points", "block", "block.hidden1", "block.relu1", "block.pair",
                             "block.pair.hidden2", "block.pair.relu2", "logits"]
    acts.node_box.setCurrentText("block.pair.relu2")
    assert acts.stats_label.text().startswith("block.pair.relu2: mean ")
    tick(acts.open_all)  # closed: the row gives way to its group
    assert acts.listed() == ["points", "block", "logits"] and acts.node == "block"


def tab_visible(panel, title: str) -> bool:
    bar = panel.views.tabBar()
    return panel.views.isTabVisible(next(i for i in range(bar.count()) if bar.tabText(i) == title))


def test_the_attention_and_embeddings_tabs_show_for_layers_inside_groups(qtbot, make_window):
    from studio.graph import Graph

    g = Graph("tokens")
    g.add_node("Input", {"shape": [6], "dtype": "long"}, id="ids")
    g.add_node("Embedding", {"num_embeddings": 20, "embedding_dim": 8}, id="embed")
    g.add_node("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 16}, id="enc")
    g.add_node("Linear", {"out_features": 3}, id="head")
    for a, b in (("ids", "embed"), ("embed", "enc"), ("enc", "head")):
        g.connect(a, "out", b, "in")
    _, inner = group_nodes(g, ["enc"], "Layer", group_id="layer")
    group_nodes(g, ["embed", inner], "Body", group_id="body")  # attention two groups deep
    window = make_window()
    window.set_document(g, None)
    panel = window.training_panel
    assert tab_visible(panel, "Attention") and tab_visible(panel, "Embeddings")
    inside = g.library.get("Layer").graph
    inside.remove_node("enc")  # the Layer's inside loses its attention: the tab goes
    assert not tab_visible(panel, "Attention") and tab_visible(panel, "Embeddings")
