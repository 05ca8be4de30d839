"""The bar above the charts: which agent, which window, pause, and the current values."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

WINDOWS = ((60, "1 min"), (300, "5 min"), (900, "15 min"), (3600, "1 h"))
ALL_AGENTS = "All agents"


def chart_actions(parent: QWidget, window: int) -> tuple[QAction, QActionGroup, dict[int, QAction]]:
    """Pause (Ctrl+Shift+P) and one action per window (``window`` checked), for the palette."""
    pause = QAction("Pause charts", parent)
    pause.setObjectName("action-charts-pause")
    pause.setCheckable(True)
    pause.setShortcut(QKeySequence("Ctrl+Shift+P"))
    pause.setToolTip("Freeze the charts to zoom and pan them; data keeps being collected (Ctrl+Shift+P)")
    group = QActionGroup(parent)
    actions: dict[int, QAction] = {}
    for seconds, text in WINDOWS:
        action = QAction(f"Charts: show the last {text}", group)
        action.setObjectName(f"action-charts-window-{seconds}")
        action.setCheckable(True)
        action.setChecked(seconds == window)
        action.setData(seconds)
        actions[seconds] = action
    return pause, group, actions


class ChartControls(QWidget):
    def __init__(self, pause_action: QAction, window: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.agent_box = QComboBox(self)
        self.agent_box.setObjectName("charts-agent")
        self.agent_box.setToolTip("Chart one agent's deliveries, or all of them together")
        self.agent_box.setMinimumContentsLength(12)
        self.window_box = QComboBox(self)
        self.window_box.setObjectName("charts-window")
        self.window_box.setToolTip("How much history the charts show")
        for seconds, text in WINDOWS:
            self.window_box.addItem(f"Last {text}", seconds)
        self.window_box.setCurrentIndex(self.window_index(window))
        self.pause_button = QToolButton(self)
        self.pause_button.setObjectName("charts-pause")
        self.pause_button.setDefaultAction(pause_action)
        self.pause_button.setText("Pause")
        self.now_label = QLabel(self)
        self.now_label.setObjectName("charts-now")
        self.now_label.setTextFormat(Qt.TextFormat.RichText)
        # clipped rather than widening the dock when narrow; the tooltip then has it all
        self.now_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        agent_label = QLabel("A&gent:", self)
        agent_label.setBuddy(self.agent_box)
        window_label = QLabel("&Window:", self)
        window_label.setBuddy(self.window_box)
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(6)
        for widget in (agent_label, self.agent_box, window_label, self.window_box, self.pause_button):
            bar.addWidget(widget)
        bar.addSpacing(12)
        bar.addWidget(self.now_label, 1)

    @staticmethod
    def window_index(seconds: int) -> int:
        return [s for s, _ in WINDOWS].index(seconds)

    def set_agents(self, ids: Sequence[str]) -> bool:
        """Offer ``ids``, keeping the chosen agent if it is still there; True if the choice
        fell back to all agents."""
        current = self.agent_box.currentData()
        self.agent_box.blockSignals(True)
        self.agent_box.clear()
        self.agent_box.addItem(ALL_AGENTS, None)
        for agent_id in ids:
            self.agent_box.addItem(agent_id, agent_id)
        self.agent_box.setCurrentIndex(max(self.agent_box.findData(current), 0))
        self.agent_box.blockSignals(False)
        return current is not None and self.agent_box.currentData() != current

    def show_now(self, stats: Mapping[str, Any], queue: Mapping[str, int], agent: str | None,
                 paused: bool) -> None:
        """The summary over the figure window of ``Monitor.delivery_stats`` (the window roster and
        health use, named here) and the last outbox count."""
        window = stats.get("window") or {}
        name = window.get("name", "figure window")
        parts = []
        ok, failed, unverified = (int(window.get(k) or 0) for k in ("ok", "failed", "unverified"))
        if ok or failed or unverified:
            counted = f"<b>{ok}</b> submitted · <b>{failed}</b> failed"
            if window.get("failure_rate") is not None:
                counted += f" ({window['failure_rate']:.0%})"
            if unverified:
                counted += f" · {unverified} unverified"
            parts.append(counted)
        if window.get("p50") is not None:
            parts.append(f"p50 <b>{_seconds(window['p50'])}</b> · p95 <b>{_seconds(window['p95'])}</b>")
        if not parts:
            parts.append("no deliveries")
        if queue:
            parts.append(f"queue now <b>{queue.get('queued', 0)}</b> (+{queue.get('sending', 0)} sending)")
        who = agent or "all agents"
        text = f"{name[0].upper()}{name[1:]}, {who}: " + " · ".join(parts) + (" · <b>paused</b>" if paused else "")
        self.now_label.setText(text)
        self.now_label.setToolTip(text)


def _seconds(value: float) -> str:
    ms = value * 1000
    if ms < 10:
        return f"{ms:.1f} ms"
    return f"{ms:.0f} ms" if value < 1 else f"{value:.2f} s"
