"""Editor at scale: a graph of ``--nodes`` nodes (500 by default; the issue's figure is 5,000) in
the main window, offscreen. One JSON line per case, each with ``case``, ``target``, ``ratio``
(value over target for times, target over value for rates: above 1 misses either way) and
``meets``, plus the raw figures and the 1-minute load average:

- ``open_N``: the document shown (every item made) and painted, in a window already up (its
  training dock made, torch imported); target 1 s.
- ``edit_N``: one parameter edit in the inspector (out_features of a Linear in the middle of the
  chain: it, the two below it and their wires re-inferred and redrawn) and a whole repaint of the
  canvas; median of ``--edits``; target 30 ms.
- ``pan_fps_N``: zoomed out to the whole graph (the overview: plain boxes, straight wires), panning
  8 px a frame, each frame a whole repaint of the canvas; target 30 fps. ``pan_fps_far_N`` does the
  same at 20% (boxes with names, straight wires), ``pan_fps_zoom1_N`` at the selection's zoom.

Times are the process's CPU time (``cpu_ms``, ``cpu_fps``: the painting is single-threaded, and
this machine is shared), ``meets`` is judged on them; the wall clock's figures come beside them.

Groups, in a graph of ``--group-nodes`` nodes (500) whatever ``--nodes`` is (one JSON line per
case, each ``case``, ``cpu_ms`` and ``value_ms`` (medians, CPU and wall), ``target_ms`` 50,
``ratio`` = CPU time over the 50 ms target, ``meets``; the window cases split into ``action``,
``events`` and ``paint``, by both clocks), all in the main window with the scene and inspector
following, repainted:

- ``group_100``: Ctrl+G's action on 100 selected nodes in the middle of the 500-node graph
  (then undone, and again);
- ``enter_100`` / ``leave_100``: opening that group on the canvas (its 100 nodes drawn, the
  view framed) and going back up; ``ungroup_undo_100``: Ctrl+Z of the grouping;
- ``edit_in_definition_x8``: one parameter edit, in the inspector, inside a definition of
  24 nodes used 8 times in a 300-node graph (all 8 instances re-inferred, the canvas and
  counts following).

``core_*`` lines time the same steps in the document alone (group_nodes, its journal's
undo and redo, place_instance, an inner set_params with 8 instances) and count the nodes
re-inferred by the inner edit (``reinferred``: only the 8 instances in the top graph when
their outputs do not change).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/editor_scale.py [--nodes 5000] [--groups-only]
        [--group-nodes 500] [--edits 20] [--frames 60] [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def residual_graph(n_nodes: int):
    """Blocks of Linear -> ReLU -> Linear -> Add(skip), laid out in rows of 12."""
    from studio.graph import Graph

    g = Graph("scale")
    g.add_node("Input", {"shape": [64]}, (0, 0), "x")
    prev = "x"
    i = 0
    while len(g) + 4 <= n_nodes:
        ids = [f"fc{i}a", f"act{i}", f"fc{i}b", f"add{i}"]
        col = len(g)
        for k, (nid, block, params) in enumerate(zip(
                ids, ("Linear", "ReLU", "Linear", "Add"), ({"out_features": 64}, {}, {"out_features": 64}, {}))):
            c = col + k
            g.add_node(block, params, ((c % 24) * 240.0, (c // 24) * 160.0), nid)
        g.connect(prev, "out", ids[0], "in")
        g.connect(ids[0], "out", ids[1], "in")
        g.connect(ids[1], "out", ids[2], "in")
        g.connect(ids[2], "out", ids[3], "in1")
        g.connect(prev, "out", ids[3], "in2")
        prev = ids[3]
        i += 1
    while len(g) < n_nodes:
        nid = f"tail{len(g)}"
        c = len(g)
        g.add_node("ReLU", {}, ((c % 24) * 240.0, (c // 24) * 160.0), nid)
        g.connect(prev, "out", nid, "in")
        prev = nid
    return g


def emit(**record) -> None:
    """One JSON line. A case judged against its target (``ratio_of: "target"``: its time over the target
    time, or the target frame rate over its own) carries ``target: 1.0`` and meets at a ratio up to it."""
    if record.get("ratio_of") == "target":
        record = {**record, "target": 1.0, "meets_when": "ratio <= target"}
    print(json.dumps(record), flush=True)


TARGET_MS = 50.0


def emit_case(case: str, times: list[float], cpu_times: list[float], **extra) -> None:
    """``times`` by the wall clock, ``cpu_times`` the process's CPU time: judged on the CPU time (the
    work is single-threaded; on a shared machine the wall clock also counts the others' work)."""
    value = statistics.median(times) * 1e3
    cpu = statistics.median(cpu_times) * 1e3
    emit(bench="editor_scale", case=case, value_ms=round(value, 2), max_ms=round(max(times) * 1e3, 2),
         cpu_ms=round(cpu, 2), runs=len(times), target_ms=TARGET_MS, ratio=round(cpu / TARGET_MS, 3),
         ratio_of="target", judged_on="cpu_ms", meets=cpu <= TARGET_MS,
         load_avg_1min=round(os.getloadavg()[0], 2), **extra)


