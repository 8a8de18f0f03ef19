"""The ONNX exporter and quantizer kept quiet: their progress lines, warnings and log
messages are for their developers, not for the person exporting."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings


@contextlib.contextmanager
def quiet():
    """The exporter's progress lines, warnings and log messages kept from the terminal; its
    errors still arrive as exceptions."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "onnxscript", "onnx_ir", "")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    sink = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            yield sink
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
