"""The roster panel's commands: their names, texts, tooltips and what each needs selected.

Kept apart from the panel so the list reads as one table; the panel builds the ``QAction``s from
it, the toolbar shows the short texts, and the command palette lists every one.
"""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from quarterdeck.core.models import Agent

# name, text, tooltip, needs: "" (always), "agent" (a selected agent), "gui" (a selected gui agent)
ACTIONS = (
    ("add", "Add agent…", "Add an agent to the roster (Insert in the table)", ""),
    ("edit", "Edit agent…", "Edit the selected agent (Enter in the table)", "agent"),
    ("remove", "Remove agent", "Remove the selected agent from the roster (Delete in the table)", "agent"),
    ("capture_chat", "Capture chat point", "Countdown, then store the pointer as the agent's chat point", "gui"),
    ("capture_onboarding", "Capture onboarding point",
     "Countdown, then store the pointer as the agent's onboarding point", "gui"),
    ("targets", "Show targets", "Mark every gui agent's points on screen (Ctrl+Shift+T; Esc hides them)", ""),
    ("force_open", "Force breaker open", "Send nothing to the selected agent until the breaker is reset", "agent"),
    ("reset", "Reset breaker", "Close the selected agent's breaker and clear its counts", "agent"),
    ("import", "Import coordinates…",
     "Add or update gui agents from the original cursor_agent_coords.json", ""),
    ("table", "Roster as table",
     "Show every agent as a table row with all its columns (screen targets included) instead of tiles", ""),
)

# added by quarterdeck.gui.activity.notifications when the panel has desktop notifications
MUTE = "mute"
MUTE_TIP = "No desktop notifications from the selected agent (the Attention area still lists it when it waits)"

SHORT_TEXTS = {"add": "Add", "edit": "Edit", "remove": "Remove", "capture_chat": "Capture",
               "targets": "Targets", "force_open": "Force open", "reset": "Reset", "import": "Import",
               "table": "Table"}


def build_actions(parent: QObject) -> dict[str, QAction]:
    """One action per entry of ``ACTIONS``; the checkable ones are Targets and Table."""
    found: dict[str, QAction] = {}
    for name, text, tip, _needs in ACTIONS:
        action = QAction(text, parent)
        action.setObjectName(f"roster-{name}")
        action.setToolTip(tip)
        action.setStatusTip(tip)
        found[name] = action
    for name, short in SHORT_TEXTS.items():  # the toolbar is narrow in a side dock
        found[name].setIconText(short)
    found["targets"].setCheckable(True)
    found["targets"].setShortcut(QKeySequence("Ctrl+Shift+T"))
    found["table"].setCheckable(True)
    return found


def build_mute_action(parent: QObject) -> QAction:
    """The checkable Mute notifications action (checked: the selected agent is muted)."""
    action = QAction("Mute notifications", parent)
    action.setObjectName(f"roster-{MUTE}")
    action.setToolTip(MUTE_TIP)
    action.setStatusTip(MUTE_TIP)
    action.setCheckable(True)
    return action


def build_context_menu(parent: QWidget, actions: dict[str, QAction]) -> QMenu:
    """The right-click menu of a tile or a row; it deletes itself once closed."""
    menu = QMenu(parent)
    menu.setObjectName("roster-context-menu")
    for names in (("edit", "remove"), ("capture_chat", "capture_onboarding"), ("force_open", "reset", MUTE),
                  ("add", "import", "targets", "table")):
        for name in names:
            if name in actions:  # Mute is there once notifications are installed
                menu.addAction(actions[name])
        menu.addSeparator()
    menu.aboutToHide.connect(menu.deleteLater)
    return menu


REMOTE_OK = ("force_open", "reset")  # the captain's breaker guards a relay's agent too


def update_actions(actions: dict[str, QAction], agent_id: str | None, agent: Agent | None, *,
                   machine: str = "", forced: bool = False, capturing: bool = False) -> None:
    """Enable what the selection allows. ``agent``: the selected agent of this machine's roster;
    ``machine``: the relay running the selected agent when it is another machine's (read-only
    here: it belongs to that machine's agents.yaml; only its breaker is the captain's)."""
    for name, _text, tip, needs in ACTIONS:
        action = actions[name]
        if needs == "agent":
            action.setEnabled(agent is not None or (bool(machine) and name in REMOTE_OK))
            action.setToolTip(f"{agent_id} runs on {machine}: change it in that machine's agents.yaml"
                              if machine and name not in REMOTE_OK else tip)
        elif needs == "gui":
            usable = agent is not None and agent.transport.kind == "gui"
            action.setEnabled(usable and not capturing)
            action.setToolTip(tip if usable or agent is None else
                              f"{agent.id} is reached by {agent.transport.kind}: it has no screen point")
    actions["force_open"].setEnabled(actions["force_open"].isEnabled() and not forced)
