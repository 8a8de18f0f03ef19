"""Sequence blocks (filled in below)."""
