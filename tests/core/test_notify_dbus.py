"""Desktop notifications where there is nothing to show them: no session bus, a bus with no
notification service, a bus that goes away. Each is said once in the log and in the status,
nothing is raised and nothing waits long (the caller's thread never waits at all). The real
service (dunst on a real display) is tests/x11/test_notifications_x11.py."""
from __future__ import annotations

import logging
import time

import pytest
from notify_bus import PrivateBus, missing_tools

from quarterdeck.core.activity import notify_dbus
from quarterdeck.core.activity.notify_dbus import DesktopNotifications
from quarterdeck.core.activity.notify_link import session_bus

LOGGER = "quarterdeck.core.activity.notify_dbus"


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]


@pytest.fixture
def private_bus(tmp_path, monkeypatch):
    missing = missing_tools()
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    bus = PrivateBus(tmp_path / "bus")
    monkeypatch.delenv("QUARTERDECK_NOTIFICATIONS", raising=False)  # on, whatever the suite says
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    yield bus
    bus.close()


def shown_quickly(notifier: DesktopNotifications, count: int = 3) -> float:
    """Queue ``count`` notices; how long the caller waited (it must not)."""
    start = time.monotonic()
    for n in range(count):
        notifier.show(f"Agent-{n}", f"Agent-{n} needs you", "permission: Bash(rm -rf build)")
    return time.monotonic() - start


def test_no_session_bus_is_said_once_and_nothing_raises(monkeypatch, tmp_path, caplog):
    monkeypatch.delenv("QUARTERDECK_NOTIFICATIONS", raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # no "bus" socket there either
    statuses: list[str] = []
    notifier = DesktopNotifications(on_status=statuses.append, clock=lambda: 1000.0)
    try:
        assert shown_quickly(notifier) < 0.05
        assert notifier.wait_idle(5)
        notifier.show("Agent-1", "again", "again")
        assert notifier.wait_idle(5)
    finally:
        notifier.close()
    assert notifier.available is False
    assert statuses == ["no desktop notifications: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"]
    assert warnings(caplog) == statuses


def test_turned_off_in_the_environment_the_bus_is_not_asked(private_bus, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    monkeypatch.setenv("QUARTERDECK_NOTIFICATIONS", "off")
    private_bus.close()  # asking it would fail differently
    notifier = DesktopNotifications(clock=lambda: 1000.0)
    try:
        notifier.show("Agent-1", "Agent-1 needs you", "permission: Bash")
        assert notifier.wait_idle(5)
    finally:
        notifier.close()
    assert notifier.status == notify_dbus.OFF and notifier.available is False
    assert [r.getMessage() for r in caplog.records if r.name == LOGGER] == [notify_dbus.OFF]
    assert warnings(caplog) == []


def test_the_systemd_user_bus_is_found_without_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert session_bus() == "SESSION"
    (tmp_path / "bus").touch()
    assert session_bus() == f"unix:path={tmp_path / 'bus'}"
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/elsewhere")
    assert session_bus() == "unix:path=/elsewhere"


def test_a_bus_without_a_notification_service(private_bus, caplog):
    statuses: list[str] = []
    clock = [1000.0]
    notifier = DesktopNotifications(on_status=statuses.append, clock=lambda: clock[0])
    try:
        assert shown_quickly(notifier) < 0.05
        start = time.monotonic()
        assert notifier.wait_idle(10)
        assert time.monotonic() - start < notify_dbus.CALL_TIMEOUT_S  # the bus says so at once
        clock[0] += notify_dbus.RETRY_S + 1  # looked for again later: still none, not said again
        notifier.show("Agent-1", "Agent-1 needs you", "question: which branch?")
        assert notifier.wait_idle(10)
    finally:
        notifier.close()
    assert notifier.available is False
    assert statuses == ["no desktop notifications: no notification service on the session bus"]
    assert warnings(caplog) == statuses


def test_a_bus_that_goes_away_is_said_once(private_bus, caplog):
    clock = [1000.0]
    notifier = DesktopNotifications(clock=lambda: clock[0])
    try:
        notifier.probe()
        assert notifier.wait_idle(10)
        private_bus.close()
        clock[0] += notify_dbus.RETRY_S + 1
        for _ in range(3):
            notifier.show("Agent-1", "Agent-1 needs you", "permission: Bash")
        assert notifier.wait_idle(10)
    finally:
        notifier.close()
    assert notifier.available is False
    said = warnings(caplog)
    assert said[0] == "no desktop notifications: no notification service on the session bus"
    assert len(said) == 2 and said[1].startswith("no desktop notifications: the D-Bus session bus cannot be "
                                                 "reached"), said


def test_close_ends_the_worker(private_bus):
    notifier = DesktopNotifications()
    notifier.probe()
    notifier.close(timeout=10)
    assert not notifier._thread.is_alive()
