"""install(window): the panel's notifications fed by the activity feed, one Do not disturb in the
toolbar, Mute in the roster's menu for the selected agent, all kept in the settings file; the
notifier's thread ends with the window. Desktop notifications are turned off here
(QUARTERDECK_NOTIFICATIONS=off): the notices are decided and dropped, the bus is not asked
(tests/x11/test_notifications_x11.py shows them for real)."""
from __future__ import annotations

import time

import pytest
from gui_fixtures import dry_roster

from quarterdeck.core.activity.events import NEEDS_YOU, ActivityEvent
from quarterdeck.core.activity.notify_dbus import OFF
from quarterdeck.core.activity.record import record
from quarterdeck.gui.activity.notifications import Notifications, install
from quarterdeck.gui.app import load_panels
from quarterdeck.gui.mainwindow import MainWindow
from quarterdeck.gui.settings import Settings


@pytest.fixture(autouse=True)
def notifications_off(monkeypatch):
    monkeypatch.setenv("QUARTERDECK_NOTIFICATIONS", "off")


def needs_you(agent: str) -> ActivityEvent:
    return ActivityEvent(agent_id=agent, source="claude-code", kind=NEEDS_YOU, name="Notification", at=time.time(),
                         waits_for="permission", text="Claude needs your permission to use Bash")


def test_install_once_with_dnd_in_the_toolbar_and_mute_in_the_roster_menu(make_ctx, qtbot):
    ctx = make_ctx(roster=dry_roster("Agent-1", "Agent-2"))
    window = MainWindow(ctx, load_panels())
    qtbot.addWidget(window)
    notes = install(window)
    assert install(window) is notes and isinstance(notes, Notifications)
    dnd = [a for a in window.toolbar.actions() if a.objectName() == "notify-dnd"]
    assert len(dnd) == 1 and dnd[0].isCheckable() and not dnd[0].isChecked()
    said: list[str] = []
    ctx.sig_status.connect(said.append)
    dnd[0].trigger()
    assert notes.prefs.dnd and Settings().notify_prefs().dnd  # another reader of the same file
    assert said == ["Do not disturb: on (no desktop notifications)"]
    dnd[0].trigger()
    assert not Settings().notify_prefs().dnd

    roster = window.panels["roster"]
    mute = roster.actions_by_name["mute"]
    assert not mute.isEnabled()  # nobody selected
    assert roster.select_agent("Agent-2")
    assert mute.isEnabled() and not mute.isChecked()
    assert "roster-mute" in [a.objectName() for a in roster.context_menu().actions()]
    mute.trigger()
    assert Settings().notify_prefs().muted == {"Agent-2"} and mute.isChecked()
    assert roster.select_agent("Agent-1")
    assert not mute.isChecked()
    assert said[-1] == "Notifications from Agent-2: muted"


def test_a_waiting_agent_is_decided_once_and_the_thread_ends_with_the_window(make_ctx, qtbot):
    ctx = make_ctx(roster=dry_roster("Agent-1", "Agent-2"))
    window = MainWindow(ctx, load_panels())
    try:
        notes = install(window)
        record(ctx.store.path.parent, needs_you("Agent-2"))
        qtbot.waitUntil(lambda: notes.shown == 1, timeout=5000)
        qtbot.wait(1500)  # the feed looks again (every second at least): the same wait, no second notice
        assert notes.shown == 1
        assert notes.notifier.wait_idle(5) and notes.notifier.status == OFF
        thread = notes.notifier._thread
    finally:
        window.close()
        window.deleteLater()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=5000)
