"""The Health panel: the overall status, its headline ("3/4 reachable · Agent-2 forced open by
you"), the score, and every component with its reason.

It shows what ``quarterdeck.core.service.service_health`` reports for this process (the delivery
worker and each enabled agent's reach and failure rate over the figure window, named on screen),
the same tree a headless service serves on ``/health``; status, score and headline follow from
each other. The check is in-memory (breaker snapshots, the monitor's windows), so it runs on
the GUI thread: once a second, and at once when a breaker changes state, deliveries are stopped,
paused or resumed, or the roster changes (the health function is rebuilt for the new agents).

Tree items are made once per component and updated in place; rows only move when the roster's
order changes. Enter or a double-click on an agent focuses it everywhere (``sig_agent_focused``).
"""
from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QIcon, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from quarterdeck.core.monitor.fleet import HealthRow, health_rows
from quarterdeck.core.service import service_health
from quarterdeck.gui.charts.style import STATUS_COLOURS, theme_of
from quarterdeck.gui.panel import Panel
from quarterdeck.gui.roster.placement import relays_text

if TYPE_CHECKING:  # annotations only
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
    from quarterdeck.core.resilience import BreakerEvent
    from quarterdeck.gui.context import AppContext

REFRESH_MS = 1000
COLUMNS = ("Component", "Status", "Why and details")
NAMES = {"dispatcher": "Delivery worker", "agents": "Agents"}
PATH_ROLE = Qt.ItemDataRole.UserRole + 1


