"""Quiet hours from the panel, not only from ``quarterdeck notify quiet``.

**Quiet hours…** (in the toolbar's Do not disturb menu and the command palette) asks for a span of
local times, ``FROM-UNTIL`` such as ``22:00-07:00`` (it may cross midnight), or nothing (or
``off``) for none. It is the setting the command line changes. A span that does not read is said
under the field and changes nothing; the dialog stays open to correct it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QMenu, QToolButton, QVBoxLayout, QWidget

from quarterdeck.core.activity.notify_policy import parse_quiet_hours
from quarterdeck.gui.settings import NOTIFY_QUIET

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from quarterdeck.gui.activity.notifications import Notifications

DIALOG_NAME = "quiet-hours-dialog"


def normalise_span(text: str) -> str:
    """``22:00-7:00`` as ``22:00-07:00``; '' for none (blank or ``off``). ValueError if it does not read."""
    text = text.strip()
    if not text or text.lower() == "off":
        return ""
    begin, until = parse_quiet_hours(text)
    return f"{begin:%H:%M}-{until:%H:%M}"


class QuietHoursDialog(QDialog):
    """The span as the settings hold it, to edit; accepted only with a span that reads (or none)."""

    def __init__(self, current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(DIALOG_NAME)
        self.setWindowTitle("Quiet hours")
        self.span = ""
        about = QLabel("No desktop notifications between these local times (the Attention area still "
                       "lists who waits). Leave it empty for none.")
        about.setWordWrap(True)
        self.field = QLineEdit("" if current == "off" else current)
        self.field.setObjectName("quiet-hours-span")
        self.field.setPlaceholderText("FROM-UNTIL, e.g. 22:00-07:00")
        self.problem = QLabel("")
        self.problem.setObjectName("quiet-hours-problem")
        self.problem.setStyleSheet("color: #c62828;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (about, self.field, self.problem, buttons):
            layout.addWidget(widget)
        self.field.textEdited.connect(lambda _text: self.problem.setText(""))

    def accept(self) -> None:
        try:
            self.span = normalise_span(self.field.text())
        except ValueError as exc:
            self.problem.setText(f"Not changed: {exc}")
            return
        super().accept()


def quiet_hours_action(notifications: Notifications, parent: QWidget) -> QAction:
    """The **Quiet hours…** command: opens the dialog; its text shows the span in force."""
    from PySide6.QtGui import QAction

    action = QAction(parent)
    action.setObjectName("notify-quiet")
    action.setToolTip("Desktop notifications off between two local times; also `quarterdeck notify quiet`")

    def show_span() -> None:
        action.setText(f"Quiet hours… ({notifications.prefs.quiet_text()})")

    def ask() -> None:
        dialog = QuietHoursDialog(notifications.prefs.quiet_text(), parent)
        dialog.accepted.connect(lambda: _store(notifications, dialog.span))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    action.triggered.connect(ask)
    notifications.sig_prefs_changed.connect(show_span)
    show_span()
    return action


def _store(notifications: Notifications, span: str) -> None:
    notifications.ctx.settings.set_notify(NOTIFY_QUIET, span)
    notifications.refresh_prefs()
    notifications.ctx.sig_status.emit(f"Quiet hours: {notifications.prefs.quiet_text()}")


def add_to_button(button: QWidget | None, action: QAction) -> None:
    """``action`` in a menu on the toolbar's Do not disturb button (its arrow)."""
    if not isinstance(button, QToolButton):
        return
    menu = QMenu(button)
    menu.addAction(action)
    button.setMenu(menu)
    button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
