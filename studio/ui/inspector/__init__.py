"""The inspector: edits the selected node's label and parameters."""

from .inspector import InspectorWidget
from .param_editors import ParamEditor, make_editor

__all__ = ["InspectorWidget", "ParamEditor", "make_editor"]
