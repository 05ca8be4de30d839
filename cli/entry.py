# PYTHON_ARGCOMPLETE_OK
"""The ``quarterdeck`` command's entry point: a hook starts without loading the rest.

An agent's hook runs ``quarterdeck hook ...`` on every prompt and turn, and the agent waits for
it. Loading the whole command line (every command, the config model) costs most of a second, so
``quarterdeck hook`` goes straight to :mod:`quarterdeck.cli.hook_cmd` (about a tenth of that);
everything else, including a hook given shared options first, goes through
:func:`quarterdeck.cli.main.main`.
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["hook"]:
        from quarterdeck.cli.hook_cmd import main as hook_main

        return hook_main(args[1:])
    from quarterdeck.cli.main import main as full_main

    return full_main(argv)
