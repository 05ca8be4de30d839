"""`quarterdeck gui` (also `quarterdeck` alone) and `quarterdeck demo`: open the panel.

When the panel cannot start because of a storage fault (a damaged, full, locked or read-only
outbox), a person who started it from a desktop launcher sees no terminal: the same one line
that goes to stderr is shown in a dialog first, with what to do.
"""
from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from quarterdeck.gui.app import add_arguments

    gui = sub.add_parser("gui", help="open the panel (the default with no command)")
    add_arguments(gui)
    gui.set_defaults(func=run_gui)
    demo = sub.add_parser("demo", help="open the panel with N simulated agent chat windows")
    add_arguments(demo, demo=True)
    demo.set_defaults(func=run_gui)


def run_gui(args: argparse.Namespace) -> int:
    from quarterdeck.cli.common import CliError
    from quarterdeck.gui.app import display_available, main

    if not display_available():
        raise CliError("the panel needs a display (none found: DISPLAY is not set); "
                       "every job is also a command: quarterdeck --help")
    try:
        return main(args=args)
    except Exception as exc:
        from quarterdeck.core.store.faults import translate

        fault = translate(exc)
        if fault is not None:
            show_fault(str(fault), close_after_ms=getattr(args, "quit_after", None))
        raise


def show_fault(line: str, *, close_after_ms: int | None = None) -> None:
    """A modal dialog with ``line`` when the panel's application is up on a real screen."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    app: Any = QApplication.instance()
    if app is None or QApplication.platformName() in ("offscreen", "minimal"):
        return
    box = QMessageBox(QMessageBox.Icon.Critical, "Quarterdeck cannot start",
                      f"The panel cannot start:\n\n{line}")
    box.setObjectName("storage-fault")
    if close_after_ms is not None:
        QTimer.singleShot(close_after_ms, box.accept)
    box.exec()