class Clock:
    """Wall and CPU time of each timed step, kept apart."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self):
        self._t, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall.append(time.perf_counter() - self._t)
        self.cpu.append(time.process_time() - self._c)


def block_ids(i: int) -> list[str]:
    return [f"fc{i}a", f"act{i}", f"fc{i}b", f"add{i}"]


def instances_graph(uses: int = 8, blocks_per_definition: int = 6, n_nodes: int = 300):
    """Input -> ``uses`` instances of Block (``blocks_per_definition`` residual blocks, 4 nodes
    each) -> a flat residual chain, ``n_nodes`` nodes inside and out in all."""
    from studio.graph.groups import group_nodes, use_definition

    inner = 4 * blocks_per_definition
    g = residual_graph(1 + inner + max(0, n_nodes - uses * inner))
    members = [n for i in range(blocks_per_definition) for n in block_ids(i)]
    _, prev = group_nodes(g, members, "Block", group_id="block0")
    rest = [e for e in g.out_edges(prev)]
    for e in rest:
        g.disconnect(e)
    x, y = g.node(prev).position
    for k in range(1, uses):
        nid = use_definition(g, "Block", (x, y + 160.0 * k), f"block{k}")
        g.connect(prev, "out", nid, "x")
        prev = nid
    for e in rest:
        g.connect(prev, "out", e.dst, e.dst_port)
    return g


def core_cases(args) -> None:
    """The group steps in the document alone, and the nodes an inner edit re-infers."""
    from collections import Counter

    from studio.graph import shapes
    from studio.graph.groups import group_nodes

    g = residual_graph(args.group_nodes)
    members = [n for i in range(40, 65) for n in block_ids(i)]
    times, undo, redo = Clock(), Clock(), Clock()
    for _ in range(args.repeats):
        with times:
            journal, _gid = group_nodes(g, members, "Stretch", group_id="stretch")
        with undo:
            journal.undo(g)
        with redo:
            journal.redo(g)
        journal.undo(g)
    emit_case("core_group_nodes_100", times.wall, times.cpu, nodes=len(g))
    emit_case("core_group_undo_100", undo.wall, undo.cpu, nodes=len(g))
    emit_case("core_group_redo_100", redo.wall, redo.cpu, nodes=len(g))

    g = instances_graph()
    d = g.library.get("Block")
    place = Clock()
    for k in range(args.repeats):
        given = {"x": [64 + k % 2]}
        with place:
            d.graph.place_instance(given, d.bindings({}))
    d.graph.place_instance({"x": [64]}, d.bindings({}))
    emit_case("core_place_instance_24", place.wall, place.cpu)
    calls: Counter = Counter()
    original = shapes.ShapeInference._infer_one

    def counting(self, node_id):
        calls["top" if self._graph is g else "inside"] += 1
        return original(self, node_id)

    shapes.ShapeInference._infer_one = counting
    try:
        edits = Clock()
        for k in range(args.repeats):
            calls.clear()
            with edits:
                d.graph.set_params("fc2a", {"out_features": 64 + (k + 1) % 2})
    finally:
        shapes.ShapeInference._infer_one = original
    emit_case("core_inner_edit_x8", edits.wall, edits.cpu, nodes=len(g), instances=len(g.library.instances("Block")),
              reinferred={"top": calls["top"], "inside": calls["inside"]},
              note="out_features of an inner Linear the next absorbs: no instance's output changes")


def group_cases(app, window, args) -> None:
    """Grouping, entering and leaving 100 nodes, and an edit inside a definition used 8 times,
    in the window."""
    vp = window.view.viewport()

    def settle() -> None:
        app.processEvents()
        vp.repaint()

    window.set_document(residual_graph(args.group_nodes), None)
    settle()
    members = [n for i in range(40, 65) for n in block_ids(i)]
    window.scene.select_nodes(members)
    window.view.frame_selected()  # the 100 nodes on screen, as a person selecting them sees them
    settle()
    parts: dict[str, list[tuple[float, float, float]]] = {k: [] for k in ("group", "enter", "leave", "undo")}
    cpu: dict[str, list[float]] = {k: [] for k in parts}
    cpu_parts: dict[str, list[tuple[float, float, float]]] = {k: [] for k in parts}

    def timed(case: str, action):
        """Run ``action`` and let the window catch up and repaint; (action, events, paint) kept."""
        c0, t0 = time.process_time(), time.perf_counter()
        result = action()
        t1, c1 = time.perf_counter(), time.process_time()
        app.processEvents()
        t2, c2 = time.perf_counter(), time.process_time()
        vp.repaint()
        parts[case].append((t1 - t0, t2 - t1, time.perf_counter() - t2))
        cpu[case].append(time.process_time() - c0)
        cpu_parts[case].append((c1 - c0, c2 - c1, time.process_time() - c2))
        return result

    for _ in range(args.repeats):
        window.scene.select_nodes(members)
        settle()
        gid = timed("group", window.group_selection)
        assert gid is not None and len(window.editor.graph) == args.group_nodes - 99
        assert timed("enter", lambda: window.open_group(gid))
        assert len(window.scene.nodes) >= 100
        assert timed("leave", window.leave_group)
        timed("undo", window.editor.undo_stack.undo)
        assert len(window.editor.graph) == args.group_nodes
    notes = {"group": "Ctrl+G's action on 100 of 500 nodes, scene and inspector following",
             "enter": "open the group: its 100 nodes drawn and framed",
             "leave": "back up to the 401-node document, its view restored",
             "undo": "Ctrl+Z of the grouping"}
    for case, name in (("group", "group_100"), ("enter", "enter_100"), ("leave", "leave_100"),
                       ("undo", "ungroup_undo_100")):
        runs = parts[case]
        split = {k: round(statistics.median(r[i] for r in runs) * 1e3, 2)
                 for i, k in enumerate(("action_ms", "events_ms", "paint_ms"))}
        split.update({k: round(statistics.median(r[i] for r in cpu_parts[case]) * 1e3, 2)
                      for i, k in enumerate(("action_cpu_ms", "events_cpu_ms", "paint_cpu_ms"))})
        emit_case(name, [sum(r) for r in runs], cpu[case], nodes=args.group_nodes, **split, note=notes[case])

    graph = instances_graph()
    window.set_document(graph, None)
    settle()
    assert window.open_group("block3")
    window.scene.select_nodes(["fc2a"])
    window.view.frame_selected()
    settle()
    edits, edit_cpu = [], []
    for k in range(args.edits):
        c0, t0 = time.process_time(), time.perf_counter()
        window.inspector.editors["out_features"].edit.setText(str(64 + (k + 1) % 2))
        window.inspector.commit("out_features")
        window.counter.flush()
        settle()
        edits.append(time.perf_counter() - t0)
        edit_cpu.append(time.process_time() - c0)
    top = graph
    assert top.library.get("Block").graph.node("fc2a").params["out_features"] == 64 + args.edits % 2
    emit_case("edit_in_definition_x8", edits, edit_cpu, nodes=len(top), instances=len(top.library.instances("Block")),
              definition_nodes=len(top.library.get("Block").graph),
              note="out_features of an inner Linear, in the inspector inside one of 8 uses")
    window.leave_group(0)
    settle()


def rate_case(case: str, fps: float, cpu_fps: float, **extra) -> None:
    emit(bench="editor_scale", case=case, fps=round(fps, 1), cpu_fps=round(cpu_fps, 1), target_fps=30.0,
         ratio=round(30.0 / max(cpu_fps, 1e-9), 3), ratio_of="target", meets=cpu_fps >= 30.0,
         load_avg_1min=round(os.getloadavg()[0], 2), **extra)


def big_graph_cases(app, window, graph, args) -> None:
    """Open, edit and pan the ``--nodes`` graph."""
    n = len(graph)
    vp = window.view.viewport()
    t0, c0 = time.perf_counter(), time.process_time()
    window.set_document(graph, None)
    app.processEvents()
    vp.repaint()
    open_s, open_cpu = time.perf_counter() - t0, time.process_time() - c0
    emit(bench="editor_scale", case=f"open_{n}", nodes=n, edges=len(graph.edges), value_s=round(open_s, 3),
         cpu_s=round(open_cpu, 3), target_s=1.0, ratio=round(open_cpu / 1.0, 3), ratio_of="target",
         meets=open_cpu <= 1.0, load_avg_1min=round(os.getloadavg()[0], 2),
         note="every node and wire item made, the training dock following, the canvas painted")

    t0 = time.perf_counter()
    window.counter.compute_now()  # includes importing torch, done on a thread in the app
    emit(bench="editor_scale", case=f"param_counts_{n}", ratio=None, target=None, meets=None, nodes=n,
         value_s=round(time.perf_counter() - t0, 4),
         total_params=window.counter.total, note="first count imports torch; the window is usable meanwhile")

    # One parameter edit in the middle of the chain: re-infers it and its descendants.
    middle = f"fc{n // 8}a"
    window.scene.select_nodes([middle])
    window.view.frame_selected()
    app.processEvents()
    vp.repaint()
    times, cpu = [], []
    for k in range(args.edits):
        t0, c0 = time.perf_counter(), time.process_time()
        window.inspector.editors["out_features"].edit.setText(str(64 + ((k + 1) % 2)))
        window.inspector.commit("out_features")
        window.counter.flush()
        app.processEvents()
        vp.repaint()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    value = statistics.median(cpu) * 1e3
    emit(bench="editor_scale", case=f"edit_{n}", nodes=n, cpu_ms=round(value, 2),
         value_ms=round(statistics.median(times) * 1e3, 2), max_ms=round(max(times) * 1e3, 2), edits=args.edits,
         target_ms=30.0, ratio=round(value / 30.0, 3), ratio_of="target", meets=value <= 30.0,
         load_avg_1min=round(os.getloadavg()[0], 2),
         note="out_features of one Linear in a residual chain: its node, the next two and the wires between; "
              "max_ms includes the window's debounced problem check")

    def far() -> None:
        window.view.frame_all()
        window.view.zoom_by(0.2 / window.view.zoom())

    for label, frame in ((f"pan_fps_{n}", window.view.frame_all), (f"pan_fps_far_{n}", far),
                         (f"pan_fps_zoom1_{n}", window.view.frame_selected)):
        frame()
        app.processEvents()
        vp.repaint()
        app.processEvents()
        t0, c0 = time.perf_counter(), time.process_time()
        for f in range(args.frames):
            window.view.pan_by(8 if (f // 15) % 2 == 0 else -8, 3)
            app.processEvents()
            vp.repaint()
        fps = args.frames / (time.perf_counter() - t0)
        cpu_fps = args.frames / max(1e-9, time.process_time() - c0)
        seen = window.view.mapToScene(vp.rect()).boundingRect()
        visible = sum(1 for item in window.scene.nodes.values() if seen.intersects(item.sceneBoundingRect()))
        rate_case(label, fps, cpu_fps, nodes=n, visible_nodes=visible, zoom=round(window.view.zoom(), 3),
                  detail=getattr(window.scene, "detail", "-"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=7, help="runs of each group case")
    parser.add_argument("--groups-only", action="store_true", help="only the group cases")
    parser.add_argument("--group-nodes", type=int, default=500, help="size of the graph the group cases group in")
    args = parser.parse_args()
    core_cases(args)

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from studio.ui.main_window import MainWindow
    from studio.ui.settings import AppSettings

    graph = residual_graph(args.nodes)
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(AppSettings(Path(tmp)))
        window.resize(1600, 1000)
        window.show()
        app.processEvents()
        # A person opens a graph into a window already up: its dock made after the first paint, and
        # torch imported by then on the loader's thread (here, at once). Neither is the open's cost.
        import torch  # noqa: F401

        assert window.training_panel is not None
        app.processEvents()
        if args.groups_only:
            group_cases(app, window, args)
            window.editor.undo_stack.setClean()
            window.close()
            return 0

        big_graph_cases(app, window, graph, args)
        group_cases(app, window, args)
        window.editor.undo_stack.setClean()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
