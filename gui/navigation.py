"""Moving between panels from the keyboard, and the View menu's panel commands.

F6 / Shift+F6 (and Ctrl+Tab / Ctrl+Shift+Tab) move the keyboard focus to the next / previous
panel on screen; Ctrl+1 … Ctrl+9 show panel N (in the View menu's order), bring it in front of its
tab group and put the focus in it; a panel in ``PANEL_KEYS`` has its own key as well (Attention:
Ctrl+Shift+A). The View menu's entries do the same (a tick marks an open panel; a dock's own close
button closes it), and the command palette lists them as "View: <panel>" together with "View:
Reset layout". ``set_badge`` puts a count on a panel's name (its View entry and its dock's title
and tab): "Attention (2)".
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QWidget

from quarterdeck.gui.palette import PALETTE_TEXT

if TYPE_CHECKING:  # annotations only
    from quarterdeck.gui.layout import WindowLayout

PANEL_KEYS = {"attention": "Ctrl+Shift+A"}  # a panel's own key, besides Ctrl+N


def focus_into(panel: QWidget) -> bool:
    """Put the keyboard focus on the widget inside ``panel`` that last had it, else on the first
    one in the tab order that takes focus; False if ``panel`` has none."""
    last = panel.focusWidget()
    if last is not None and last is not panel and _takes_focus(last) and panel.isAncestorOf(last):
        last.setFocus(Qt.FocusReason.ShortcutFocusReason)
        return True
    widget = panel.nextInFocusChain()
    for _ in range(2000):
        if widget is None or widget is panel:
            break
        if panel.isAncestorOf(widget) and _takes_focus(widget):
            widget.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return True
        widget = widget.nextInFocusChain()
    return False


def in_front(widget: QWidget) -> bool:
    """Whether ``widget`` can be seen: shown, and not a dock tab behind another (Qt keeps those
    shown, moved out of the window)."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


def _takes_focus(widget: QWidget) -> bool:
    return (widget.isVisible() and widget.isEnabled()
            and bool(widget.focusPolicy() & Qt.FocusPolicy.TabFocus))


class PanelNavigator(QObject):
    """The panel actions of ``window``: one per panel (Ctrl+N), next/previous panel, reset layout."""

    def __init__(self, window: QMainWindow, panels: Mapping[str, QWidget], docks: dict[str, QDockWidget],
                 layout: WindowLayout, reset: Callable[[], None]) -> None:
        super().__init__(window)
        self.window, self.panels, self.docks, self.layout = window, panels, docks, layout
        self.show_actions: dict[str, QAction] = {}
        self.titles = {name: dock.windowTitle() for name, dock in docks.items()}
        for number, (name, dock) in enumerate(docks.items(), start=1):
            action = QAction(dock.windowTitle(), window, checkable=True)
            action.setObjectName(f"action-view-{name}")
            action.setProperty(PALETTE_TEXT, f"View: {dock.windowTitle()}")
            action.setToolTip(f"Show the {dock.windowTitle()} panel and put the keyboard focus in it")
            keys = [QKeySequence(f"Ctrl+{number}")] if number <= 9 else []
            if name in PANEL_KEYS:
                keys.append(QKeySequence(PANEL_KEYS[name]))
            action.setShortcuts(keys)
            action.triggered.connect(lambda _checked=False, n=name: self.focus_panel(n))
            dock.visibilityChanged.connect(lambda _visible, a=action, d=dock: a.setChecked(not d.isHidden()))
            action.setChecked(not dock.isHidden())
            self.show_actions[name] = action
        self.next_action = self._action("Next panel", "next-panel", ("F6", "Ctrl+Tab"), self.focus_next)
        self.previous_action = self._action("Previous panel", "previous-panel", ("Shift+F6", "Ctrl+Shift+Tab"),
                                            self.focus_previous)
        self.reset_action = self._action("Reset layout", "reset-layout", (), reset)
        self.reset_action.setProperty(PALETTE_TEXT, "View: Reset layout")
        self.reset_action.setToolTip("Back to the default layout for this screen; the saved layout is forgotten")
        for action in self.actions():
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(action)

    def _action(self, text: str, name: str, keys: tuple[str, ...], slot: Callable[[], object]) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(f"action-{name}")
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.triggered.connect(slot)
        return action

    def actions(self) -> list[QAction]:
        return [*self.show_actions.values(), self.next_action, self.previous_action, self.reset_action]

    def set_badge(self, name: str, count: int) -> str:
        """Show ``count`` after panel ``name``'s title ("Attention (2)"; the bare title at 0);
        the title shown."""
        dock, action = self.docks.get(name), self.show_actions.get(name)
        if dock is None or action is None:
            return ""
        title = self.titles[name] + (f" ({count})" if count else "")
        dock.setWindowTitle(title)
        action.setText(title)
        return title

    # -- where the focus is ----------------------------------------------------------------------
    def _made(self) -> Mapping[str, QWidget]:
        """The panels made so far (one not made yet is neither on screen nor has the focus)."""
        built = getattr(self.panels, "built", None)
        return built() if built is not None else self.panels

    def on_screen(self) -> list[str]:
        """The panels a person can see now (open, and in front of their tab group), in menu order."""
        return [name for name, panel in self._made().items() if in_front(panel)]

    def current(self) -> str | None:
        """The panel holding the keyboard focus, if any."""
        widget = QApplication.focusWidget()
        for name, panel in self._made().items():
            if widget is not None and (widget is panel or panel.isAncestorOf(widget)):
                return name
        return None

    # -- moving it -------------------------------------------------------------------------------
    @Slot()
    def focus_next(self) -> None:
        self._step(1)

    @Slot()
    def focus_previous(self) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        names = self.on_screen()
        if not names:
            return
        here = self.current()
        index = names.index(here) if here in names else (-1 if delta > 0 else 0)
        self.focus_panel(names[(index + delta) % len(names)])

    def focus_panel(self, name: str) -> None:
        """Show panel ``name``, bring it in front and put the keyboard focus in it."""
        dock, panel = self.docks.get(name), self.panels.get(name)
        if dock is None or panel is None:
            return
        self.layout.show_dock(dock)
        self.show_actions[name].setChecked(True)
        self.window.activateWindow()
        if not focus_into(panel):
            QTimer.singleShot(0, lambda: focus_into(panel) or dock.setFocus(Qt.FocusReason.ShortcutFocusReason))
