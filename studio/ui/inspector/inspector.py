"""The inspector panel: the selected node's block, doc, label, parameters,
shapes and problem. Edits go through the editor as undo steps; a refused
value stays in its field, marked, with the reason beneath it.

A group node says how many uses share its definition; a node shown inside a
definition offers each parameter to be exposed as the group's own (or bound
to one already exposed), and shows a bound one read-only, set by the group."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFormLayout, QFrame, QHBoxLayout, QLabel, QLineEdit, QMenu, QScrollArea, QToolButton, QVBoxLayout, QWidget,
)

from blocks import ParamError
from studio.graph import GraphEvent

from .. import icons, theme
from ..canvas.format import count_text, shape_text
from ..document import GraphEditor
from ..document.commands import JournalCommand
from ..field_cell import FieldCell
from . import group_params
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
        self.group_label: QLabel | None = None  # a group node's uses and inside
        self.group_buttons: dict[str, QToolButton] = {}  # inside a definition: each parameter's expose menu
        self.bound_notes: dict[str, QLabel] = {}  # inside a definition: "set by channels"
        self._group_key = None
        self._unsubscribe_library = None
        # Library events come in bursts (an undo of a grouping is several): one look after them.
        self._library_timer = QTimer(self, singleShot=True, interval=0, timeout=self._library_changed)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.NoFrame)
        self._bind(editor.graph)
        editor.graph_replaced.connect(self._bind)
        shown_changed = getattr(editor, "shown_changed", None)  # a group opened or left
        if shown_changed is not None:
            shown_changed.connect(self._bind_shown)
        self.show_node(None)

    def _bind(self, graph) -> None:
        self._subscribe(graph)
        self.probe = None  # another document: the last run's inputs are not its nodes'
        self.show_node(None)

    def _bind_shown(self, graph) -> None:
        self._subscribe(graph)
        self.show_node(None)

    def _subscribe(self, graph) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._unsubscribe_library is not None:
            self._unsubscribe_library()
        self._unsubscribe = graph.subscribe(self._on_event)
        self._unsubscribe_library = graph.library.subscribe(lambda kind, name: self._library_timer.start())

    # ---- building the form --------------------------------------------
    def show_node(self, node_id: str | None) -> None:
        self.node_id = node_id if node_id in self.editor.graph else None
        self.editors.clear()
        self.errors.clear()
        self.label_edit = None
        self._count = None
        self.group_label = None
        self.group_buttons.clear()
        self.bound_notes.clear()
        self._group_key = self._key()
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
        if node.is_group:
            self.group_label = QLabel(group_params.group_summary(self.editor.graph, self.node_id))
            self.group_label.setWordWrap(True)
            layout.addWidget(self.group_label)
        owner = self.editor.graph.library.owner(self.editor.graph)  # shown inside this definition
        if owner is not None and self.node_id in owner.inputs:
            owner = None  # a port of the group: each use feeds its own shape, there is nothing to expose
        bound = owner.bound() if owner is not None else {}

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
            self.editors[param.name] = editor
            self.errors[param.name] = error
            if owner is not None:
                cell = self._group_row(owner, cell, param.name, bound.get((self.node_id, param.name)))
            form.addRow(name, cell)
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

    # ---- groups ------------------------------------------------------------
    def _group_row(self, owner, cell: FieldCell, param: str, bound_to: str | None) -> QWidget:
        """A parameter row inside a definition: the field and a menu to expose or bind it; a bound
        one is read-only, with what sets it beneath."""
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        box.addWidget(cell, 1)
        button = QToolButton()
        button.setText("⋯")
        button.setAutoRaise(True)
        button.setPopupMode(QToolButton.InstantPopup)
        button.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")  # the dots say it
        button.setAccessibleName(f"{param}: group parameter")
        menu = QMenu(button)
        if bound_to is not None:
            self.editors[param].setEnabled(False)
            note = QLabel(f"set by {bound_to}")
            note.setObjectName("hint")
            note.setToolTip(f"{owner.name}'s parameter {bound_to} sets this in every use; "
                            "set it on the group node outside")
            cell.layout().addWidget(note)
            self.bound_notes[param] = note
            button.setToolTip(f"Set by the group parameter {bound_to}")
            menu.addAction(f"Stop setting from {bound_to}",
                           lambda: self._push(f"Unbind {self.node_id}.{param}",
                                              group_params.unbinding(self._top(), owner, self.node_id, param), param))
        else:
            button.setToolTip(f"Expose {param} as a parameter of {owner.name}")
            menu.addAction("Expose as group parameter…", lambda: self.expose_parameter(param))
            for exposed in owner.exposed:
                if group_params.compatible(owner, exposed, self.node_id, param):
                    menu.addAction(f"Bind to group parameter {exposed.name}",
                                   lambda e=exposed.name: self._push(
                                       f"Bind {self.node_id}.{param} to {e}",
                                       group_params.binding(self._top(), owner, self.node_id, param, e), param))
        button.setMenu(menu)
        box.addWidget(button, 0, Qt.AlignTop)
        self.group_buttons[param] = button
        return row

    def expose_parameter(self, param: str) -> str | None:
        """Ask a name and expose ``param`` of the node shown inside a definition; returns the refusal, if any."""
        graph = self.editor.graph
        owner = graph.library.owner(graph)
        if owner is None or self.node_id is None:
            return None
        name = group_params.ask_parameter_name(self, param, owner)
        if not name:
            return None
        return self._push(f"Expose {self.node_id}.{param} as {name}",
                          group_params.exposing(self._top(), owner, self.node_id, param, name), param)

    def _top(self):
        return getattr(self.editor, "document", self.editor.graph)

    def _push(self, text: str, apply, param: str) -> str | None:
        command = JournalCommand(self._top(), text, apply)
        self.editor.undo_stack.push(command)
        if command.refusal and param in self.errors:
            self._show_error(param, command.refusal)
        return command.refusal

    def _key(self):
        """What the page's form depends on beyond the node: its parameters (a group's change
        when its definition exposes others) and, inside a definition, what is bound."""
        graph = self.editor.graph
        if self.node_id is None or self.node_id not in graph:
            return None
        node = graph.node(self.node_id)
        owner = graph.library.owner(graph)
        bound = () if owner is None else tuple(sorted(
            (str(e.name), tuple(e.targets)) for e in owner.exposed))
        return node.block, tuple(p.name for p in node.spec.params), bound

    def _library_changed(self) -> None:
        if self.node_id is None:
            return
        if self.node_id not in self.editor.graph:
            self.show_node(None)
        elif self._key() != self._group_key:
            self.show_node(self.node_id)
        elif self.group_label is not None:
            self.group_label.setText(group_params.group_summary(self.editor.graph, self.node_id))

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
        if event.kind in ("node_added", "node_removed"):
            self._library_timer.start()  # a group's count of uses may have changed
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
