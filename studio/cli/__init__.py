"""Command line: ``studio [FILE]``, ``studio validate``, ``studio train``."""
