"""Colours of the charts and the health panel, in a light and a dark variant.

The plots take their background and text colours from the widget palette, so they sit in the
app's theme; curve, state and status colours come in two variants because a hue that reads well
on white (a deep blue) vanishes on near-black and the other way round.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

from quarterdeck.core.resilience.breaker_types import State

_LIGHT = {
    "finished": "#1f6fb4", "failed": "#d32f2f", "p50": "#2e8b3a", "p95": "#e67e00",
    "p99": "#8e44ad", "failure_rate": "#d32f2f", "queued": "#1f6fb4", "sending": "#b8860b",
}
_DARK = {
    "finished": "#64b5f6", "failed": "#ff6e6e", "p50": "#69d283", "p95": "#ffb347",
    "p99": "#c792ea", "failure_rate": "#ff6e6e", "queued": "#64b5f6", "sending": "#e6c25c",
}
STATE_COLOURS = {
    State.CLOSED: "#43a047", State.HALF_OPEN: "#f9a825", State.OPEN: "#e53935",
    State.FORCED_OPEN: "#8e24aa", State.DISABLED: "#9e9e9e",
}
STATE_NAMES = {
    State.CLOSED: "closed", State.HALF_OPEN: "half-open", State.OPEN: "open",
    State.FORCED_OPEN: "forced open", State.DISABLED: "disabled",
}
STATUS_COLOURS = {
    "UP": "#2e7d32", "DEGRADED": "#b7791f", "OUT_OF_SERVICE": "#ef6c00", "DOWN": "#c62828",
    "UNKNOWN": "#757575",
}
_DARK_STATUS = {
    "UP": "#66bb6a", "DEGRADED": "#ffca28", "OUT_OF_SERVICE": "#ffa726", "DOWN": "#ef5350",
    "UNKNOWN": "#bdbdbd",
}


@dataclass(frozen=True)
class Theme:
    dark: bool
    background: QColor
    foreground: QColor
    grid_alpha: float

    def curve(self, key: str) -> str:
        return (_DARK if self.dark else _LIGHT)[key]

    def status(self, status: str) -> str:
        """A status colour for text on the panel's background."""
        return (_DARK_STATUS if self.dark else STATUS_COLOURS).get(status, "#757575")


def theme_of(widget: QWidget) -> Theme:
    palette = widget.palette()
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    dark = base.lightness() < 128
    return Theme(dark, base, text, 0.25 if dark else 0.18)
