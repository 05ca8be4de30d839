"""How one agent's tile is painted in the fleet view (quarterdeck.gui.roster.fleet_view says what it shows).

A rounded box whose left edge and background take the live status colour. Roomy tiles have
three lines: position and agent, with the contract and transport at the right; the status and a
breaker that is not closed, with the agent's activity at the right (a pill in the activity's colour, filled when
it wants the captain: needs-you, rate-limited, stalled); the last message's age, outcome and first
words. Dense tiles (when the panel is too short for every roomy tile) fold that into two: the
status joins the agent's line, and the activity, the contract and a breaker that is not closed go
to the right of the message line. A tile whose activity just changed pulses with the table's row.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from quarterdeck.gui.activity import cells as activity_look
from quarterdeck.gui.roster.fleet_facts import age_text
from quarterdeck.gui.roster.model import (
    ACTIVITY,
    AGENT_ID_ROLE,
    BREAKER,
    COLOURS,
    MACHINE,
    STATUS,
    STATUS_KEY_ROLE,
    TRANSPORT,
    TROUBLE,
)

if TYPE_CHECKING:
    from quarterdeck.gui.roster.fleet_view import FleetView

Index = QModelIndex | QPersistentModelIndex
TILE_HEIGHT = 62
DENSE_HEIGHT = 42
MIN_TILE_WIDTH = 180
SPACING = 4
BAD_OUTCOMES = frozenset({"failed", "typed, not submitted", "not typed", "uncertain", "expired"})
LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class TileDelegate(QStyledItemDelegate):
    """Paints one agent's tile; ``view.tile_size`` says how big, ``view.dense`` how many lines."""

    def __init__(self, view: FleetView) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(self, _option: QStyleOptionViewItem, _index: Index) -> QSize:
        return self._view.tile_size

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        view = self._view
        key = index.sibling(index.row(), STATUS).data(STATUS_KEY_ROLE) or "idle"
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRect(option.rect).adjusted(1, 1, -1, -1)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setPen(QPen(QColor("#1565c0" if selected else "#cfd8dc"), 2 if selected else 1))
        state = index.sibling(index.row(), ACTIVITY).data(STATUS_KEY_ROLE) or "unknown"
        painter.setBrush(QColor("#e3f2fd" if selected else TROUBLE.get(key, activity_look.TINTS.get(state, "#ffffff"))))
        painter.drawRoundedRect(rect, 4, 4)
        flash = index.data(Qt.ItemDataRole.BackgroundRole)  # the activity just changed: a pulse
        if flash is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(flash)
            painter.drawRoundedRect(rect, 4, 4)
        painter.fillRect(QRect(rect.left() + 1, rect.top() + 1, 5, rect.height() - 1),
                         QColor(COLOURS.get(key, "#9e9e9e")))
        if option.state & QStyle.StateFlag.State_HasFocus and view.hasFocus():
            painter.setPen(QPen(QColor("#1565c0"), 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(8, 3, -3, -3), 3, 3)  # clear of the status edge
        Tile(painter, QFont(option.font), rect.adjusted(11, 3, -6, -3), index, view, key).paint(view.dense)
        painter.restore()


class Tile:
    """The text of one tile, line by line."""

    def __init__(self, painter: QPainter, font: QFont, inner: QRect, index: Index, view: FleetView, key: str) -> None:
        self.p, self.font, self.inner, self.index, self.key = painter, font, inner, index, key
        self.metrics = QFontMetrics(font)
        self.line = self.metrics.height() + 1
        self.muted = key == "disabled"
        self.grey = QColor("#9e9e9e") if self.muted else QColor("#607d8b")
        self.text = QColor("#9e9e9e") if self.muted else QColor("#212121")
        agent_id = index.data(AGENT_ID_ROLE)
        self.held = view.facts.contracts(agent_id) if view.facts is not None else []
        self.last = view.facts.last_message(agent_id) if view.facts is not None else None

    def cell(self, column: int) -> QModelIndex:
        """The agent's cell in ``column`` (the delegate is handed column 0)."""
        return self.index.sibling(self.index.row(), column)

    def row(self, n: int) -> QRect:
        return QRect(self.inner.left(), self.inner.top() + n * self.line, self.inner.width(), self.line)

    def paint(self, dense: bool) -> None:
        if dense:  # the status joins the name; the contract and a breaker that is not closed go below
            # the status comes before the transport (which the tooltip also names)
            status = self.cell(STATUS).data() or ""
            bold = QFont(self.font)
            bold.setBold(True)
            needed = (QFontMetrics(bold).horizontalAdvance(f"{self.index.row() + 1}  {self.index.data()}")
                      + self.metrics.horizontalAdvance(f"{status}{self.transport()}") + self.metrics.ascent() + 40)
            rest = self.name_line(self.row(0), self.transport() if needed <= self.inner.width() else "")
            self.status(rest.adjusted(8, 0, 0, 0), with_breaker=False)
            notes = [self.contract_text()] if self.held else []
            if self.breaker_worth_saying():
                notes.append(self.breaker_text())
            self.message(self.activity(self.row(1)), right="  ·  ".join(notes))
        else:
            right = f"{self.contract_text()}  ·  {self.transport()}" if self.held else self.transport()
            self.name_line(self.row(0), right)
            self.status(self.activity(self.row(1)), with_breaker=True)
            self.message(self.row(2), right="")

    def activity(self, rect: QRect) -> QRect:
        """The activity pill at the right of ``rect``; returns the room left of it."""
        cell = self.cell(ACTIVITY)
        state = cell.data(STATUS_KEY_ROLE) or "unknown"
        text = (cell.data() or state).replace(" · ", " ")
        width = min(self.metrics.horizontalAdvance(text) + 10, rect.width() // 2)
        pill = QRect(rect.right() - width, rect.top() + 1, width, rect.height() - 2)
        colour = activity_look.colour(state)
        loud = state in activity_look.TINTS and state != "offline"
        self.p.setPen(QPen(colour, 1))
        self.p.setBrush(colour if loud else QColor("#ffffff"))
        self.p.drawRoundedRect(pill, pill.height() // 2, pill.height() // 2)
        self.p.setPen(QColor("#ffffff") if loud else colour.darker(110))
        self.p.drawText(pill, int(Qt.AlignmentFlag.AlignCenter), self.elided(text, width - 8))
        return rect.adjusted(0, 0, -width - 6, 0)

    def transport(self) -> str:
        """How it is reached, after its machine when relays on other machines join (``M2 · inbox``). A
        relay that stopped answering is named alone: the Activity pill says for how long (``offline 50 s``),
        and the Machine column's "last seen" would push the name out of the tile."""
        machine = self.cell(MACHINE).data() or ""
        if self.cell(MACHINE).data(STATUS_KEY_ROLE) == "stale":
            machine = machine.split(" · ", 1)[0]
        how = self.cell(TRANSPORT).data() or ""
        return f"{machine} · {how}" if machine else how

    def contract_text(self) -> str:
        more = f" +{len(self.held) - 1}" if len(self.held) > 1 else ""
        return f"{self.held[0].text()}{more}" if self.held else ""

    def elided(self, text: str, width: int, mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> str:
        return self.metrics.elidedText(text, mode, max(0, width))

    def name_line(self, rect: QRect, right: str) -> QRect:
        """Position and agent at the left, ``right`` at the right; returns the room between."""
        right_width = min(self.metrics.horizontalAdvance(right) + 4, rect.width() // 2) if right else 0
        self.p.setFont(self.font)
        self.p.setPen(QColor("#6a1b9a") if self.held and "#" in right and not self.muted else self.grey)
        self.p.drawText(rect, RIGHT, self.elided(right, right_width, Qt.TextElideMode.ElideLeft))
        bold = QFont(self.font)
        bold.setBold(True)
        bold_metrics = QFontMetrics(bold)
        room = rect.width() - right_width - 8
        name = bold_metrics.elidedText(f"{self.index.row() + 1}  {self.index.data()}", Qt.TextElideMode.ElideRight,
                                       room)
        self.p.setFont(bold)
        self.p.setPen(self.text)
        self.p.drawText(rect, LEFT, name)
        self.p.setFont(self.font)
        used = bold_metrics.horizontalAdvance(name)
        return QRect(rect.left() + used, rect.top(), max(0, room - used), rect.height())

    def breaker_key(self) -> str:
        return self.cell(BREAKER).data(STATUS_KEY_ROLE) or "closed"

    def breaker_worth_saying(self) -> bool:
        """Not when closed (the normal state; the Breaker column says it), nor when the status already says it."""
        return self.breaker_key() != "closed" and self.key not in ("breaker_open", "half_open", "forced_open")

    def breaker_text(self) -> str:
        return f"breaker {self.cell(BREAKER).data() or ''}"

    def status(self, rect: QRect, *, with_breaker: bool) -> None:
        colour = QColor(COLOURS.get(self.key, "#9e9e9e"))
        self.p.setPen(colour.darker(115) if not self.muted else self.grey)
        self.p.setBrush(colour)
        dot = self.metrics.ascent() // 2 + 2
        self.p.drawEllipse(rect.left(), rect.center().y() - dot // 2, dot, dot)
        rect = rect.adjusted(dot + 5, 0, 0, 0)
        status = self.elided(self.cell(STATUS).data() or "", rect.width())
        self.p.drawText(rect, LEFT, status)
        if with_breaker and self.breaker_worth_saying():
            self.p.setPen(QColor(COLOURS.get(self.breaker_key(), "#9e9e9e")) if not self.muted else self.grey)
            rest = rect.adjusted(self.metrics.horizontalAdvance(status) + 12, 0, 0, 0)
            self.p.drawText(rest, LEFT, self.elided(self.breaker_text(), rest.width()))

    def message(self, rect: QRect, *, right: str) -> None:
        """The last message: its age, its outcome, its first words (and ``right`` at the right)."""
        if right:
            width = min(self.metrics.horizontalAdvance(right) + 4, rect.width() // 2)
            closed = self.breaker_key() == "closed"
            self.p.setPen(QColor("#6a1b9a") if closed else QColor(COLOURS.get(self.breaker_key(), "#9e9e9e")))
            self.p.drawText(rect, RIGHT, self.elided(right, width))
            rect = rect.adjusted(0, 0, -width - 6, 0)
        last = self.last
        if last is None:
            self.p.setPen(self.grey)
            self.p.drawText(rect, LEFT, self.elided("no message yet", rect.width()))
            return
        head = self.elided(f"{age_text(time.time() - last.created)} · {last.outcome}", rect.width())
        self.p.setPen(QColor(COLOURS["failed"]) if last.outcome in BAD_OUTCOMES and not self.muted else self.grey)
        self.p.drawText(rect, LEFT, head)
        rest = rect.adjusted(self.metrics.horizontalAdvance(head) + 8, 0, 0, 0)
        self.p.setPen(self.text)
        self.p.drawText(rest, LEFT, self.elided(f"“{last.excerpt}”", rest.width()))
