"""The one window: panels in docks, the toolbar with the always-visible Stop all, a status bar
with overall health and queue depth, and the command palette.

Layout (which docks, where, their sizes) and geometry are saved with QSettings on close and
restored at start. Stop all is a toolbar button, ``Esc`` anywhere in the window, and the
pointer-in-a-corner fail-safe during a GUI delivery (the transport reports it).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QToolBar, QWidget

from core.resources import bundled_assets_dir
from core.service import service_health
from gui.palette import CommandPalette
from gui.panel import Panel, PanelScroll

log = logging.getLogger(__name__)

STATUS_COLOURS = {"UP": "#2e7d32", "DEGRADED": "#f9a825", "DOWN": "#c62828", "OUT_OF_SERVICE": "#ef6c00",
                  "UNKNOWN": "#757575"}


SHORT_SCREEN_PX = 900  # below this available height, fewer panels share the left column by default


class MainWindow(QMainWindow):
    def __init__(self, ctx: Any, panels: Sequence[type[Panel]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._paused_on: Any = None  # the paused delivery's event, while GUI delivery waits
        self.setObjectName("quarterdeck-main")
        self.setWindowTitle("Quarterdeck")
        icon = bundled_assets_dir() / "quarterdeck.svg"
        if icon.exists():
            self.setWindowIcon(QIcon(str(icon)))
        self.setDockNestingEnabled(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        # the right column (the composer) runs the full height; the bottom tabs share the left
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.panels: dict[str, Panel] = {}
        self.docks: dict[str, QDockWidget] = {}
        self._remember_layout = True  # compact() turns it off: that layout is not kept
        self._build_actions()
        self._build_toolbar()
        for cls in panels:
            self._add_panel(cls)
        self._tabify_defaults()
        self._build_menus()
        self._build_status_bar()
        self.palette_dialog = CommandPalette(self)
        self._restore()
        ctx.delivery.sig_halted.connect(self._on_delivery_halted)
        ctx.delivery.sig_serving.connect(self._refresh_status)  # not "DOWN" until the next tick
        ctx.delivery.sig_stopped.connect(self._on_delivery_stopped)
        ctx.delivery.sig_resumed.connect(self._on_delivery_resumed)
        ctx.delivery.sig_delivery_event.connect(self._on_delivery_event)
        ctx.sig_status.connect(self._on_ctx_status)

    # -- building ----------------------------------------------------------------------------
    def _build_actions(self) -> None:
        self.stop_action = QAction("Stop all", self)
        self.stop_action.setObjectName("action-stop-all")
        self.stop_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.stop_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.stop_action.setToolTip("Stop every delivery now, in every Quarterdeck process on this outbox, "
                                    "and cancel the queue (Esc)")
        self.stop_action.triggered.connect(self.ctx.delivery.stop_all)
        self.resume_action = QAction("Resume", self)
        self.resume_action.setObjectName("action-resume")
        self.resume_action.setToolTip("Deliver again after Stop all, here and in every Quarterdeck process it stopped "
                                       "(sending a message also resumes)")
        self.resume_action.setEnabled(False)
        self.resume_action.triggered.connect(self._on_resume_action_triggered)
        self.skip_action, self.force_action = (self._paused_action(name, tip, act) for name, tip, act in (
            ("Skip", "Cancel the delivery GUI delivery paused on, and go on with the others", "skip"),
            ("Send anyway", "Send the paused delivery over the draft in its agent's input (the draft is "
                            "cleared)", "force")))
        self.palette_action = QAction("Command palette…", self)
        self.palette_action.setObjectName("action-palette")
        self.palette_action.setShortcut(QKeySequence("Ctrl+K"))
        self.palette_action.triggered.connect(self.open_palette)
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)
        for action in (self.stop_action, self.resume_action, self.palette_action, self.quit_action):
            self.addAction(action)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main", self)
        bar.setObjectName("toolbar-main")
        bar.setMovable(False)
        bar.addAction(self.stop_action)
        stop_button = bar.widgetForAction(self.stop_action)
        stop_button.setObjectName("stop-all-button")
        stop_button.setStyleSheet("QToolButton { background: #c62828; color: white; font-weight: bold;"
                                  " padding: 4px 14px; border-radius: 4px; }")
        bar.addAction(self.resume_action)
        bar.addAction(self.skip_action)
        bar.addAction(self.force_action)
        bar.addSeparator()
        bar.addAction(self.palette_action)
        self.toolbar = bar
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

    def _add_panel(self, cls: type[Panel]) -> None:
        panel = cls(self.ctx)
        dock = QDockWidget(cls.TITLE, self)
        dock.setObjectName(f"dock-{cls.NAME}")
        dock.setWidget(PanelScroll(panel, dock))  # the whole window still fits a small screen
        self.addDockWidget(cls.AREA, dock)
        self.panels[cls.NAME] = panel
        self.docks[cls.NAME] = dock
        for action in panel.commands():
            self.addAction(action)

    def _tabify_defaults(self) -> None:
        self._front_docks: list[QDockWidget] = []
        screen = self.screen()
        short = screen is not None and screen.availableGeometry().height() < SHORT_SCREEN_PX
        for name, panel in self.panels.items():
            # on a short screen the health tree joins the history's tabs, leaving the roster room
            tab_with = "history" if short and name == "health" else type(panel).TAB_WITH
            other = self.docks.get(tab_with)
            if other is not None:
                self.tabifyDockWidget(other, self.docks[name])
                if other not in self._front_docks:
                    self._front_docks.append(other)
        # the first panel of each tab group is in front (once the docks exist on screen)
        QTimer.singleShot(0, self._raise_front_docks)

    @Slot()
    def _raise_front_docks(self) -> None:
        if self.ctx.settings.get_bytes("window/state") is None:
            for dock in self._front_docks:
                dock.raise_()
            self._size_left_column()

    def _size_left_column(self) -> None:
        """The roster as tall as it would like, up to a quarter of the window, as far as the
        minimums of the panels below it allow."""
        roster = self.panels.get("roster")
        if roster is not None and self.docks["roster"].isVisible():
            self.resizeDocks([self.docks["roster"]], [min(roster.sizeHint().height(), self.height() // 4)],
                             Qt.Orientation.Vertical)

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.quit_action)
        delivery_menu = menu.addMenu("&Delivery")
        delivery_menu.addAction(self.stop_action)
        delivery_menu.addAction(self.resume_action)
        view_menu = menu.addMenu("&View")
        view_menu.addAction(self.palette_action)
        view_menu.addSeparator()
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.health_label = QLabel("Health: …")
        self.health_label.setObjectName("status-health")
        self.queue_label = QLabel("Queue: …")
        self.queue_label.setObjectName("status-queue")
        self.stop_label = QLabel("")
        self.stop_label.setObjectName("status-stopped")
        bar.addPermanentWidget(self.stop_label)
        bar.addPermanentWidget(self.queue_label)
        bar.addPermanentWidget(self.health_label)
        self._health = service_health(self.ctx.delivery.worker, self.ctx.roster)
        self.ctx.sig_roster_changed.connect(self._on_ctx_roster_changed)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(1000)
        self._status_timer.timeout.connect(self._refresh_status)
        self._status_timer.start()
        self._refresh_status()

    # -- status ------------------------------------------------------------------------------
    @Slot()
    def _refresh_status(self) -> None:
        tree = self._health()
        status = tree["status"]
        score = tree.get("score")
        score_text = "" if score is None else f" · score {score}"
        colour = STATUS_COLOURS.get(status, "#757575")
        self.health_label.setText(f"Health: <b style='color:{colour}'>{status}</b>{score_text}")
        self.ctx.jobs.run(self.ctx.store.counts_by_state, self._show_counts, self._show_counts_error,
                          owner=self)

    def _show_counts(self, counts: dict[str, int]) -> None:
        queued, sending = counts.get("queued", 0), counts.get("sending", 0)
        uncertain = counts.get("uncertain", 0)
        text = f"Queue: {queued} queued · {sending} sending"
        if uncertain:
            text += f" · <b style='color:#ef6c00'>{uncertain} uncertain</b>"
        self.queue_label.setText(text)

    def _show_counts_error(self, error: BaseException) -> None:
        self.queue_label.setText(f"Queue: unavailable ({type(error).__name__})")

    @Slot(object)
    def _on_ctx_roster_changed(self, roster: Any) -> None:
        self._health = service_health(self.ctx.delivery.worker, roster)

    @Slot()
    def _on_delivery_halted(self) -> None:
        self.stop_label.setText("<b style='color:#c62828'>STOPPED</b>")
        self.resume_action.setEnabled(True)

    @Slot(object)
    def _on_delivery_event(self, event: Any) -> None:
        if event.state == "paused":
            self.stop_label.setText("<b style='color:#ef6c00'>GUI PAUSED</b>")
            self.stop_label.setToolTip(event.detail)
            self.resume_action.setEnabled(True)
            self._paused_on = event
            self.skip_action.setEnabled(True)
            self.force_action.setEnabled("holds a draft" in event.detail)
            self.statusBar().showMessage(f"{event.agent_id}: {event.detail} (Resume to go on, Skip to leave it out)",
                                         30_000)

    @Slot(int)
    def _on_delivery_stopped(self, cancelled: int) -> None:
        self.statusBar().showMessage(f"Stop all: {cancelled} queued deliveries cancelled", 10_000)

    @Slot()
    def _on_resume_action_triggered(self) -> None:
        self.ctx.delivery.resume(everywhere=True)

    def _paused_action(self, name: str, tip: str, act: str) -> QAction:
        """An action on the delivery GUI delivery paused on: ``act`` names the delivery bridge's call."""
        action = QAction(name, self, objectName=f"action-{act}", toolTip=tip, enabled=False)
        action.triggered.connect(lambda: self._paused_on and getattr(self.ctx.delivery, act)(self._paused_on))
        return action

    @Slot()
    def _on_delivery_resumed(self) -> None:
        self.stop_label.setText("")
        self.resume_action.setEnabled(False)
        self.skip_action.setEnabled(False)
        self.force_action.setEnabled(False)
        self._paused_on = None

    @Slot(str)
    def _on_ctx_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 10_000)

    # -- palette -----------------------------------------------------------------------------
    def all_commands(self) -> list[QAction]:
        return [a for a in self.actions() if a.text() and a is not self.palette_action]

    @Slot()
    def open_palette(self) -> None:
        self.palette_dialog.open_with(self.all_commands(), self.ctx.roster.ids())

    def focus_panel(self, name: str) -> None:
        dock = self.docks.get(name)
        if dock is not None:
            dock.show()
            dock.raise_()
            self.panels[name].setFocus()

    def compact(self, keep: tuple[str, ...] = ("roster", "composer", "history")) -> None:
        """Half a screen (the demo swarm takes the other half): roster above the composer, history
        below, the other panels hidden (View brings them back). Not remembered."""
        self._remember_layout = False
        for name, dock in self.docks.items():
            dock.setVisible(name in keep)
        if "composer" in self.docks:
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.docks["composer"])
        if "roster" in self.docks and "composer" in self.docks:
            self.splitDockWidget(self.docks["roster"], self.docks["composer"], Qt.Orientation.Vertical)

    # -- layout memory -----------------------------------------------------------------------
    def _restore(self) -> None:
        settings = self.ctx.settings
        geometry = settings.get_bytes("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1400, 900)
        state = settings.get_bytes("window/state")
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self._status_timer.stop()
        if self._remember_layout:
            self.ctx.settings.set("window/geometry", self.saveGeometry())
            self.ctx.settings.set("window/state", self.saveState())
        self.ctx.settings.sync()
        for panel in self.panels.values():
            panel.shutdown()
        super().closeEvent(event)
