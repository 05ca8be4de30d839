"""Who the next message goes to: a checkable list of the roster's enabled agents, an "All" toggle,
saved groups (the roster's own ``groups`` plus the captain's, kept in the settings), and a pick
field: type ``2,5,7-9`` (positions in the fleet, the numbers on the roster's tiles), ``@group``
or agent ids and press Enter to check exactly those (quarterdeck.gui.roster.fleet_pick says how it reads).

The list follows the live roster: on ``sig_roster_changed`` it is rebuilt and keeps the checks of
agents that are still there and enabled. Choosing a group checks exactly its enabled members.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.roster.fleet_pick import Picked, parse_picks
from quarterdeck.gui.roster.placement import Shown
from quarterdeck.gui.settings import Settings

GROUPS_KEY = "composer/groups"
AGENT_ROLE = Qt.ItemDataRole.UserRole


def ask_group_name(parent: QWidget, suggestion: str) -> str | None:
    name, ok = QInputDialog.getText(parent, "Save recipient group", "Group name:", text=suggestion)
    return name.strip() if ok and name.strip() else None


class RecipientsBox(QWidget):
    sig_selection_changed = Signal()  # the checked recipients changed
    sig_reported = Signal(str)  # something to tell the captain (a group saved, a member missing)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._roster: Roster | None = None
        self._rows: list[tuple[str, str, str]] = []  # (agent id, label, tooltip) as shown
        self._conflicts: dict[str, str] = {}  # an id on two machines -> why a send to it is refused
        self._positions: list[str] = []  # the fleet as the roster's tiles number it
        self._updating = False
        self.ask_name: Callable[[QWidget, str], str | None] = ask_group_name  # tests replace it
        self.all_box = QCheckBox("&All")
        self.all_box.setObjectName("composer-all")
        self.all_box.setToolTip("Check or uncheck every enabled agent")
        self.all_box.setTristate(False)
        self.groups = QComboBox()
        self.groups.setObjectName("composer-groups")
        self.groups.setToolTip("Check the members of a saved group")
        self.groups.setMinimumContentsLength(10)
        self.groups.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.more = QToolButton()
        self.more.setObjectName("composer-groups-menu")
        self.more.setText("Groups ▾")
        self.more.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0px; }")
        self.more.setToolTip("Save the checked agents as a group, or forget a saved group")
        self.more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self.more)
        self.more.setMenu(self.menu)
        self.save_action = QAction("Save selection as group…", self)
        self.save_action.triggered.connect(self.save_group)
        self.menu.aboutToShow.connect(self._on_menu_about_to_show)
        # one submenu, kept and refilled (older PySide6 drops one that addMenu(title) made)
        self.forget_menu = QMenu("Forget group", self.menu)
        self.pick_field = QLineEdit()
        self.pick_field.setObjectName("composer-pick")
        self.pick_field.setPlaceholderText("2,5,7-9 or @group, Enter")
        self.pick_field.setClearButtonEnabled(True)
        self.pick_field.setToolTip("Check exactly these agents: numbers are positions in the fleet (the number "
                                   "on each roster tile, from 1), 7-9 a range, @name a group, or agent ids; "
                                   "separate them with commas or spaces, then press Enter")
        self.list = QListWidget()
        self.list.setObjectName("composer-recipients")
        self.list.setToolTip("Agents to send to (Space checks the current one)")
        self.list.setUniformItemSizes(True)
        self.list.setStyleSheet("QListWidget::item { padding: 2px 2px; }")
        self.row = QHBoxLayout()  # the composer puts its "To" label first
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.addWidget(self.all_box)
        self.row.addWidget(self.pick_field, 2)
        self.row.addWidget(self.groups, 1)
        self.row.addWidget(self.more)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(self.row)
        layout.addWidget(self.list, 1)
        self.all_box.clicked.connect(self._on_all_clicked)
        self.groups.activated.connect(self._on_groups_activated)
        self.pick_field.returnPressed.connect(self._on_pick_field_return_pressed)
        self.list.itemChanged.connect(self._on_list_item_changed)

    # -- state -----------------------------------------------------------------------------------
    def set_roster(self, roster: Roster, shown: Shown | None = None) -> None:
        """Show ``roster``'s enabled agents, keeping the checks of those still there. With relays on
        other machines, ``shown`` (quarterdeck.gui.roster.placement) names each remote agent's machine,
        numbers the fleet as the roster's tiles do, and has the ids found on two machines: they
        show, marked, and a send to one is refused, never guessed. Nothing is rebuilt when nothing
        shown changed (the relays are read every 2 s)."""
        where = shown.where if shown is not None else {}
        offline = shown.offline if shown is not None else {}  # (not its age: the list is not rebuilt each 2 s)
        machines = {a: f"{offline[a].name} · offline" if a in offline else w.text
                    for a, w in where.items() if w.remote or w.key == "conflict"}
        conflicts = {a: w.tip for a, w in where.items() if w.key == "conflict"}
        self._positions = shown.roster.ids() if shown is not None else roster.ids()
        rows = [(a.id, (f"{a.id}  ·  {a.role}" if a.role else a.id)
                 + (f"  ·  {machines[a.id]}" if a.id in machines else ""),
                 f"{a.display_name} — {a.transport.kind}" + (f" on {machines[a.id]}" if a.id in machines else ""))
                for a in roster.enabled() if a.id not in conflicts]
        rows += [(agent_id, f"⚠ {agent_id}  ·  {machines[agent_id]}", why) for agent_id, why in conflicts.items()]
        if self._roster is not None and rows == self._rows and roster.groups == self._roster.groups:
            self._roster = roster
            return
        kept = set(self.selected())
        self._roster, self._rows, self._conflicts = roster, rows, dict(conflicts)
        self._updating = True
        self.list.clear()
        for agent_id, label, tip in rows:
            item = QListWidgetItem(label)
            item.setData(AGENT_ROLE, agent_id)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
            item.setCheckState(Qt.CheckState.Checked if agent_id in kept else Qt.CheckState.Unchecked)
            item.setToolTip(tip)
            if agent_id in conflicts:
                item.setForeground(QColor("#c62828"))
            self.list.addItem(item)
        self._updating = False
        self._fill_groups()
        self._changed()

    def ids(self) -> list[str]:
        return [self.list.item(i).data(AGENT_ROLE) for i in range(self.list.count())]

    def selected(self) -> list[str]:
        """The checked agents, in roster order."""
        return [self.list.item(i).data(AGENT_ROLE) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def set_selected(self, agent_ids: Iterable[str]) -> list[str]:
        """Check exactly ``agent_ids``; returns those that are not enabled agents here."""
        wanted = set(agent_ids)
        self._updating = True
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(AGENT_ROLE) in wanted else Qt.CheckState.Unchecked)
        self._updating = False
        self._changed()
        return sorted(wanted - set(self.ids()))

    def select_only(self, agent_id: str) -> bool:
        missing = self.set_selected([agent_id])
        ids = self.ids()
        if agent_id in ids:
            self.list.setCurrentRow(ids.index(agent_id))
        return not missing

    def pick(self, text: str) -> Picked:
        """Check exactly the agents ``text`` names (see the module docstring); problems are
        reported, and nothing changes when it names nobody."""
        fleet = list(self._positions)
        groups = {name: members for name, (members, _mine) in self.all_groups().items()}
        picked = parse_picks(text, fleet, groups)
        problems = list(picked.problems)
        if picked.ids:
            missing = self.set_selected(picked.ids)
            if missing:
                problems.append(f"{', '.join(missing)} disabled on the roster, left out")
        if problems:
            self.sig_reported.emit(f"Recipients: {Picked((), tuple(problems)).problem_text()}.")
        elif picked.ids:
            self.sig_reported.emit(f"Recipients: {', '.join(picked.ids)}.")
        return picked

    # -- groups ----------------------------------------------------------------------------------
    def user_groups(self) -> dict[str, list[str]]:
        raw = self._settings.get(GROUPS_KEY, "", str)
        try:
            groups = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return {str(k): [str(m) for m in v] for k, v in groups.items() if isinstance(v, list)}

    def all_groups(self) -> dict[str, tuple[list[str], bool]]:
        """Every group by name: members and whether it is the captain's (else the roster's)."""
        found: dict[str, tuple[list[str], bool]] = {}
        if self._roster is not None:
            found = {name: (list(members), False) for name, members in self._roster.groups.items()}
        for name, members in self.user_groups().items():
            found.setdefault(name, (members, True))
        return found

    @Slot()
    def save_group(self) -> None:
        chosen = self.selected()
        if not chosen:
            self.sig_reported.emit("Check some agents first, then save them as a group.")
            return
        name = self.ask_name(self, "")
        if not name:
            return
        groups = self.user_groups()
        groups[name] = chosen
        self._settings.set(GROUPS_KEY, json.dumps(groups, sort_keys=True), "{}")
        self._fill_groups()
        self.sig_reported.emit(f"Group {name!r} saved: {', '.join(chosen)}.")

    def forget_group(self, name: str) -> None:
        groups = self.user_groups()
        if groups.pop(name, None) is not None:
            self._settings.set(GROUPS_KEY, json.dumps(groups, sort_keys=True), "{}")
            self._fill_groups()
            self.sig_reported.emit(f"Group {name!r} forgotten.")

    def choose_group(self, name: str) -> None:
        members, _mine = self.all_groups().get(name, ([], False))
        missing = self.set_selected(members)
        if missing:
            self.sig_reported.emit(f"Group {name!r}: {', '.join(missing)} not enabled on the roster, left out.")

    def _fill_groups(self) -> None:
        self.groups.clear()
        self.groups.addItem("Choose a group…", None)
        for name, (members, mine) in sorted(self.all_groups().items()):
            self.groups.addItem(f"{name}{'' if mine else ' (roster)'}", name)
            self.groups.setItemData(self.groups.count() - 1, ", ".join(members), Qt.ItemDataRole.ToolTipRole)
        self.groups.setEnabled(self.groups.count() > 1)

    # -- slots -----------------------------------------------------------------------------------
    def _changed(self) -> None:
        chosen = len(self.selected())
        self.all_box.setChecked(bool(chosen) and chosen == self.list.count() - len(self._conflicts))
        self.all_box.setEnabled(self.list.count() > 0)
        self.save_action.setEnabled(bool(chosen))
        self.sig_selection_changed.emit()

    @Slot(bool)
    def _on_all_clicked(self, checked: bool) -> None:  # never an id on two machines
        self.set_selected([a for a in self.ids() if a not in self._conflicts] if checked else [])

    @Slot(int)
    def _on_groups_activated(self, index: int) -> None:
        name = self.groups.itemData(index)
        self.groups.setCurrentIndex(0)
        if name:
            self.choose_group(name)

    @Slot()
    def _on_pick_field_return_pressed(self) -> None:
        picked = self.pick(self.pick_field.text())
        if picked.ids and not picked.problems:
            self.pick_field.clear()

    @Slot(QListWidgetItem)
    def _on_list_item_changed(self, _item: QListWidgetItem) -> None:
        if not self._updating:
            self._changed()

    @Slot()
    def _on_menu_about_to_show(self) -> None:
        self.menu.clear()
        self.menu.addAction(self.save_action)
        mine = sorted(self.user_groups())
        if mine:
            forget = self.forget_menu
            forget.clear()
            self.menu.addMenu(forget)
            for name in mine:
                forget.addAction(name).triggered.connect(lambda _=False, n=name: self.forget_group(n))
