"""How an agent's activity reads and looks: its text ("needs-you · 2 min"), its colour, its dot,
and the reason a tooltip gives ("it waits for permission (Bash) · Notification hook 12 s ago")."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap

from quarterdeck.core.activity.state import Activity, age

# one colour per state: what the captain must act on is warm, quiet states are grey
COLOURS = {
    "working": "#2e7d32", "idle": "#78909c", "needs-you": "#e65100", "rate-limited": "#6a1b9a",
    "stalled": "#b26a00", "offline": "#37474f", "unknown": "#9e9e9e",
}
# a light background for the states that want the captain's eye
TINTS = {"needs-you": "#ffe9d6", "rate-limited": "#f3e5f5", "stalled": "#fff4d6", "offline": "#eceff1"}
QUIET = frozenset({"idle", "unknown", "offline"})  # a hollow ring, not a filled dot
ATTENTION = "needs-you"
STUCK = ("rate-limited", "stalled")  # the Attention panel's second, dimmer group


def colour(state: str | None) -> QColor:
    return QColor(COLOURS.get(state or "unknown", COLOURS["unknown"]))


def activity_text(activity: Activity | None, now: float) -> str:
    """``needs-you · 2 min``; the bare state when since-when is not known."""
    if activity is None:
        return "unknown"
    if activity.since is None:
        return activity.state
    return f"{activity.state} · {age(now - activity.since)}"


def short_text(activity: Activity | None, now: float) -> str:
    """The tile's compact form: ``needs-you 2 min``."""
    return activity_text(activity, now).replace(" · ", " ")


def reason(activity: Activity | None, now: float) -> str:
    """Why, and the signal it rests on: ``it waits for permission (Bash) · Notification hook 12 s ago``."""
    if activity is None:
        return "Nothing heard from this agent yet"
    parts = [activity.why, activity.signal_text(now)]
    if activity.resets_at is not None:
        parts.append(f"the limit resets at {time.strftime('%H:%M', time.localtime(activity.resets_at))}")
    return " · ".join(part for part in parts if part)


def tooltip(activity: Activity | None, now: float) -> str:
    """The reason, then the agent's own words when it said what it waits for."""
    text = reason(activity, now)
    if activity is not None and activity.message:
        text += f"\n“{activity.message}”"
    return text


def waits_for(activity: Activity, now: float) -> str:
    """What the agent waits for, in the Attention panel's words."""
    if activity.state == "rate-limited":
        if activity.resets_at is not None:
            return f"its rate limit to reset ({time.strftime('%H:%M', time.localtime(activity.resets_at))})"
        return "its rate limit to reset"
    if activity.state == "stalled":
        return "a look: " + activity.why
    return activity.why.removeprefix("it waits for ") if activity.why else (activity.waits_for or "you")


def waiting_for(activity: Activity, now: float) -> float:
    """How long it has been in its state, in seconds (0 when not known)."""
    return max(0.0, now - activity.since) if activity.since is not None else 0.0


def role_data(state: str, role: int, *, muted: bool = False) -> object:
    """A table's Activity cell for ``role``: the dot, the text in the state's colour (grey for a
    disabled agent), a light background for the states that want the captain's eye."""
    if role == Qt.ItemDataRole.DecorationRole:
        return dot(state)
    if role == Qt.ItemDataRole.ForegroundRole:
        return QBrush(QColor("#9e9e9e") if muted else colour(state).darker(110))
    if role == Qt.ItemDataRole.BackgroundRole and state in TINTS:
        return QBrush(QColor(TINTS[state]))
    return None


def paint_dot(painted: QColor, filled: bool, darker: int = 120) -> QIcon:
    """A 14 px icon: a dot in ``painted``, or a hollow ring of it when not ``filled`` (the roster's
    status and activity icons)."""
    pixmap = QPixmap(14, 14)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(painted.darker(darker))
    painter.setBrush(painted if filled else Qt.BrushStyle.NoBrush)
    painter.drawEllipse(2, 2, 10, 10)
    painter.end()
    return QIcon(pixmap)


def dot(state: str | None, _cache: dict[str, QIcon] = {}) -> QIcon:  # noqa: B006 (a deliberate cache)
    """A filled dot in the state's colour; a hollow ring for the quiet states."""
    key = state or "unknown"
    icon = _cache.get(key)
    if icon is None:
        icon = _cache[key] = paint_dot(colour(key), key not in QUIET)
    return icon