class HealthPanel(Panel):
    NAME = "health"
    TITLE = "Health"
    AREA = Qt.DockWidgetArea.LeftDockWidgetArea

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.theme = theme_of(self)
        self.tree_data: dict[str, Any] = {}
        self.items: dict[tuple[str, ...], QTreeWidgetItem] = {}
        self._icons: dict[str, QIcon] = {}
        self._health = service_health(ctx.delivery.worker, ctx.fleet)  # with relays: every machine's agents
        self._health_ids = ctx.fleet.ids()
        self._build()
        self._build_actions()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        ctx.sig_fleet_changed.connect(self._on_ctx_fleet_changed)
        ctx.delivery.sig_breaker_event.connect(self._on_delivery_breaker_event)
        ctx.delivery.sig_halted.connect(self._on_delivery_changed)
        ctx.delivery.sig_stopped.connect(self._on_delivery_stopped)
        ctx.delivery.sig_resumed.connect(self._on_delivery_changed)
        ctx.delivery.sig_delivery_event.connect(self._on_delivery_event)
        self._timer.start()
        self.refresh()

    def _build(self) -> None:
        self.status_label = QLabel(self)
        self.status_label.setObjectName("health-status")
        self.status_label.setToolTip("Overall: UP when every agent can be reached and is doing well, DEGRADED "
                                     "when some cannot or fail often, DOWN / OUT OF SERVICE when none can "
                                     "(stopped, paused, breakers open or forced open)")
        self.score_label = QLabel(self)
        self.score_label.setObjectName("health-score")
        self.score_label.setToolTip("Fleet score 0-100: each enabled agent counts 1 when up (or not yet "
                                    "judged), 0.5 when degraded, 0 when it cannot be reached; 100 only "
                                    "when UP, 0 when DOWN or OUT OF SERVICE")
        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("health-summary")
        self.summary_label.setWordWrap(True)
        self.window_label = QLabel(self)
        self.window_label.setObjectName("health-window")
        self.window_label.setStyleSheet("QLabel { color: #616161; }")
        header = QHBoxLayout()
        header.setSpacing(10)
        header.addWidget(self.status_label)
        header.addWidget(self.score_label)
        header.addStretch(1)
        header.addWidget(self.window_label)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("health-tree")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setToolTip("Enter or double-click an agent to work with it")
        head = self.tree.header()
        head.setStretchLastSection(True)
        head.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((140, 125)):
            self.tree.setColumnWidth(column, width)
        self.tree.itemActivated.connect(self._on_tree_item_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.summary_label)  # the headline, on a line of its own: it can be long
        layout.addWidget(self.tree, 1)

    def _build_actions(self) -> None:
        self.refresh_action = QAction("Refresh health now", self)
        self.refresh_action.setObjectName("action-health-refresh")
        self.refresh_action.triggered.connect(self.refresh)
        self.copy_action = QAction("Copy health report (JSON)", self)
        self.copy_action.setObjectName("action-health-copy")
        self.copy_action.setToolTip("The health tree as served on /health, for a bug report")
        self.copy_action.triggered.connect(self._on_copy_triggered)
        self.tree.addAction(self.copy_action)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    def commands(self) -> list[QAction]:
        return [self.refresh_action, self.copy_action]

    # -- refreshing --------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        tree = self._health()
        self.tree_data = tree
        self._show_header(tree)
        self._show_rows(health_rows(tree))

    def _show_header(self, tree: dict[str, Any]) -> None:
        status = str(tree["status"])
        style = (f"QLabel {{ background: {STATUS_COLOURS.get(status, '#757575')}; color: white; "
                 "font-weight: bold; font-size: 13pt; padding: 3px 10px; border-radius: 4px; }")
        if self.status_label.styleSheet() != style:
            self.status_label.setStyleSheet(style)  # before the text: its size follows the styled font
        if self.status_label.text() != status.replace("_", " "):
            self.status_label.setText(status.replace("_", " "))
            self.status_label.updateGeometry()
        score = tree.get("score")
        self.score_label.setText("score <b>–</b>" if score is None else f"score <b>{score}</b>/100")
        agents = tree.get("components", {}).get("agents", {}).get("components", {})
        counts = Counter(str(part["status"]) for part in agents.values())
        order = ("UP", "DEGRADED", "DOWN", "OUT_OF_SERVICE", "UNKNOWN")
        parts = [f"{counts[s]} {s.lower().replace('_', ' ')}" for s in order if counts[s]]
        headline = tree.get("headline") or "no enabled agents"
        headline = headline[0].upper() + headline[1:]
        if (machines := self.ctx.session.machines) is not None:  # relays on other machines: up or silent
            headline += f"\nRelays: {relays_text(machines.relays)}"
        self.summary_label.setText(headline)
        window = tree.get("window") or "the figure window"
        self.summary_label.setToolTip(f"{headline}\n{len(agents)} agents: {', '.join(parts) or 'none'}\n"
                                      f"Failure rates over the {window}")
        self.window_label.setText(f"failure rates: {window}")

    def _show_rows(self, rows: list[HealthRow]) -> None:
        wanted = {row.path for row in rows}
        for path in [p for p in self.items if p not in wanted]:
            gone = self.items.pop(path)
            parent = gone.parent() or self.tree.invisibleRootItem()
            parent.removeChild(gone)
        added = False
        for row in rows:
            item = self.items.get(row.path)
            if item is None:
                item = self._add_item(row.path)
                added = True
            self._fill(item, row)
        self._keep_order(rows)
        if added:
            self.tree.resizeColumnToContents(0)

    def _add_item(self, path: tuple[str, ...]) -> QTreeWidgetItem:
        parent = self.items.get(path[:-1]) or self.tree.invisibleRootItem()
        item = QTreeWidgetItem(parent)
        item.setText(0, NAMES.get(path[-1], path[-1]) if len(path) == 1 else path[-1])
        item.setData(0, PATH_ROLE, list(path))
        bold = QFont(item.font(1))
        bold.setBold(True)
        item.setFont(1, bold)
        item.setExpanded(True)
        self.items[path] = item
        return item

    def _fill(self, item: QTreeWidgetItem, row: HealthRow) -> None:
        shown = row.status.replace("_", " ")
        if item.text(1) != shown:
            item.setText(1, shown)
            item.setIcon(1, self._icon(row.status))
            item.setForeground(1, QBrush(QColor(self.theme.status(row.status))))
        text = " — ".join(part for part in (row.reason, row.details) if part)
        if item.text(2) != text:
            item.setText(2, text)
            item.setToolTip(2, "\n".join(part for part in (row.reason, row.details.replace(" · ", "\n"))
                                         if part))

    def _keep_order(self, rows: list[HealthRow]) -> None:
        """Children follow the rows' order (the roster's); moved only when it changed."""
        parents: dict[tuple[str, ...], list[QTreeWidgetItem]] = {}
        for row in rows:
            parents.setdefault(row.path[:-1], []).append(self.items[row.path])
        for parent_path, children in parents.items():
            parent = self.items.get(parent_path) or self.tree.invisibleRootItem()
            current = [child for n in range(parent.childCount()) if (child := parent.child(n)) is not None]
            if current != children:
                for child in current:
                    parent.removeChild(child)
                parent.addChildren(children)
                for child in children:
                    child.setExpanded(True)

    def _icon(self, status: str) -> QIcon:
        icon = self._icons.get(status)
        if icon is None:
            pixmap = QPixmap(10, 10)
            pixmap.fill(QColor(STATUS_COLOURS.get(status, "#757575")))
            icon = self._icons[status] = QIcon(pixmap)
        return icon

    # -- slots -------------------------------------------------------------------------------
    @Slot()
    def _on_timer_timeout(self) -> None:
        if self.isVisible():
            self.refresh()

    @Slot()
    def _on_ctx_fleet_changed(self) -> None:
        fleet = self.ctx.fleet
        if fleet.ids() != self._health_ids:  # the relays are read every 2 s: mostly nothing new
            self._health, self._health_ids = service_health(self.ctx.delivery.worker, fleet), fleet.ids()
        self.refresh()

    @Slot(object)
    def _on_delivery_breaker_event(self, event: BreakerEvent) -> None:
        if event.kind in ("state_transition", "reset"):
            self.refresh()

    @Slot()
    def _on_delivery_changed(self) -> None:
        self.refresh()

    @Slot(int)
    def _on_delivery_stopped(self, _cancelled: int) -> None:
        self.refresh()

    @Slot(object)
    def _on_delivery_event(self, event: DeliveryEvent) -> None:
        if event.state == "paused":  # GUI delivery waits: its agents cannot be reached now
            self.refresh()

    @Slot(QTreeWidgetItem, int)
    def _on_tree_item_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        path = item.data(0, PATH_ROLE)
        if path and len(path) == 2 and path[0] == "agents":
            self.ctx.sig_agent_focused.emit(path[1])

    @Slot()
    def _on_copy_triggered(self) -> None:
        QApplication.clipboard().setText(json.dumps(self.tree_data, indent=2, default=str))
        self.ctx.sig_status.emit("Health report copied")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def shutdown(self) -> None:
        self._timer.stop()
