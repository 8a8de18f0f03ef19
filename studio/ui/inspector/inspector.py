"""The inspector panel: the selected node's block, doc, label, parameters,
shapes and problem. Edits go through the editor as undo steps; a refused
value stays in its field, marked, with the reason beneath it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout, QFrame, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget,
)

from blocks import ParamError
from studio.graph import GraphEvent

from .. import icons, theme
from ..canvas.format import count_text, shape_text
from ..document import GraphEditor
from ..field_cell import FieldCell
from .param_editors import ParamEditor, make_editor


class InspectorWidget(QScrollArea):
    def __init__(self, editor: GraphEditor, parent=None):
        super().__init__(parent)
        self.editor = editor
        self.node_id: str | None = None
        self.editors: dict[str, ParamEditor] = {}
        self.errors: dict[str, QLabel] = {}
        self.label_edit: QLineEdit | None = None
        self._unsubscribe = None
        self._count: int | None = None
        self.curve_view = None  # an ActivationCurveView, made the first time an activation is shown
        self.probe = None  # the run's newest ProbeEvent with activations: the inputs the curve shows
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.NoFrame)
        self._bind(editor.graph)
        editor.graph_replaced.connect(self._bind)
        self.show_node(None)

    def _bind(self, graph) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = graph.subscribe(self._on_event)
        self.probe = None  # another document: the last run's inputs are not its nodes'
        self.show_node(None)

    # ---- building the form --------------------------------------------
    def show_node(self, node_id: str | None) -> None:
        self.node_id = node_id if node_id in self.editor.graph else None
        self.editors.clear()
        self.errors.clear()
        self.label_edit = None
        self._count = None
        if self.curve_view is not None:
            # kept for the next activation: out of the page that is about to go
            self.curve_view.hide()
            self.curve_view.setParent(self)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        if self.node_id is None:
            empty = QLabel("Select a block to edit its parameters.\n\nDrag blocks from the palette, "
                           "or press Tab on the canvas to add one.")
            empty.setObjectName("hint")
            empty.setWordWrap(True)
            layout.addWidget(empty)
            layout.addStretch(1)
            self._set_page(page)
            return
        node = self.editor.graph.node(self.node_id)
        spec = node.spec
        title = QLabel(f"<span style='font-size:13pt; font-weight:600'>{spec.name}</span>"
                       f"&nbsp;&nbsp;<span style='color:gray'>{spec.category}</span>")
        title.setTextFormat(Qt.RichText)
        header = QWidget()
        hl = QFormLayout(header)
        hl.setContentsMargins(0, 0, 0, 0)
        icon = QLabel()
        icon.setPixmap(icons.category_icon(spec.category).pixmap(22, 22))
        hl.addRow(icon, title)
        layout.addWidget(header)
        doc = QLabel(spec.doc)
        doc.setWordWrap(True)
        doc.setObjectName("hint")
        layout.addWidget(doc)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignRight)
        form.setFieldGrowthPolicy(QFormLayout.ExpandingFieldsGrow)
        id_label = QLabel(node.id)
        id_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        form.addRow("id", id_label)
        self.label_edit = QLineEdit(node.label)
        self.label_edit.setPlaceholderText(node.id)
        self.label_edit.editingFinished.connect(self._label_finished)
        form.addRow("label", self.label_edit)
        for param in spec.params:
            editor = make_editor(param)
            editor.set_value(node.params[param.name])
            editor.committed.connect(lambda name=param.name: self.commit(name))
            cell = FieldCell(editor)
            error = cell.error
            name = QLabel(param.name)
            name.setToolTip(param.doc)
            form.addRow(name, cell)
            self.editors[param.name] = editor
            self.errors[param.name] = error
        layout.addLayout(form)
        from studio.training.activation_curve import is_elementwise_activation  # here: it loads numpy

        if is_elementwise_activation(spec):
            layout.addWidget(self._show_curve())
        self.shapes_label = QLabel()
        self.shapes_label.setWordWrap(True)
        self.shapes_label.setTextFormat(Qt.RichText)
        layout.addWidget(self.shapes_label)
        layout.addStretch(1)
        self._set_page(page)
        self._refresh_shapes()

    # ---- an activation's curve -------------------------------------------
    def _show_curve(self):
        from .activation_curve import ActivationCurveView

        if self.curve_view is None:
            # parented at once: shown without a parent it would be a window of its own, taking the focus
            self.curve_view = ActivationCurveView(self)
        else:
            self.curve_view.apply_colors()  # the theme may have changed since
        self._curve_function()
        self._curve_inputs()
        self.curve_view.show()
        return self.curve_view

    def _showing_curve(self) -> bool:
        return self.curve_view is not None and self.curve_view.parent() is not self and self.node_id is not None

    def _curve_function(self) -> None:
        from studio.training.activation_curve import ActivationFunction

        node = self.editor.graph.node(self.node_id)
        self.curve_view.set_function(ActivationFunction(node.spec, node.params))

    def _curve_inputs(self) -> None:
        """The band: the newest probe's histogram of the output wired into the node's input."""
        graph = self.editor.graph
        edge = graph.edge_into(self.node_id, "in")
        stats = None
        if self.probe is not None and edge is not None and len(graph.node(edge.src).output_ports()) == 1:
            stats = self.probe.activations.get(edge.src)
        if stats is None:
            why = "" if self.probe is None else "Its input is not among what the run's probes record."
            self.curve_view.show_inputs(None, None, why)
        else:
            # No step in the words: a label whose text changes on every probe costs as much again
            # as the plot (the inspector's page is laid out anew).
            self.curve_view.show_inputs(stats.hist_counts, stats.hist_edges, f"the outputs of {edge.src}")

    def show_probe(self, probe) -> None:
        """The run's newest probe (the training panel's ``probeShown``): the curve's band follows it."""
        if not probe.activations:
            return
        self.probe = probe
        if self._showing_curve():
            self._curve_inputs()

    def _set_page(self, page: QWidget) -> None:
        # The old page goes at the next turn of the event loop: show_node can run inside a signal of
        # one of its editors (an edit that removes or reselects the node), and deleting a widget
        # inside its own signal crashes Qt.
        old = self.takeWidget()
        if old is not None:
            old.hide()
            old.deleteLater()
        self.setWidget(page)

    def _refresh_shapes(self) -> None:
        if self.node_id is None:
            return
        graph = self.editor.graph
        rows = []
        for port, shape in graph.shapes.inputs(self.node_id).items():
            rows.append(f"in <b>{port}</b>: {shape_text(shape)}")
        for port in (p.name for p in graph.node(self.node_id).output_ports()):
            rows.append(f"out <b>{port}</b>: {shape_text(graph.shapes.output(self.node_id, port))}")
        problem = graph.shapes.error(self.node_id)
        if problem is not None:
            text = problem.message if problem.port and problem.message.startswith(f"{problem.port}:") else str(problem)
            rows.append(f"<span style='color:{theme.current().error}'>{text}</span>")
        if self._count is not None:
            rows.append(f"{self._count:,} parameters ({count_text(self._count)})")
        self.shapes_label.setText("<br>".join(rows))

    # ---- committing ----------------------------------------------------
    def commit(self, name: str) -> str | None:
        """Send one parameter's entered value to the model; returns the refusal, if any."""
        if self.node_id is None:
            return None
        editor = self.editors[name]
        try:
            value = editor.value()
        except ParamError as exc:
            reason = exc.message
        else:
            reason = self.editor.set_params(self.node_id, {name: value})
        self._show_error(name, reason)
        return reason

    def _show_error(self, name: str, reason: str | None) -> None:
        label = self.errors[name]
        editor = self.editors[name]
        if reason:
            label.setText(reason)
            label.show()
            editor.set_invalid(True)
        else:
            label.hide()
            editor.set_invalid(False)

    def _label_finished(self) -> None:
        if self.node_id is not None and self.label_edit is not None:
            from studio.graph.text import surrogate_reason

            text = self.label_edit.text().strip()
            reason = surrogate_reason(text)  # text no file could hold: refused here, the document keeps its label
            if reason is not None:
                self.label_edit.setToolTip(f"{self.node_id}: label refused: {reason}")
                self.label_edit.setText(self.editor.graph.node(self.node_id).label)
                return
            self.editor.set_label(self.node_id, text)

    # ---- following the model ------------------------------------------
    def _on_event(self, event: GraphEvent) -> None:
        if self.node_id is None:
            return
        if event.kind == "node_removed" and self.node_id in event.nodes:
            self.show_node(None)
        elif event.kind == "params_changed" and self.node_id in event.nodes:
            node = self.editor.graph.node(self.node_id)
            for name, editor in self.editors.items():
                if name in (event.old or {}):
                    editor.set_value(node.params[name])
                    self._show_error(name, None)
            if self._showing_curve():
                self._curve_function()
        elif event.kind == "label_changed" and self.node_id in event.nodes and self.label_edit is not None:
            self.label_edit.setText(self.editor.graph.node(self.node_id).label)
        elif event.kind == "shapes_changed" and self.node_id in event.nodes:
            self._refresh_shapes()
        elif event.kind in ("edge_added", "edge_removed") and self.node_id in event.nodes and self._showing_curve():
            self._curve_inputs()  # rewired: the band is the new source's outputs, if the probe has them

    def set_param_count(self, count: int | None) -> None:
        self._count = count
        self._refresh_shapes()
