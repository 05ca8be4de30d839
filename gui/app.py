"""Starting the panel: arguments, the QApplication, the session, the window.

``main(argv)`` is what ``quarterdeck`` (no subcommand), ``quarterdeck gui`` and ``python -m
gui`` run. The roster is ``--roster``, else the user's ``agents.yaml``; with neither (a first
start) the demo swarm is started and its roster adopted once its windows are up. A roster file
with errors is reported and left untouched; the panel opens with no agents.

The window is painted before anything it can do without: the panels behind tabs are made after
(gui/mainwindow.py), and only after the first paint do the background jobs run (the history's
first page, the queue counts: the first job waits for the paint), the delivery thread start, the
agents' panes and windows get watched and pyqtgraph's cycle collector (until then no cycle is
collected at all, so none is collected on a job thread) take over. bench/bench_panel_start.py
measures it.
"""
from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from quarterdeck import __version__
from quarterdeck.core.logsetup import setup_logging
from quarterdeck.core.paths import default_roster_file, path_option

if TYPE_CHECKING:
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.session import Session
    from quarterdeck.gui.context import AppContext
    from quarterdeck.gui.demo import DemoSwarm
    from quarterdeck.gui.mainwindow import MainWindow

log = logging.getLogger("quarterdeck")
PAINT_WAIT_S = 10.0  # the longest the background jobs wait for the window's first paint

PANELS = (  # the window takes them as quarterdeck.gui.panelset.PANEL_SPECS (made when needed)
    "quarterdeck.gui.roster.panel:RosterPanel",
    "quarterdeck.gui.composer.panel:ComposerPanel",
    "quarterdeck.gui.ruleedit.panel:RulesPanel",
    "quarterdeck.gui.charts.panel:ChartsPanel",
    "quarterdeck.gui.charts.health:HealthPanel",
    "quarterdeck.gui.history.panel:HistoryPanel",
    "quarterdeck.gui.contracts.panel:ContractsPanel",
    "quarterdeck.gui.onboarding.panel:OnboardingPanel",
    "quarterdeck.gui.deadletters.panel:DeadLettersPanel",
)


def load_panels(specs: tuple[str, ...] = PANELS) -> list[type]:
    """The panel classes, every module imported now."""
    import importlib

    classes = []
    for spec in specs:
        module, _, name = spec.partition(":")
        classes.append(getattr(importlib.import_module(module), name))
    return classes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quarterdeck gui", description="Open the Quarterdeck panel.")
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser, *, demo: bool = False) -> None:
    parser.add_argument("--data-dir", type=path_option, metavar="DIR", help="folder of the outbox and history")
    if demo:
        parser.add_argument("--agents", dest="demo", type=int, default=4, metavar="N",
                            help="how many simulated agents (default 4)")
    else:
        parser.add_argument("--roster", type=path_option, metavar="PATH", help="roster file (default: agents.yaml)")
        parser.add_argument("--demo", type=int, nargs="?", const=4, metavar="N",
                            help="start N simulated agents (default 4) and use them as the roster")
        parser.add_argument("--broker", metavar="URL", help="the broker connecting relays on other machines "
                            "(default: broker_url in the configuration): stop all and resume reach them too")
    parser.add_argument("--quit-after", type=int, metavar="MS", help=argparse.SUPPRESS)
    parser.add_argument("--screenshot", type=Path, metavar="PNG", help=argparse.SUPPRESS)


def _install_qt_hooks() -> None:
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    levels = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}
    qt_log = logging.getLogger("qt")
    qInstallMessageHandler(lambda kind, _ctx, text: qt_log.log(levels.get(kind, logging.INFO), text))
    sys.excepthook = _show_exception


