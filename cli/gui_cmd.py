"""`quarterdeck gui` (also `quarterdeck` alone) and `quarterdeck demo`: open the panel."""
from __future__ import annotations


def register(sub) -> None:
    from gui.app import add_arguments

    gui = sub.add_parser("gui", help="open the panel (the default with no command)")
    add_arguments(gui)
    gui.set_defaults(func=run_gui)
    demo = sub.add_parser("demo", help="open the panel with N simulated agent chat windows")
    add_arguments(demo, demo=True)
    demo.set_defaults(func=run_gui)


def run_gui(args) -> int:
    from cli.common import CliError
    from gui.app import display_available, main

    if not display_available():
        raise CliError("the panel needs a display (none found: DISPLAY is not set); "
                       "every job is also a command: quarterdeck --help")
    return main(args=args)

