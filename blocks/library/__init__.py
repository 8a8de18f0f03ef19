"""Importing this package registers every block; one module per category."""

from . import structure, dense, activations, conv, sequence, graphs  # noqa: F401
