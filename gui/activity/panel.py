"""The Attention panel: every agent that waits for the captain, longest waiting first, and one key
to go to it.

The first group is the agents that need the captain (needs-you: a permission, a question, a
login); below it, dimmer, the agents that are stuck without asking (rate-limited, stalled). Each
row: the agent, what it waits for, how long, and its own message. Enter (or a double-click, or
**Go to agent**) brings the selected agent to the front: a GUI agent's window is raised and
focused, a tmux agent's pane selected (quarterdeck.core.activity.bring, run off the UI thread). The
status line says what was done; when no tmux client shows the pane, the ``tmux attach`` command
to run is shown, ready to copy. ``sig_count`` carries how many need the captain (the window's
badge).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from quarterdeck.core.activity.state import Activity, age
from quarterdeck.gui.activity import cells
from quarterdeck.gui.activity.feed import feed_for
from quarterdeck.gui.activity.go_line import GoLine
from quarterdeck.gui.panel import Panel

if TYPE_CHECKING:
    from quarterdeck.core.activity.bring import Brought
    from quarterdeck.gui.context import AppContext

COLUMNS = ("Agent", "Waits for", "Waiting", "Message")
AGENT, WAITS, WAITING, MESSAGE = range(len(COLUMNS))
ID_ROLE = Qt.ItemDataRole.UserRole + 1
GROUPS = (("needs", "Needs you"), ("stuck", "Stuck: rate-limited or stalled"))
DIM = QColor("#757575")


def attention_rows(activities: dict[str, Activity], roster_ids: list[str]) -> list[tuple[str, Activity]]:
    """(group, activity) of each roster agent to list: needs-you first, then rate-limited and
    stalled; longest waiting first within each."""
    def waited(a: Activity) -> tuple[float, int]:
        return (a.since if a.since is not None else float("inf"), roster_ids.index(a.agent_id))

    listed = [activities[i] for i in roster_ids if i in activities]
    needs = sorted((a for a in listed if a.state == cells.ATTENTION), key=waited)
    stuck = sorted((a for a in listed if a.state in cells.STUCK), key=waited)
    return [("needs", a) for a in needs] + [("stuck", a) for a in stuck]


class AttentionPanel(Panel):
    TITLE = "Attention"
    NAME = "attention"
    AREA = Qt.DockWidgetArea.LeftDockWidgetArea
    TAB_WITH = "history"

    sig_count = Signal(int)  # how many agents need the captain (needs-you)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.count = 0
        self.rows: list[tuple[str, Activity]] = []
        self._build()
        self.feed = feed_for(ctx)
        self.feed.sig_activities.connect(self._on_feed_activities)
        self.feed.sig_problem.connect(self._on_feed_problem)
        if self.feed.latest_at is not None:
            self.show_activities(self.feed.latest, self.feed.latest_at)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        self.empty = QLabel("No agent is waiting for you.")
        self.empty.setObjectName("attention-empty")
        self.empty.setStyleSheet("color: #607d8b; padding: 4px;")
        layout.addWidget(self.empty)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("attention-list")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(10)
        self.tree.setItemsExpandable(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setAccessibleName("Agents waiting for you")
        header = self.tree.header()
        header.setStretchLastSection(True)
        for column in (AGENT, WAITS, WAITING):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.groups: dict[str, QTreeWidgetItem] = {}
        for key, title in GROUPS:
            group = QTreeWidgetItem(self.tree, [title])
            group.setFirstColumnSpanned(True)
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = QFont(self.tree.font())
            font.setBold(True)
            group.setFont(AGENT, font)
            if key == "stuck":
                group.setForeground(AGENT, QBrush(DIM))
            group.setExpanded(True)
            self.groups[key] = group
        self.tree.itemActivated.connect(self._on_item_activated)
        self.tree.currentItemChanged.connect(self._on_current_changed)
        layout.addWidget(self.tree, 1)
        self.foot = GoLine(self.go, self.ctx.sig_status.emit, self)
        self.go_button, self.status, self.attach = self.foot.go_button, self.foot.status, self.foot.attach
        layout.addWidget(self.foot)
        self.go_action = QAction("Go to the agent that waits longest", self)
        self.go_action.setObjectName("action-attention-go")
        self.go_action.setToolTip("Bring the agent at the top of the Attention list to the front")
        self.go_action.triggered.connect(self.go_first)
        self._update_visibility()

    # -- Panel interface -------------------------------------------------------------------------
    def commands(self) -> list[QAction]:
        return [self.go_action]

    # -- showing ---------------------------------------------------------------------------------
    @Slot(object, float)
    def _on_feed_activities(self, activities: dict[str, Activity], now: float) -> None:
        self.show_activities(activities, now)

    def show_activities(self, activities: dict[str, Activity], now: float) -> None:
        """List the agents of ``activities`` that wait (see :func:`attention_rows`)."""
        rows = attention_rows(activities, self.ctx.roster.ids())
        keys = [(group, a.agent_id) for group, a in rows]
        if keys != [(group, a.agent_id) for group, a in self.rows]:
            self._rebuild(keys)
        self.rows = rows
        for group, activity in rows:
            self._fill(self._item(activity.agent_id), activity, now, dim=group == "stuck")
        count = sum(1 for group, _ in rows if group == "needs")
        if count != self.count:
            self.count = count
            self.sig_count.emit(count)
        self._update_visibility()

    def _rebuild(self, keys: list[tuple[str, str]]) -> None:
        current = self.selected_id()
        for group in self.groups.values():
            group.takeChildren()
        for key, agent_id in keys:
            item = QTreeWidgetItem(self.groups[key])
            item.setData(AGENT, ID_ROLE, agent_id)
        chosen = (self._item(current) if current is not None else None) or self._first()
        if chosen is not None:
            self.tree.setCurrentItem(chosen)

    def _fill(self, item: QTreeWidgetItem | None, activity: Activity, now: float, *, dim: bool) -> None:
        if item is None:
            return
        message = " ".join((activity.message or "").split())
        texts = (activity.agent_id, cells.waits_for(activity, now), age(cells.waiting_for(activity, now)),
                 f"“{message}”" if message else "")
        tip = cells.tooltip(activity, now)
        for column, text in enumerate(texts):
            if item.text(column) != text:
                item.setText(column, text)
            item.setToolTip(column, tip)
            if dim:
                item.setForeground(column, QBrush(DIM))
        item.setIcon(AGENT, cells.dot(activity.state))

    def _item(self, agent_id: str | None) -> QTreeWidgetItem | None:
        return next((item for _key, item in self._children() if item.data(AGENT, ID_ROLE) == agent_id), None)

    def _children(self) -> list[tuple[str, QTreeWidgetItem]]:
        found = []
        for key, group in self.groups.items():
            for n in range(group.childCount()):
                child = group.child(n)
                if child is not None:
                    found.append((key, child))
        return found

    def _first(self) -> QTreeWidgetItem | None:
        return next((g.child(0) for g in self.groups.values() if g.childCount()), None)

    def _update_visibility(self) -> None:
        for group in self.groups.values():
            group.setHidden(group.childCount() == 0)
        self.empty.setVisible(not self.rows)
        self.go_button.setEnabled(self.selected_id() is not None)
        self.go_action.setEnabled(bool(self.rows))

    def selected_id(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(AGENT, ID_ROLE) if item is not None else None

    def listed(self) -> list[tuple[str, str]]:
        """(group, agent id) of each row, top to bottom: what the list shows."""
        return [(key, item.data(AGENT, ID_ROLE)) for key, item in self._children()]

    # -- going to an agent -----------------------------------------------------------------------
    @Slot()
    def go(self) -> None:
        """Bring the selected agent to the front (off the UI thread); the status line says how it went."""
        agent_id = self.selected_id()
        if agent_id is None:
            return
        if agent_id not in self.ctx.roster:
            self.foot.say(f"{agent_id} is no longer in the roster", error=True)
            return
        agent = self.ctx.roster.get(agent_id)
        self.foot.say(f"Bringing {agent_id} to the front…")

        def bring() -> Brought:
            from quarterdeck.core.activity.bring import bring as bring_agent

            return bring_agent(agent)

        self.ctx.jobs.run(bring, self._on_brought, self._on_bring_failed, owner=self)

    @Slot()
    def go_first(self) -> None:
        first = self._first()
        if first is not None:
            self.tree.setCurrentItem(first)
            self.go()

    def _on_brought(self, brought: Brought) -> None:
        self.foot.say(brought.text)
        self.foot.show_attach(brought.attach)

    def _on_bring_failed(self, error: BaseException) -> None:
        self.foot.say(str(error), error=True)
        self.foot.show_attach(None)

    # -- slots -----------------------------------------------------------------------------------
    @Slot(QTreeWidgetItem, int)
    def _on_item_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.data(AGENT, ID_ROLE) is not None:
            self.go()

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_current_changed(self, *_items: object) -> None:
        self.go_button.setEnabled(self.selected_id() is not None)

    @Slot(str)
    def _on_feed_problem(self, text: str) -> None:
        self.foot.say(text, error=True)

    def shutdown(self) -> None:
        self.feed.stop()
