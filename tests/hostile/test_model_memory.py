"""A network too large for the machine is said before anything is allocated."""

from __future__ import annotations

import json

from studio import files
from studio.cli.main import main
from studio.data.limits import available_memory
from studio.training.preflight import check

from person import Answers, _private_settings, answers, config_dir, make_window, click, node_point, type_into  # noqa: F401 (fixtures)


def huge_graph(tmp_path):
    # 200,000 x 200,000 weights: 40 billion parameters, 640 GB to train; counted, never built
    doc = {"format": "studio-graph", "version": 1, "name": "huge",
           "nodes": [{"id": "x", "block": "Input", "position": [0, 0], "params": {"shape": [200000]}},
                     {"id": "fc", "block": "Linear", "position": [240, 0], "params": {"out_features": 200000}}],
           "edges": [{"from": "x.out", "to": "fc.in"}],
           "training": {"dataset": {"name": "blobs"}, "epochs": 1}}
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_network_larger_than_memory_is_a_problem_before_training(tmp_path):
    assert 200_000 * 200_001 * 16 > available_memory()
    graph = files.load(huge_graph(tmp_path))
    problems = check(graph, tmp_path)[2]
    [problem] = [p for p in problems if "parameters need" in p.message]
    assert "40,000,200,000 parameters" in problem.message and "free" in problem.message


def test_studio_train_says_so_instead_of_allocating(tmp_path, capsys):
    code = main(["train", str(huge_graph(tmp_path))])
    err = capsys.readouterr().err
    assert code == 1 and "40,000,200,000 parameters need" in err


def test_exporting_a_program_says_so_instead_of_allocating(tmp_path, capsys):
    code = main(["export", str(huge_graph(tmp_path)), "--format", "program", "-o", str(tmp_path / "huge.pt2")])
    err = capsys.readouterr().err
    assert code == 1 and "40,000,200,000 parameters need at least" in err and "to build" in err
    assert not (tmp_path / "huge.pt2").exists()


def test_the_status_bar_counts_what_train_would_refuse(window, answers, tmp_path, qtbot):
    """The status bar said "no problems" while Train refused the file: it counts the settings and
    the memory a network needs, as Train's check does (short of loading the data)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    answers.open_name = str(huge_graph(tmp_path))
    QTest.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    status = window.status_label
    qtbot.waitUntil(lambda: "40,000,200,000 parameters need" in status.toolTip(), timeout=10_000)
    panel = window.training_panel
    qtbot.waitUntil(lambda: panel.chooser.dataset is not None, timeout=10_000)
    # With the data set loaded, the status bar also says where blobs does not fit the graph.
    qtbot.waitUntil(lambda: status.text().endswith("3 errors"), timeout=10_000)
    assert "Input x takes [200000] but the data set 'blobs' gives [2] features" in status.toolTip()
    # the panel's headline counts the same list
    qtbot.waitUntil(lambda: "3 problem(s) to fix first" in panel.status_label.text(), timeout=10_000)
    assert not panel.status_label.text().startswith("Ready")  # it said Ready while Train would refuse
    # The network made small by keyboard: the status bar and the panel say so at once.
    click(window.view.viewport(), node_point(window, "fc"))
    assert window.inspector.node_id == "fc"
    type_into(window.inspector.editors["out_features"].edit, "3", then="enter")
    # Only the Input's width against blobs is left (Train's own check reads the data once the graph is sound).
    qtbot.waitUntil(lambda: status.text().endswith("1 error") and "parameters need" not in status.toolTip(),
                    timeout=10_000)
    qtbot.waitUntil(lambda: "1 problem(s) to fix first" in panel.status_label.text(), timeout=10_000)
    # and the Input made to fit: nothing stands in the way
    click(window.view.viewport(), node_point(window, "x"))
    type_into(window.inspector.editors["shape"].edit, "2", then="enter")
    qtbot.waitUntil(lambda: status.text().endswith("no problems"), timeout=10_000)
    qtbot.waitUntil(lambda: panel.status_label.text().startswith("Ready: blobs"), timeout=10_000)
    QTest.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    QTest.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    qtbot.waitUntil(lambda: status.text().endswith("3 errors"), timeout=10_000)
    QTest.mouseClick(panel.controls.train_button, Qt.LeftButton)
    assert not panel.running
    problems = panel.problem_list
    assert any("parameters need" in problems.item(i).text() for i in range(problems.count()))


def test_the_status_bar_counts_a_refused_setting(window, answers, tmp_path, qtbot):
    doc = json.loads(huge_graph(tmp_path).read_text())
    doc["nodes"][0]["params"]["shape"] = [2]
    doc["nodes"][1]["params"]["out_features"] = 2
    doc["training"]["optimizer"] = {"name": "adam", "lr": -0.5}
    path = tmp_path / "bad_lr.json"
    path.write_text(json.dumps(doc))
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    answers.open_name = str(path)
    QTest.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    status = window.status_label
    # With blobs loaded it also says that fc's 2 outputs do not fit its 3 classes.
    qtbot.waitUntil(lambda: status.text().endswith("2 errors"), timeout=10_000)
    assert "training.optimizer.lr" in status.toolTip() and "-0.5" in status.toolTip()
