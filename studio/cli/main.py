"""Entry point of the ``studio`` command.

Subcommands live in their own modules and are imported only when used.
This layer never imports Qt: ``studio.launch`` (the installed ``studio``
command) sends a plain ``studio [FILE]`` to the editor instead.
"""

from __future__ import annotations

import importlib
import os
import sys

# subcommand -> module with ``add_arguments(parser)`` and ``run(args) -> int``
SUBCOMMANDS = {
    "validate": "studio.cli.validate",
    "check": "studio.cli.check",
    "train": "studio.cli.train",
    "export": "studio.cli.export",
    "import": "studio.cli.import_model",
    "evaluate": "studio.cli.evaluate",
    "predict": "studio.cli.predict",
    "lr-find": "studio.cli.lr_find",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _tolerant_output()
    if argv and argv[0] in SUBCOMMANDS:
        import argparse

        name = argv[0]
        module = importlib.import_module(SUBCOMMANDS[name])
        parser = argparse.ArgumentParser(prog=f"studio {name}", description=module.__doc__)
        module.add_arguments(parser)
        try:
            args = parser.parse_args(argv[1:])
        except SystemExit as exc:  # argparse exits 2 on bad arguments, 0 on --help
            return int(exc.code or 0)
        try:
            return int(module.run(args))
        except BrokenPipeError:
            # the reader went away (`studio validate FILE | head`): stop quietly, as other tools do
            _silence_stdout()
            return 1
    if argv and argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    # The editor sits above this layer; studio.launch sends everything else there.
    print(_usage(), file=sys.stderr)
    return 2


def _tolerant_output() -> None:
    # A terminal that cannot show a character (LANG=C, PYTHONIOENCODING=ascii) gets it
    # escaped instead of a UnicodeEncodeError traceback in the middle of a report.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a closed or detached stream: leave it be
                pass


def _silence_stdout() -> None:
    # Python flushes stdout at exit and would report the broken pipe again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind stdout (a test's capture)
        pass


def _usage() -> str:
    return (
        "usage: studio [FILE] [--screenshot OUT.png]   open the editor\n"
        "       studio validate FILE [--json]          check a graph, print its summary\n"
        "       studio check FILE [--fix [-o OUT]] [--run] [--overfit-batch] [--json]   the network doctor\n"
        "       studio train FILE [--epochs N] [--device D] [--seed S] [--json]\n"
        "       studio export FILE --format python|torchrun|program|onnx [-o OUT] [--quantize int8]\n"
        "       studio evaluate FILE --weights CKPT [--json]   measure trained weights on the validation split\n"
        "       studio predict FILE --weights CKPT INPUT... [--top K] [--json] [--saliency OUT_DIR]\n"
        "       studio lr-find FILE [--steps N] [--start LR] [--end LR] [--json] [-o OUT]   suggest a learning rate\n"
        "       studio import MODULE:CALLABLE --input-shape SHAPE [--kwargs JSON] [-o OUT] [--weights W]\n"
    )


if __name__ == "__main__":
    sys.exit(main())
