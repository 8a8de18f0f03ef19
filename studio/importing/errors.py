"""What an import refuses, and whose fault it is (the exit status of ``studio import``)."""

from __future__ import annotations

REFUSED = 1  # the model cannot become blocks
BAD_INPUT = 2  # the arguments, the module file or the callable are wrong


class ImportRefused(Exception):
    """One message naming the place (fx node, module path, argument); ``code`` is the exit status."""

    def __init__(self, message: str, code: int = REFUSED):
        super().__init__(message)
        self.message = message
        self.code = code


class BadArgument(ImportRefused):
    """An argument, the module file or the callable is wrong (exit status 2)."""

    def __init__(self, message: str):
        super().__init__(message, BAD_INPUT)
