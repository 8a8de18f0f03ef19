"""The ``studio`` command: a subcommand goes to the headless CLI, anything else opens the editor.

It sits above both, so the CLI layer never imports Qt and ``studio validate``
runs on a server without it.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from studio.cli.main import SUBCOMMANDS, main as cli_main

    if argv and (argv[0] in SUBCOMMANDS or argv[0] in ("-h", "--help")):
        return cli_main(argv)
    from studio.ui.app import main as ui_main

    return int(ui_main(argv))


if __name__ == "__main__":
    sys.exit(main())
