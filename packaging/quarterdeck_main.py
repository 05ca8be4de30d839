"""Entry point of the frozen (PyInstaller) Quarterdeck: the ``quarterdeck`` command, plus ``-m``.

A frozen app has no Python interpreter behind ``sys.executable``, yet the panel starts its demo
swarm as ``sys.executable -m quarterdeck.gui.demo.swarm ...`` (gui/demo/__init__.py) so that the
swarm's windows live in a process of their own, and GUI delivery may leave the user's clipboard
with ``sys.executable -m quarterdeck.core.desktop.clipboard.keeper`` (where xclip is missing).
This entry point therefore accepts ``-m MODULE ARGS`` for the modules Quarterdeck itself runs as
processes, and refuses any other module: the frozen app
is not a general Python interpreter and must not pretend to be one. Everything else goes to
``quarterdeck.cli.main.main``, exactly what the ``quarterdeck`` console script runs.
"""
from __future__ import annotations

import importlib
import sys

# module run by `-m` -> the function in it that takes argv and returns an exit code
RUNNABLE = {"quarterdeck.gui.demo.swarm": "main", "quarterdeck.core.desktop.clipboard.keeper": "main"}


def run(argv: list[str]) -> int:
    """Dispatch ``argv`` (without the program name) and return the exit code."""
    if argv[:1] != ["-m"]:
        from quarterdeck.cli.main import main

        return main(argv)
    module_name = argv[1] if len(argv) > 1 else ""
    if module_name not in RUNNABLE:
        print(f"quarterdeck: -m runs only Quarterdeck's own helpers ({', '.join(sorted(RUNNABLE))}), "
              f"not {module_name or 'nothing'!r}", file=sys.stderr)
        return 2
    module = importlib.import_module(module_name)
    # what `python -m` leaves the module to see: its own arguments after the program name
    sys.argv = [sys.argv[0], *argv[2:]]
    return getattr(module, RUNNABLE[module_name])(argv[2:])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
