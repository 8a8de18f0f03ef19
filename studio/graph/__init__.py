"""The graph document, its validation and its shapes. No Qt here."""

from .document import Edge, Graph, GraphEvent, Node
from .errors import (
    ConnectionRefused, CycleError, DuplicateEdgeError, GraphError, InputTakenError, InvalidGraphError,
    NodeIdError, Problem, UnknownPortError,
)
from .text import UnsavableError
from .validate import validate

__all__ = [
    "ConnectionRefused", "CycleError", "DuplicateEdgeError", "Edge", "Graph", "GraphError", "GraphEvent",
    "InputTakenError", "InvalidGraphError", "Node", "NodeIdError", "Problem", "UnknownPortError", "UnsavableError",
    "validate",
]
