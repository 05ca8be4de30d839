"""The one window: panels in docks, the toolbar with the always-visible Stop all, a status bar
with overall health and queue depth, and the command palette.

Layout (which docks, where, their sizes) and geometry are saved with QSettings on close and
restored at start; the window is kept inside its screen (gui/layout.py) and panels are reached
from the keyboard (gui/navigation.py). Stop all is a toolbar button, ``Esc`` anywhere in the
window, and the pointer-in-a-corner fail-safe during a GUI delivery (the transport reports it).
With the roster comes the Attention panel (the agents waiting for the captain); the toolbar's
Attention button (Ctrl+Shift+A) shows how many wait and goes there.

Every dock is laid out at once; a panel is made (its module imported) when its dock first comes in
front, when looked up in ``panels``, or after the first paint, one per turn of the event loop,
Attention first (gui/panelset.py): the panels behind tabs cost nothing before the window shows.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QToolBar, QWidget

from quarterdeck.core.resources import bundled_assets_dir
from quarterdeck.gui.firstpaint import after_first_paint
from quarterdeck.gui.firststart import size_left_column
from quarterdeck.gui.layout import WindowLayout
from quarterdeck.gui.navigation import PanelNavigator
from quarterdeck.gui.palette import CommandPalette
from quarterdeck.gui.panel import Panel, PanelScroll
from quarterdeck.gui.panelset import ATTENTION, PanelKind, PanelSet, panel_class
from quarterdeck.gui.window_status import WindowStatus

if TYPE_CHECKING:  # annotations only
    from quarterdeck.gui.activity.panel import AttentionPanel
    from quarterdeck.gui.context import AppContext

log = logging.getLogger(__name__)

SHORT_SCREEN_PX = 900  # below this available height, fewer panels share the left column by default
ROSTER_SETTLE_MS = 250


def with_attention(panels: Sequence[PanelKind]) -> list[PanelKind]:
    """``panels``, and the Attention panel after them when the roster is among them."""
    names = {kind.NAME for kind in panels}
    return [*panels, ATTENTION] if "roster" in names and "attention" not in names else list(panels)


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, panels: Sequence[PanelKind], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx: AppContext = ctx
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
        self.kinds: dict[str, PanelKind] = {kind.NAME: kind for kind in with_attention(panels)}
        self.panels: PanelSet = PanelSet(list(self.kinds), self._make_panel, self)
        self.docks: dict[str, QDockWidget] = {}
        self._build_actions()
        self._build_toolbar()
        for kind in self.kinds.values():
            self._add_dock(kind)
        self._tabify_defaults()
        self.layout_guard = WindowLayout(self, self.docks, self.ctx.settings)
        self.navigator = PanelNavigator(self, self.panels, self.docks, self.layout_guard, self.reset_layout)
        self._build_menus()
        self._build_status_bar()
        self._link_attention()
        self.palette_dialog = CommandPalette(self)
        self._restore()
        # the roster's wish grows with the fleet (a demo roster arrives after the window is up)
        self.ctx.sig_roster_changed.connect(self._on_ctx_roster_changed)
        from quarterdeck.gui.activity.notifications import install as install_notifications

        install_notifications(self)  # desktop notices, Do not disturb in the toolbar, Mute per agent
        # then (after what the app starts then) the panels behind tabs, Attention first: its count is on the toolbar
        after_first_paint(self, lambda: QTimer.singleShot(0, self, lambda: self.panels.make_the_rest("attention")))

    @Slot(object)
    def _on_ctx_roster_changed(self, _roster: object) -> None:
        if not self.layout_guard.kept():
            # once the roster has laid out its tiles at its width (its wish depends on it)
            QTimer.singleShot(ROSTER_SETTLE_MS, self._size_left_column)

    # -- building ----------------------------------------------------------------------------
    def _build_actions(self) -> None:
        self.status = WindowStatus(self, self.ctx)
        self.stop_action, self.resume_action = self.status.stop_action, self.status.resume_action
        self.skip_action, self.force_action = self.status.skip_action, self.status.force_action
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

    def _add_dock(self, kind: PanelKind) -> None:
        dock = QDockWidget(kind.TITLE, self)
        dock.setObjectName(f"dock-{kind.NAME}")
        dock.setWidget(QWidget(dock))  # until the panel is made
        self.addDockWidget(kind.AREA, dock)
        self.docks[kind.NAME] = dock
        self.panels.make_on_sight(kind.NAME, dock)

    def _make_panel(self, name: str) -> Panel:
        """(``self.panels`` calls it.) Make panel ``name`` and put it in its dock."""
        panel = panel_class(self.kinds[name])(self.ctx)
        dock = self.docks[name]
        stand_in = dock.widget()
        scroll = PanelScroll(panel, dock)  # the whole window still fits a small screen
        dock.setWidget(scroll)
        if stand_in is not None:
            stand_in.deleteLater()
        if dock.isVisible():
            scroll.show()
        for action in panel.commands():
            self.addAction(action)
        if name == "attention":
            self._link_attention_panel(panel)  # type: ignore[arg-type]
        return panel

    def _tabify_defaults(self) -> None:
        self._front_docks: list[QDockWidget] = []
        screen = self.screen()
        short = self._short_screen = screen is not None and screen.availableGeometry().height() < SHORT_SCREEN_PX
        for name, kind in self.kinds.items():
            # on a short screen the health tree joins the history's tabs, leaving the roster room
            tab_with = "history" if short and name == "health" else kind.TAB_WITH
            other = self.docks.get(tab_with)
            if other is not None:
                self.tabifyDockWidget(other, self.docks[name])
                if other not in self._front_docks:
                    self._front_docks.append(other)
        # the first panel of each tab group is in front (once the docks exist on screen)
        QTimer.singleShot(0, self._raise_front_docks)

    @Slot()
    def _raise_front_docks(self) -> None:
        if not self.layout_guard.kept():
            for dock in self._front_docks:
                dock.raise_()
            self._size_left_column()

    def _size_left_column(self) -> None:
        """The roster shows its fleet, the composer stays whole down to Send (gui/firststart.py)."""
        size_left_column(self)

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.quit_action)
        delivery_menu = menu.addMenu("&Delivery")
        delivery_menu.addAction(self.stop_action)
        delivery_menu.addAction(self.resume_action)
        view_menu = menu.addMenu("&View")
        view_menu.setObjectName("menu-view")
        view_menu.addAction(self.palette_action)
        view_menu.addSeparator()
        for action in self.navigator.show_actions.values():
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.navigator.next_action)
        view_menu.addAction(self.navigator.previous_action)
        view_menu.addAction(self.navigator.reset_action)
        self.view_menu = view_menu

    def _build_status_bar(self) -> None:
        self.status.build_status_bar()
        self.health_label, self.queue_label = self.status.health_label, self.status.queue_label
        self.stop_label = self.status.stop_label

    def _link_attention(self) -> None:
        """The toolbar's Attention button goes to the panel and wears its count."""
        self.attention_action = QAction("Attention", self)
        self.attention_action.setObjectName("action-attention")
        self.attention_action.setToolTip("The agents waiting for you (Ctrl+Shift+A)")
        if "attention" not in self.kinds:
            return
        self.attention_action.triggered.connect(lambda: self.focus_panel("attention"))
        self.toolbar.addSeparator()
        self.toolbar.addAction(self.attention_action)
        self.toolbar.widgetForAction(self.attention_action).setObjectName("attention-button")
        if self.panels.is_built("attention"):
            self._link_attention_panel(self.panels.make("attention"))  # type: ignore[arg-type]

    def _link_attention_panel(self, panel: AttentionPanel) -> None:
        if not hasattr(self, "attention_action"):
            return  # made before the toolbar's button (on first sight): _link_attention links it
        panel.sig_count.connect(self._on_attention_count)
        self._on_attention_count(panel.count)

    @Slot(int)
    def _on_attention_count(self, count: int) -> None:
        self.navigator.set_badge("attention", count)
        self.attention_action.setText(f"Attention · {count}" if count else "Attention")
        button = self.toolbar.widgetForAction(self.attention_action)
        if button is not None:
            button.setStyleSheet("QToolButton { background: #e65100; color: white; font-weight: bold;"
                                 " padding: 4px 10px; border-radius: 4px; }" if count else "")

    # -- palette -----------------------------------------------------------------------------
    def all_commands(self) -> list[QAction]:
        """Every command of the window and its panels (the panels not made yet are made now)."""
        self.panels.values()
        return [a for a in self.actions() if a.text() and a is not self.palette_action]

    @Slot()
    def open_palette(self) -> None:
        self.palette_dialog.open_with(self.all_commands(), self.ctx.shown.roster.ids())  # every machine's

    def focus_panel(self, name: str) -> None:
        """Show panel ``name`` in front of its tab group, with the keyboard focus in it."""
        self.navigator.focus_panel(name)

    @Slot()
    def reset_layout(self) -> None:
        """View → Reset layout: this screen's default layout; the saved one is forgotten."""
        self.layout_guard.reset()
        for dock in self._front_docks:
            dock.raise_()
        QTimer.singleShot(0, self._size_left_column)

    def compact(self, keep: tuple[str, ...] = ("roster", "composer", "history"),
                frame: QRect | None = None) -> bool:
        """Part of a screen (the demo swarm takes the rest): roster above the composer, history below
        (a short screen: every panel a tab beside the composer), the others hidden until View shows
        them: what View → Reset layout goes back to, the frame at ``frame``. What the captain makes
        of it is kept apart (``demo/``) for the next demo start: True when its place was restored."""
        self.layout_guard.key = "demo/window"
        for name, dock in self.docks.items():
            dock.setVisible(name in keep)
        if "composer" in self.docks:
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.docks["composer"])
        if "roster" in self.docks and "composer" in self.docks:
            self.splitDockWidget(self.docks["roster"], self.docks["composer"], Qt.Orientation.Vertical)
        if self._short_screen and "composer" in self.docks:
            others = [n for n in self.docks if n not in ("roster", "composer")]
            for name in sorted(others, key=lambda n: n != "history"):  # the history the first of them
                self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.docks[name])  # (tabify needs it)
                self.tabifyDockWidget(self.docks["composer"], self.docks[name])
            self._front_docks = [d for d in self._front_docks if d is not self.docks["composer"]]
            self._front_docks.append(self.docks["composer"])
            self.docks["composer"].raise_()
        self.layout_guard.capture_default(frame)
        for name, action in self.navigator.show_actions.items():
            action.setChecked(name in keep)
        return self._restore_saved()

    def _restore(self) -> None:
        self.layout_guard.capture_default()
        if not self._restore_saved():
            self.setGeometry(self.layout_guard.default_client_rect())

    def _restore_saved(self) -> bool:
        """The kept layout (window and panels) if there is one; whether the window's place was restored."""
        geometry = self.ctx.settings.get_bytes(f"{self.layout_guard.key}/geometry")
        placed = geometry is not None and self.restoreGeometry(geometry)
        state = self.ctx.settings.get_bytes(f"{self.layout_guard.key}/state")
        if state is not None:
            self.restoreState(state)
        return placed

    def closeEvent(self, event: QCloseEvent) -> None:
        self.status.shutdown()
        self.ctx.settings.set(f"{self.layout_guard.key}/geometry", self.saveGeometry())
        self.ctx.settings.set(f"{self.layout_guard.key}/state", self.saveState())
        self.ctx.settings.sync()
        for panel in self.panels.built().values():
            panel.shutdown()
        super().closeEvent(event)
