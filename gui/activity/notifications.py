"""Desktop notifications for the agents that need the captain, and the switches that quiet them.

:class:`Notifications` hears the activity feed (``sig_activities``: every agent's activity), asks
:class:`~quarterdeck.core.activity.notify_policy.NoticePolicy` what to show under the captain's
choices (read fresh from the panel settings each time: ``quarterdeck notify`` may have changed
them) and hands the notices to
:class:`~quarterdeck.core.activity.notify_dbus.DesktopNotifications` (its own thread: the UI
never waits for D-Bus). A click on a notice brings that agent forward
(:func:`quarterdeck.core.activity.bring.bring_forward`, on the background runner) and selects it
in the panel. No notification service: said once in the status bar.

:func:`install` puts it into a main window: a **Do not disturb** toggle in the toolbar and a
**Mute notifications** entry in the roster's context menu (for the selected agent); **Quiet hours…**
in the toggle's menu and the palette (gui/activity/quiet.py).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot
from PySide6.QtGui import QAction

from quarterdeck.core.activity.notify_dbus import DesktopNotifications
from quarterdeck.core.activity.notify_policy import NoticePolicy
from quarterdeck.core.activity.state import Activity
from quarterdeck.gui.settings import NOTIFY_DND

if TYPE_CHECKING:
    from quarterdeck.core.models import Agent
    from quarterdeck.gui.context import AppContext

log = logging.getLogger(__name__)

NAME = "desktop-notifications"
PREFS_POLL_MS = 2000  # how soon the toggle shows a change made from the command line
Bring = Callable[["Agent"], str]


def _bring_forward(agent: Agent) -> str:
    from quarterdeck.core.activity.bring import bring_forward

    return bring_forward(agent)


class Notifications(QObject):
    """See the module docstring. ``bring`` brings one agent forward (blocking; it runs on the
    context's background runner); ``notifier`` defaults to the session bus's service."""

    sig_status = Signal(str)  # the notification service's state, when it changes
    sig_clicked = Signal(str)  # a notice was clicked: the agent's id
    sig_closed = Signal(str)  # a notice was closed: the agent's id
    sig_brought = Signal(str, str)  # agent id, what bringing it forward did (or why it could not)
    sig_prefs_changed = Signal()

    def __init__(self, ctx: AppContext, parent: QObject | None = None, *, bring: Bring = _bring_forward,
                 notifier: DesktopNotifications | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(NAME)
        self.ctx, self.bring = ctx, bring
        self.policy = NoticePolicy()
        self.shown = 0  # notices handed to the service so far
        self.notifier = notifier or DesktopNotifications(
            on_action=lambda key, _action: self.sig_clicked.emit(key),  # worker thread: queued to ours
            on_closed=self.sig_closed.emit, on_status=self.sig_status.emit)
        self.prefs = ctx.settings.notify_prefs()
        self._unavailable = False
        self.sig_clicked.connect(self._on_clicked)
        self.sig_closed.connect(self.policy.closed)
        self.sig_status.connect(self._on_status)
        ctx.sig_roster_changed.connect(self._on_roster_changed)
        self.notifier.probe()  # no service: the status bar says so at start, not at the first notice

    # -- activity ----------------------------------------------------------------------------------
    @Slot(object, float)
    def on_activities(self, activities: dict[str, Activity], now: float) -> None:
        self.refresh_prefs()
        roster = self.ctx.roster  # a look begun before an agent was removed may still name it
        activities = {agent: a for agent, a in activities.items() if agent in roster}
        decision = self.policy.look(activities, self.prefs, datetime.fromtimestamp(now))  # local time
        for notice in decision.show:
            log.info("notifying: %s: %s", notice.title, notice.body)
            self.notifier.show(notice.agent_id, notice.title, notice.body)
            self.shown += 1
        for agent in decision.withdraw:
            self.notifier.withdraw(agent)
        for agent, reason in decision.held:
            log.info("no notification for %s: %s", agent, reason)

    @Slot(object)
    def _on_roster_changed(self, roster: object) -> None:
        """An agent gone from the roster: its notice is taken back, and it is forgotten."""
        for agent in self.policy.tracked():
            if agent not in self.ctx.roster and self.policy.forget(agent):
                self.notifier.withdraw(agent)

    def refresh_prefs(self) -> None:
        """Re-read the choices; ``sig_prefs_changed`` when they differ from the last read."""
        prefs = self.ctx.settings.notify_prefs()
        if prefs != self.prefs:
            self.prefs = prefs
            self.sig_prefs_changed.emit()

    # -- the captain's switches -------------------------------------------------------------------
    def set_dnd(self, on: bool) -> None:
        self.ctx.settings.set_notify(NOTIFY_DND, on)
        self.refresh_prefs()
        self.ctx.sig_status.emit("Do not disturb: on (no desktop notifications)" if on else "Do not disturb: off")

    def set_muted(self, agent_id: str, muted: bool) -> None:
        self.ctx.settings.set_muted(agent_id, muted)
        self.refresh_prefs()
        self.ctx.sig_status.emit(f"Notifications from {agent_id}: {'muted' if muted else 'on'}")

    # -- clicks and status -------------------------------------------------------------------------
    @Slot(str)
    def _on_clicked(self, agent_id: str) -> None:
        self.policy.closed(agent_id)
        if agent_id not in self.ctx.roster:
            self._brought(agent_id, f"{agent_id} is no longer in the roster")
            return
        agent = self.ctx.roster.get(agent_id)
        self.ctx.sig_agent_focused.emit(agent_id)
        try:
            self.ctx.jobs.run(lambda: self.bring(agent), lambda line: self._brought(agent_id, line),
                              lambda error: self._brought(agent_id, str(error)), owner=self)
        except RuntimeError:  # the runner has shut down: the window is closing
            pass

    def _brought(self, agent_id: str, line: str) -> None:
        log.info("notification clicked: %s", line)
        self.ctx.sig_status.emit(line)
        self.sig_brought.emit(agent_id, line)

    @Slot(str)
    def _on_status(self, text: str) -> None:
        """The status bar hears that there is no service (once: the notifier reports changes
        only), and that one answers again after that; a service found at start goes to the log."""
        unavailable = text.startswith("no desktop notifications")
        if unavailable or self._unavailable:
            self.ctx.sig_status.emit(text)
        self._unavailable = unavailable

    def shutdown(self) -> None:
        self.notifier.close()


def install(window: Any, *, notifications: Notifications | None = None) -> Notifications:
    """Notifications for ``window`` (the main window): fed by the activity feed, a Do not disturb
    toggle in its toolbar, Mute in the roster's context menu; made once per context."""
    from quarterdeck.gui.activity.feed import feed_for

    ctx = window.ctx
    if isinstance(getattr(window, "notifications", None), Notifications):
        return window.notifications  # installed already
    found = notifications or ctx.findChild(Notifications, NAME) or Notifications(ctx, ctx)
    window.notifications = found
    feed_for(ctx).sig_activities.connect(found.on_activities)
    dnd = dnd_action(found, window)
    window.toolbar.addAction(dnd)
    from quarterdeck.gui.activity.quiet import add_to_button, quiet_hours_action

    quiet = quiet_hours_action(found, window)
    window.addAction(quiet)  # the command palette lists it
    add_to_button(window.toolbar.widgetForAction(dnd), quiet)
    roster = getattr(window, "panels", {}).get("roster")
    if roster is not None:
        attach_mute(found, roster)
    notifier = found.notifier  # a plain object: safe to call once the Qt objects are gone
    window.destroyed.connect(lambda *_: notifier.close(timeout=0.5))
    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(lambda: notifier.close(timeout=0.5))
    return found


def dnd_action(notifications: Notifications, parent: QObject) -> QAction:
    """The checkable Do not disturb action, kept in step with the settings file."""
    action = QAction("Do not disturb", parent)
    action.setObjectName("notify-dnd")
    action.setCheckable(True)
    action.setToolTip("No desktop notifications while on (the Attention area still lists who waits); "
                      "also `quarterdeck notify dnd on|off`")
    action.setChecked(notifications.prefs.dnd)

    def toggled(on: bool) -> None:
        if on != notifications.prefs.dnd:  # not the echo of a change read from the file
            notifications.set_dnd(on)

    action.toggled.connect(toggled)
    notifications.sig_prefs_changed.connect(lambda: action.setChecked(notifications.prefs.dnd))
    timer = QTimer(action)
    timer.setInterval(PREFS_POLL_MS)
    timer.timeout.connect(notifications.refresh_prefs)
    timer.start()
    return action


def attach_mute(notifications: Notifications, roster: Any) -> QAction:
    """The roster's Mute notifications action (``gui.roster.actions``), for the selected agent."""
    from quarterdeck.gui.roster.actions import MUTE, build_mute_action

    action = roster.actions_by_name.get(MUTE) or build_mute_action(roster)
    roster.actions_by_name[MUTE] = action

    def sync() -> None:
        agent = roster.selected_id()
        action.setEnabled(agent is not None)
        action.setChecked(agent is not None and agent in notifications.prefs.muted)

    def triggered(checked: bool) -> None:
        agent = roster.selected_id()
        if agent is not None:
            notifications.set_muted(agent, checked)

    action.triggered.connect(triggered)
    roster.table.selectionModel().selectionChanged.connect(lambda *_: sync())
    notifications.sig_prefs_changed.connect(sync)
    sync()
    return action
