"""Live per-recipient chips right under the message box, ending with the send's outcome line.

The progress table sits below the fold; the captain watches the text box. Each chip is one
recipient of the last send: its agent and current state (the colour says which), its tooltip the
full detail (verdict, evidence, reason, delivery id). The chips wrap to as many lines as the fleet
needs, and end with one more: while the send runs, the tally so far; once nothing is queued or in
flight, the outcome (``3/4 submitted · 1 unverified``), red when any recipient did not get it. On
the chips' line rather than under it, so a send costs the composer one line on a small screen.
Chips are labels, not a focusable view, so Tab goes straight past them.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLabel, QLayout, QLayoutItem, QVBoxLayout, QWidget, QWidgetItem

from quarterdeck.core.compose.progress import ProgressRow, SendProgress

CHIP_COLOURS = {"waiting": "#00897b", "expired": "#795548",  # sent "when idle": held; not idle in time
                "queued": "#616161", "sending": "#1565c0", "retrying": "#ef6c00", "paused": "#ef6c00",
                "submitted": "#2e7d32", "confirmed by agent": "#1b5e20", "unverified": "#00838f",
                "failed": "#c62828", "cancelled": "#757575", "uncertain": "#8e24aa"}


def chip_state(row: ProgressRow) -> str:
    """The colour key of a row: its outcome when delivered (submitted / unverified), else its state."""
    return row.outcome if row.state == "delivered" else row.state


def chip_text(row: ProgressRow) -> str:
    """Short: ``Agent-1 · submitted ✓``, ``Agent-2 · retrying (2)``, ``Agent-3 · failed ✗``."""
    if row.state == "delivered":
        word = f"{row.outcome} ✓" if row.confirmed else row.outcome
    elif row.state == "failed":
        word = f"{row.outcome if row.verdict else 'failed'} ✗"
    elif row.state == "retrying":
        word = f"retrying ({row.attempt + 1})"
    else:
        word = row.state
    return f"{row.agent_id} · {word}"


def chip_tip(row: ProgressRow) -> str:
    lines = [f"{row.agent_id}: {row.text()}"]
    if row.state == "delivered" and not row.evidence:
        lines.append("No evidence recorded for this delivery.")
    if row.retries:
        lines.append(f"Retried {row.retries} time{'s' if row.retries != 1 else ''} from the composer.")
    lines.append(f"Delivery #{row.delivery_id}")
    return "\n".join(lines)


class FlowLayout(QLayout):
    """Children left to right, wrapping onto new lines; the height follows the width."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gap = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def insert_widget(self, index: int, widget: QWidget) -> None:
        """``widget`` at ``index`` in the flow (``addWidget`` only appends)."""
        self.addChildWidget(widget)
        self._items.insert(index, QWidgetItem(widget))
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize(0, 0)
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _place(self, rect: QRect, *, move: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            if item.isEmpty():  # a hidden widget takes no room
                continue
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and line > 0:
                x, y, line = rect.x(), y + line + self._gap, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._gap
            line = max(line, hint.height())
        return y + line - rect.y()


class ProgressChips(QWidget):
    """The chips and the outcome line of ``progress`` (redrawn by ``refresh``)."""

    def __init__(self, progress: SendProgress, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer-chips")
        self._progress = progress
        self._box = QWidget()
        self._flow = FlowLayout(self._box)
        self.outcome = QLabel()
        self.outcome.setObjectName("composer-outcome")
        self._flow.addWidget(self.outcome)  # always the last of the flow
        self.chips: list[QLabel] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._box)
        self.refresh()

    def refresh(self, *_: object) -> None:
        rows = self._progress.rows
        while len(self.chips) > len(rows):
            chip = self.chips.pop()
            self._flow.removeWidget(chip)
            chip.deleteLater()
        while len(self.chips) < len(rows):
            chip = QLabel()
            chip.setObjectName("composer-chip")
            chip.setTextFormat(Qt.TextFormat.PlainText)
            self._flow.insert_widget(len(self.chips), chip)
            chip.show()
            self.chips.append(chip)
        for chip, row in zip(self.chips, rows, strict=True):
            colour = CHIP_COLOURS.get(chip_state(row), "#616161")
            chip.setText(chip_text(row))
            chip.setToolTip(chip_tip(row))
            chip.setProperty("state", chip_state(row))
            chip.setStyleSheet(f"QLabel {{ background: {colour}; color: white; border-radius: 9px;"
                               " padding: 1px 8px; }")
        self._box.setVisible(bool(rows))
        outcome = self._progress.outcome()
        if outcome is not None:
            text, bad = outcome
            self.outcome.setText(text)
            self.outcome.setStyleSheet(f"QLabel {{ color: {'#c62828' if bad else '#2e7d32'}; font-weight: bold; }}")
            self.outcome.setProperty("bad", bad)
        else:
            self.outcome.setText(self._progress.summary())
            self.outcome.setStyleSheet("QLabel { color: #555; }")
            self.outcome.setProperty("bad", None)
        self.outcome.setVisible(bool(self.outcome.text()))
        self._box.updateGeometry()
        self.updateGeometry()

    def texts(self) -> list[str]:
        return [chip.text() for chip in self.chips]
