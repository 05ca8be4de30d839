"""`quarterdeck notify`: do not disturb, mutes, quiet hours and the extra states, written to the
panel's settings file where the panel reads them; ``status`` and ``test`` ask the session bus (a
private one here, with no notification service on it, or none at all)."""
from __future__ import annotations

import json
import os
import time

import pytest
from notify_bus import PrivateBus, missing_tools

from quarterdeck.cli.main import main
from quarterdeck.gui.settings import Settings, settings_file

NO_BUS = "no desktop notifications: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
NO_SERVICE = "no desktop notifications: no notification service on the session bus"


@pytest.fixture(autouse=True)
def no_session_bus(monkeypatch, tmp_path):
    monkeypatch.delenv("QUARTERDECK_NOTIFICATIONS", raising=False)  # on, whatever the suite says
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["notify", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_do_not_disturb_on_and_off_lands_in_the_panels_settings(capsys):
    assert run(capsys, "dnd") == (0, "do not disturb: off\n", "")
    assert run(capsys, "dnd", "on")[:2] == (0, "do not disturb: on\n")
    assert "[notify]\ndnd=true" in settings_file().read_text()
    assert Settings().notify_prefs().dnd is True  # what the panel reads
    assert run(capsys, "dnd", "status")[:2] == (0, "do not disturb: on\n")
    assert run(capsys, "dnd", "off")[:2] == (0, "do not disturb: off\n")
    assert "dnd" not in settings_file().read_text()  # the default is not stored
    with pytest.raises(SystemExit) as refused:
        main(["notify", "dnd", "maybe"])
    assert refused.value.code == 2 and "invalid choice: 'maybe'" in capsys.readouterr().err


def test_mute_checks_the_roster_and_unmute_takes_any_id(capsys, tmp_path):
    roster = tmp_path / "agents.yaml"
    roster.write_text("agents:\n  - {id: Agent-1, transport: dryrun}\n  - {id: Agent-2, transport: dryrun}\n")
    assert run(capsys, "mute", "Agent-2", "Agent-1", "--roster", str(roster))[:2] == \
        (0, "muted agents: Agent-1, Agent-2\n")
    code, out, err = run(capsys, "mute", "Agent-9", "--roster", str(roster))
    assert code == 2 and out == ""
    assert err == f"quarterdeck: error: no agent Agent-9 in the roster {roster} (its agents: Agent-1, Agent-2)\n"
    assert Settings().notify_prefs().muted == {"Agent-1", "Agent-2"}
    assert run(capsys, "unmute", "Agent-1", "Agent-7")[:2] == (0, "muted agents: Agent-2\n")
    assert run(capsys, "unmute", "Agent-2")[:2] == (0, "muted agents: none\n")
    assert "muted" not in settings_file().read_text()
    # no roster file at all: nothing to check against
    assert run(capsys, "mute", "Agent-5", "--roster", str(tmp_path / "none.yaml"))[:2] == (0, "muted agents: Agent-5\n")


def test_quiet_hours_are_checked_and_written_plainly(capsys):
    assert run(capsys, "quiet", "22:00-7:00")[:2] == (0, "quiet hours: 22:00-07:00\n")
    assert "quiet_hours=22:00-07:00" in settings_file().read_text()
    code, out, err = run(capsys, "quiet", "22:00-24:00")
    assert (code, out) == (2, "") and err == ("quarterdeck: error: quiet hours: '24:00' is not a time of day: "
                                              "hours 0-23, minutes 00-59\n")
    assert Settings().notify_prefs().quiet_text() == "22:00-07:00"  # unchanged
    assert run(capsys, "quiet", "off")[:2] == (0, "quiet hours: off\n")


def test_rate_limited_and_stalled_switches(capsys):
    assert run(capsys, "rate-limited", "on")[:2] == (0, "rate-limited: on\n")
    assert run(capsys, "stalled", "on")[:2] == (0, "stalled: on\n")
    prefs = Settings().notify_prefs()
    assert prefs.rate_limited and prefs.stalled
    assert prefs.alerting() == {"needs-you", "rate-limited", "stalled"}
    assert run(capsys, "stalled", "off")[:2] == (0, "stalled: off\n")


def test_status_says_there_is_no_session_bus_once_and_quickly(capsys):
    run(capsys, "mute", "Agent-3")
    start = time.monotonic()
    code, out, err = run(capsys)  # `notify` alone is `notify status`
    assert time.monotonic() - start < 5
    assert code == 0 and err == ""
    assert out == ("do not disturb: off\nquiet hours:    off\nmuted agents:   Agent-3\n"
                   f"notified when:  needs you\nservice:        {NO_BUS}\n")
    code, out, _ = run(capsys, "status", "--json")
    data = json.loads(out)
    assert data["muted"] == ["Agent-3"] and data["available"] is False and data["service"] == NO_BUS
    assert data["settings"] == str(settings_file())


@pytest.mark.skipif(bool(missing_tools()), reason="missing tools: dbus-daemon")
def test_status_and_test_on_a_bus_with_no_notification_service(capsys, tmp_path, monkeypatch):
    bus = PrivateBus(tmp_path / "bus")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    try:
        code, out, err = run(capsys, "status")
        assert code == 0 and out.endswith(f"service:        {NO_SERVICE}\n") and err == ""
        start = time.monotonic()
        assert run(capsys, "test") == (1, "", f"quarterdeck: {NO_SERVICE}\n")
        assert time.monotonic() - start < 5
    finally:
        bus.close()
    assert os.environ["DBUS_SESSION_BUS_ADDRESS"] == bus.address