def _show_exception(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    log.critical("unhandled error", exc_info=(kind, error, tb))
    from PySide6.QtWidgets import QApplication, QMessageBox

    # offscreen nobody can close a dialog: a startup error would hang the process for ever
    if QApplication.instance() is not None and QApplication.platformName() not in ("offscreen", "minimal"):
        QMessageBox.critical(None, "Quarterdeck: unexpected error",
                             f"{kind.__name__}: {error}\n\n{_details()}")


def _details() -> str:
    from quarterdeck.core.logsetup import current_log

    where = current_log()
    return f"Details are in {where}." if where is not None else "Details were written to standard error."


def open_session(args: argparse.Namespace) -> tuple[Session, Path | None, str | None]:
    """The session, the roster file it edits (None: not saved) and a problem to show, if any."""
    from quarterdeck.core.roster.problems import RosterError
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.session import Session

    roster_path = args.roster or default_roster_file()
    problem = None
    roster = None
    if args.demo is not None or not roster_path.exists():
        roster, roster_path = Roster(), None
    else:
        try:
            from quarterdeck.core.roster.roster import load_roster

            roster = load_roster(roster_path)
        except (RosterError, OSError) as exc:
            problem = f"The roster {roster_path} could not be loaded; it was left untouched.\n\n{exc}"
            roster, roster_path = Roster(), None
    session = Session.open(config_file=getattr(args, "config", None), roster=roster,
                           data_dir=args.data_dir, broker_url=getattr(args, "broker", None),
                           relays=args.demo is None,  # the demo's simulated swarm stays on this machine
                           relays_later=True)  # the broker is read after the first paint, off the UI thread
    return session, roster_path, problem


def display_available() -> bool:
    """Whether Qt can open a window here (always off Linux; on Linux a display or a set platform)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None, args: argparse.Namespace | None = None) -> int:
    started = time.perf_counter()
    gc.disable()  # no cycle is collected on a job thread; the GUI thread's collector starts after the first paint
    tightened: list[Path] = []
    if args is None:  # started as ``python -m quarterdeck.gui``, not through the quarterdeck command
        from quarterdeck.core.paths import NoHome, check_overrides, private_umask, quarterdeck_dirs, tighten

        args = build_parser().parse_args(argv)
        try:  # as the command checks them
            check_overrides()
        except NoHome as exc:
            print(f"quarterdeck gui: error: {exc}", file=sys.stderr)
            return 2
        private_umask()  # what the panel creates is private (0600/0700), as with the command
        tightened = tighten(quarterdeck_dirs())
    setup_logging(args.data_dir)  # quarterdeck.core.logsetup: rotating, private, secrets redacted
    if tightened:
        logging.getLogger(__name__).info("made %d files and folders private to you (0600/0700)", len(tightened))
    from PySide6.QtCore import QCoreApplication, QTimer

    from quarterdeck.gui.importtax import lighten

    lighten()  # PySide6's hook reads every module imported from now on: by its bytes, not inspect
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QMessageBox

    from quarterdeck.core.resources import bundled_assets_dir

    QCoreApplication.setOrganizationName("Quarterdeck")
    QCoreApplication.setApplicationName("Quarterdeck")
    QCoreApplication.setApplicationVersion(__version__)
    running = QApplication.instance()  # typed as the core application; a panel's is a QApplication
    app = running if isinstance(running, QApplication) else QApplication(sys.argv[:1])
    app.setDesktopFileName("quarterdeck")  # the Wayland app id: matches packaging/quarterdeck.desktop
    app.setWindowIcon(QIcon(str(bundled_assets_dir() / "quarterdeck.svg")))
    _install_qt_hooks()
    steps = {"main": started, "Qt": time.perf_counter()}  # for the startup probe

    from quarterdeck.gui.context import AppContext
    from quarterdeck.gui.firstpaint import after_first_paint
    from quarterdeck.gui.mainwindow import MainWindow
    from quarterdeck.gui.panelset import PANEL_SPECS

    session, roster_path, problem = open_session(args)
    steps["session"] = time.perf_counter()
    demo = _start_demo(args, roster_path, problem)
    ctx = AppContext(session, roster_path=roster_path, demo=demo)
    painted = threading.Event()  # the background jobs (the store: history's first page...) wait for it
    ctx.jobs.run(lambda: painted.wait(PAINT_WAIT_S))
    window = MainWindow(ctx, PANEL_SPECS)
    steps["window"] = time.perf_counter()
    if demo is not None:
        _beside_the_swarm(window, demo.count)
    watching: list[Any] = []  # PanelWatching, once started
    if os.environ.get("QUARTERDECK_STARTUP_PROBE"):
        from quarterdeck.gui.startprobe import probe_first_paint

        probe_first_paint(window, steps)
    after_first_paint(window, painted.set)
    after_first_paint(window, lambda: _after_first_paint(ctx, watching, started, args))
    window.show()
    steps["shown"] = time.perf_counter()
    if problem:
        QTimer.singleShot(0, lambda: QMessageBox.warning(window, "Roster not loaded", problem))
    if demo is not None:
        _adopt_demo_roster(ctx, demo)
    if args.screenshot is not None:
        QTimer.singleShot(args.quit_after or 1500, lambda: (window.grab().save(str(args.screenshot)),
                                                            window.close()))
    elif args.quit_after is not None:
        QTimer.singleShot(args.quit_after, window.close)
    try:
        return app.exec()
    finally:
        painted.set()
        for watcher in watching:
            watcher.shutdown()
        ctx.shutdown()


def _after_first_paint(ctx: AppContext, watching: list[Any], started: float, args: argparse.Namespace) -> None:
    """What the panel starts once its window is on the screen."""
    from quarterdeck.gui.activity.watching import PanelWatching
    from quarterdeck.gui.collector import collect_on_the_gui_thread

    log.info("panel up in %.0f ms (first paint)", (time.perf_counter() - started) * 1000)
    collect_on_the_gui_thread()  # quarterdeck.gui.collector: never from a job thread
    ctx.start()
    watcher = PanelWatching(ctx)  # the agents' panes and windows, unless another process watches
    watcher.start()
    watching.append(watcher)
    if args.demo is None:  # `quarterdeck send` on this data folder hands its message to the panel (core.handoff)
        from quarterdeck.core.handoff.server import start_handoff

        taking = start_handoff(ctx.session, roster=ctx.roster_path, config=getattr(args, "config", None),
                               broker=getattr(args, "broker", None), wake=ctx.delivery.notify, who="the panel")
        watching.extend([taking] if taking is not None else [])


def _beside_the_swarm(window: MainWindow, count: int) -> None:
    """The demo's chat windows share the right half of the screen: the panel's frame takes the
    left half (also its place after View → Reset layout), so neither covers the other."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QGuiApplication

    from quarterdeck.gui.demo.layout import Rect, free_area

    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return
    geometry = screen.availableGeometry()
    area = free_area(count, Rect(geometry.x(), geometry.y(), geometry.width(), geometry.height()))
    if area is not None:
        frame = QRect(area.x, area.y, area.width, area.height)
        kept = window.compact(frame=frame)  # the demo's layout as the captain left it, if kept
        window.layout_guard.place_frame(frame, move=not kept)


def _start_demo(args: argparse.Namespace, roster_path: Path | None, problem: str | None) -> DemoSwarm | None:
    wanted = args.demo is not None or (roster_path is None and problem is None)
    if not wanted or (not os.environ.get("DISPLAY") and sys.platform.startswith("linux")):
        # the simulated agents are typed into through X; offscreen there is nothing to type into
        return None
    from quarterdeck.core.paths import user_data_dir
    from quarterdeck.gui.demo import DemoSwarm

    return DemoSwarm.start(args.demo or 4, user_data_dir() / "demo")


def _adopt_demo_roster(ctx: AppContext, demo: DemoSwarm) -> None:
    from quarterdeck.core.roster.roster import load_roster

    ctx.sig_status.emit(f"Starting {demo.count} demo agents…")

    def ready(roster: Roster) -> None:
        ctx.set_roster(roster)
        ctx.sig_status.emit(f"Demo swarm: {len(roster.agents)} simulated agents ready; try a broadcast")

    def failed(error: BaseException) -> None:
        ctx.sig_status.emit(f"The demo swarm did not start: {error}")

    ctx.jobs.run(lambda: load_roster(demo.wait_ready(30.0)), ready, failed)
