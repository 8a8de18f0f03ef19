"""The edit layer: undo commands that change only the model, and the editor
object the views call to make one undo step per user action."""

from .commands import (
    AddNodeCommand, ConnectCommand, DisconnectCommand, MacroCommand, MoveNodesCommand, RemoveNodeCommand,
    SetLabelCommand, SetParamsCommand,
)
from .editor import GraphEditor

__all__ = [
    "AddNodeCommand", "ConnectCommand", "DisconnectCommand", "GraphEditor", "MacroCommand", "MoveNodesCommand",
    "RemoveNodeCommand", "SetLabelCommand", "SetParamsCommand",
]
