"""The composer's "Wait until the agent is idle" box and how long the message may wait.

Ticked, the send stores each delivery ``waiting``: it is typed only once its agent's hooks or
watchers say the agent is idle (never mid-turn, never at a permission prompt), and it ends
``expired``, never typed, when that has not happened within the time given (``30m`` by default;
``90s``, ``2h`` and the like, as ``quarterdeck send --when idle --ttl`` reads them). The time is
the captain's text, carried in the draft; a time that does not read is refused at send with the
reason, and the field turns red as soon as it is typed.
"""
from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QWidget

from quarterdeck.core.compose.when_idle import DEFAULT_TTL, format_duration, wait_problem

PRESETS = ("5m", "15m", "30m", "1h", "2h", "8h")
BAD_STYLE = "QComboBox { border: 1px solid #c62828; }"


class WhenIdleBox(QWidget):
    """A checkbox and an editable time to live (see the module docstring)."""

    sig_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check = QCheckBox("Wait until the agent is &idle")
        self.check.setObjectName("composer-when-idle")
        self.check.setToolTip("Type the message only when the agent is idle (its hooks or watchers say so): "
                              "never mid-turn or at a prompt. Agents whose activity is unknown are not idle.")
        self.ttl = QComboBox()
        self.ttl.setObjectName("composer-when-idle-ttl")
        self.ttl.setEditable(True)
        self.ttl.addItems(PRESETS)
        self.ttl.setCurrentText(format_duration(DEFAULT_TTL))
        self.ttl.setMinimumContentsLength(4)
        self.ttl.setToolTip("How long the message may wait, e.g. 90s, 30m, 2h; an agent still not idle "
                            "then never gets it (the delivery ends 'expired')")
        self.ttl.setEnabled(False)
        self.for_label = QLabel("for up to")
        self.for_label.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.check)
        layout.addWidget(self.for_label)
        layout.addWidget(self.ttl)
        self.check.toggled.connect(self._on_check_toggled)
        self.ttl.editTextChanged.connect(self._on_ttl_edit_text_changed)

    def wanted(self) -> str | None:
        """The time to live as written when the box is ticked, else None (send at once)."""
        return self.ttl.currentText().strip() if self.check.isChecked() else None

    def problem(self) -> str:
        """Why the time to live does not read ("" when it does, or when the box is not ticked)."""
        return wait_problem(self.wanted()) or ""

    @Slot(bool)
    def _on_check_toggled(self, checked: bool) -> None:
        self.ttl.setEnabled(checked)
        self.for_label.setEnabled(checked)
        self._show_problem()
        self.sig_changed.emit()

    @Slot(str)
    def _on_ttl_edit_text_changed(self, _text: str) -> None:
        self._show_problem()
        self.sig_changed.emit()

    def _show_problem(self) -> None:
        problem = self.problem()
        self.ttl.setStyleSheet(BAD_STYLE if problem else "")
        editor = self.ttl.lineEdit()
        if editor is not None:  # always, the combo box being editable
            editor.setToolTip(problem or self.ttl.toolTip())
