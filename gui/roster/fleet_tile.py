"""How one agent's tile is painted in the fleet view (gui.roster.fleet_view says what it shows).

Three lines in a rounded box whose left edge and background take the live status colour:
position and agent with the contract and transport at the right; the status and the breaker;
the last message's age, outcome and first words.
"""
from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from gui.roster.fleet_facts import age_text
from gui.roster.model import (
    AGENT_ID_ROLE,
    BREAKER,
    COLOURS,
    STATUS,
    STATUS_KEY_ROLE,
    TRANSPORT,
    TROUBLE,
)

Index = QModelIndex | QPersistentModelIndex
TILE_HEIGHT = 62
MIN_TILE_WIDTH = 180
SPACING = 4
BAD_OUTCOMES = frozenset({"failed", "typed, not submitted", "not typed", "uncertain"})


class TileDelegate(QStyledItemDelegate):
    """Paints one agent's tile; see the module docstring for what it shows."""

    def __init__(self, view: Any) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(self, _option: QStyleOptionViewItem, _index: Index) -> QSize:
        return self._view.tile_size

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        view = self._view
        agent_id = index.data(AGENT_ID_ROLE)
        status_key = index.siblingAtColumn(STATUS).data(STATUS_KEY_ROLE) or "idle"
        breaker_key = index.siblingAtColumn(BREAKER).data(STATUS_KEY_ROLE) or "closed"
        muted = status_key == "disabled"
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect = QRect(option.rect).adjusted(1, 1, -1, -1)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        background = "#e3f2fd" if selected else TROUBLE.get(status_key, "#ffffff")
        border = "#1565c0" if selected else "#cfd8dc"
        painter.setPen(QPen(QColor(border), 2 if selected else 1))
        painter.setBrush(QColor(background))
        painter.drawRoundedRect(rect, 4, 4)
        painter.fillRect(QRect(rect.left() + 1, rect.top() + 1, 5, rect.height() - 1),
                         QColor(COLOURS.get(status_key, "#9e9e9e")))
        if option.state & QStyle.StateFlag.State_HasFocus and view.hasFocus():
            painter.setPen(QPen(QColor("#1565c0"), 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(3, 3, -3, -3), 3, 3)
        inner = rect.adjusted(11, 3, -6, -3)
        base = QFont(option.font)
        metrics = QFontMetrics(base)
        line = metrics.height() + 1
        grey = QColor("#9e9e9e") if muted else QColor("#607d8b")
        text = QColor("#9e9e9e") if muted else QColor("#212121")

        # line 1: position and agent, then contract and transport at the right
        top = QRect(inner.left(), inner.top(), inner.width(), line)
        right = index.siblingAtColumn(TRANSPORT).data() or ""
        held = view.facts.contracts(agent_id) if view.facts is not None else []
        if held:
            right = f"{held[0].text()}{' +' + str(len(held) - 1) if len(held) > 1 else ''}  ·  {right}"
        right_width = min(metrics.horizontalAdvance(right) + 4, inner.width() // 2)
        painter.setFont(base)
        painter.setPen(QColor("#6a1b9a") if held and not muted else grey)
        painter.drawText(top, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                         metrics.elidedText(right, Qt.TextElideMode.ElideLeft, right_width))
        bold = QFont(base)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text)
        name = f"{index.row() + 1}  {index.data()}"
        painter.drawText(top.adjusted(0, 0, -right_width - 8, 0), int(Qt.AlignmentFlag.AlignVCenter),
                         QFontMetrics(bold).elidedText(name, Qt.TextElideMode.ElideRight,
                                                       top.width() - right_width - 8))
        painter.setFont(base)

        # line 2: live status, then the breaker
        second = QRect(inner.left(), inner.top() + line, inner.width(), line)
        status = index.siblingAtColumn(STATUS).data() or ""
        painter.setPen(QColor(COLOURS.get(status_key, "#9e9e9e")).darker(115) if not muted else grey)
        painter.setBrush(QColor(COLOURS.get(status_key, "#9e9e9e")))
        dot = metrics.ascent() // 2 + 2
        painter.drawEllipse(second.left(), second.center().y() - dot // 2, dot, dot)
        status_rect = second.adjusted(dot + 5, 0, 0, 0)
        painter.drawText(status_rect, int(Qt.AlignmentFlag.AlignVCenter), status)
        breaker = f"breaker {index.siblingAtColumn(BREAKER).data() or ''}"
        painter.setPen(QColor(COLOURS.get(breaker_key, "#9e9e9e")) if breaker_key != "closed" and not muted else grey)
        painter.drawText(status_rect.adjusted(metrics.horizontalAdvance(status) + 12, 0, 0, 0),
                         int(Qt.AlignmentFlag.AlignVCenter),
                         metrics.elidedText(breaker, Qt.TextElideMode.ElideRight,
                                            status_rect.width() - metrics.horizontalAdvance(status) - 12))

        # line 3: the last message: its age, its outcome, its first words
        third = QRect(inner.left(), inner.top() + 2 * line, inner.width(), line)
        last = view.facts.last_message(agent_id) if view.facts is not None else None
        if last is None:
            painter.setPen(grey)
            painter.drawText(third, int(Qt.AlignmentFlag.AlignVCenter), "no message yet")
        else:
            head = f"{age_text(time.time() - last.created)} · {last.outcome}"
            painter.setPen(QColor(COLOURS["failed"]) if last.outcome in BAD_OUTCOMES and not muted else grey)
            painter.drawText(third, int(Qt.AlignmentFlag.AlignVCenter), head)
            rest = third.adjusted(metrics.horizontalAdvance(head) + 8, 0, 0, 0)
            painter.setPen(text)
            painter.drawText(rest, int(Qt.AlignmentFlag.AlignVCenter),
                             metrics.elidedText(f"“{last.excerpt}”", Qt.TextElideMode.ElideRight, rest.width()))
        painter.restore()
