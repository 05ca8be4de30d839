"""A relay on the machine whose screen it types into (issue 14): a real redis-server, ``quarterdeck
relay`` as a separate process on this display with two real Chromium chat windows as its agents
(bound to their windows), and the captain as separate ``quarterdeck`` processes on another data
folder. What each page received is checked against the verdict the captain's history shows, with
the relay's evidence; a person's draft in one window is never submitted from afar.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import ROOT, RelayProcess, write_roster
from xterm_desk import wait_until

from quarterdeck.core.relay.protocol import KEYS, Announcement

pytestmark = pytest.mark.x11

TEXT = "Rebase on main, then run the suite.\n  Keep the two spaces: é 你好 🚀 $(echo hi) `x` & done"


def captain(tmp_path: Path, url: str, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """A ``quarterdeck`` command of the captain: its own data folder and roster (one inbox agent here);
    ``url`` empty: without the broker (``history`` reads this machine's outbox)."""
    roster = tmp_path / "captain.yaml"
    if not roster.exists():
        write_roster(roster, [{"id": "Local-1", "transport": "inbox", "path": str(tmp_path / "local")}])
    return subprocess.run([sys.executable, "-m", "quarterdeck", "--data-dir", str(tmp_path / "captain"),
                           "--roster", str(roster), *(("--broker", url) if url else ()), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def history(tmp_path: Path) -> dict[str, dict[str, object]]:
    done = captain(tmp_path, "", "history", "--json")
    assert done.returncode == 0, done.stderr
    return {str(row["agent"]): row for row in json.loads(done.stdout)["rows"]}


def announced_pause(server: RedisServer) -> str:
    """Why relay "desk" says its GUI delivery is paused ("" when it is not), from its heartbeat."""
    client = redis.Redis.from_url(server.url)
    try:
        return Announcement.from_json(client.hget(KEYS.relays, "desk")).paused
    finally:
        client.close()


@pytest.fixture
def desk(tmp_path, redis_server: RedisServer, chromium_chats, empty_clipboard):
    """Relay "desk" on this display, its agents Chat-1 (contenteditable) and Chat-2 (textarea)."""
    windows = chromium_chats(1) + chromium_chats(1, kind="textarea")
    roster = write_roster(tmp_path / "desk.yaml", [
        {"id": f"Chat-{n}", "transport": "gui", "chat": list(window.input_point), "window": {"title": window.title}}
        for n, window in enumerate(windows, 1)])
    relay = RelayProcess("desk", roster, redis_server.url, tmp_path / "desk-data", extra=("--stagger", "0")).start()
    yield windows, relay
    relay.close()


def test_a_relay_types_into_chromium_and_the_captain_records_what_arrived(tmp_path, redis_server, desk) -> None:
    (one, two), relay = desk
    sent = captain(tmp_path, redis_server.url, "send", "-a", "Chat-1", "-a", "Chat-2", "-m", TEXT)
    assert sent.returncode == 0, (sent.stdout, sent.stderr, relay.output())
    for window, agent in ((one, "Chat-1"), (two, "Chat-2")):
        [arrived] = window.wait_submissions(1)
        assert arrived.startswith("[C2A] Captain → ") and arrived.endswith(TEXT), arrived
        assert agent in arrived.splitlines()[0]
        window.wait_value("")  # the input emptied on Enter: submitted, not left in the box
    rows = history(tmp_path)
    for agent in ("Chat-1", "Chat-2"):
        row = rows[agent]
        assert (row["state"], row["verdict"], row["machine"]) == ("delivered", "submitted", "desk"), row
        # the relay's own proof, carried to the captain: the pane held the text, then emptied on Enter
        assert str(row["evidence"]).startswith("input read back by accessibility"), row["evidence"]
        assert str(row["evidence"]).endswith("(relay desk)"), row["evidence"]
    assert len(one.submissions()) == len(two.submissions()) == 1  # still once each, the history read later


def test_a_persons_draft_on_the_relays_screen_is_never_submitted_and_the_captain_is_told(
        tmp_path, redis_server, desk) -> None:
    (_, two), relay = desk
    two.click_input()  # a person on the relay's machine starts typing in Chat-2
    two.type("half a thought")
    two.wait_value("half a thought")
    sent = captain(tmp_path, redis_server.url, "send", "-a", "Chat-2", "-m", TEXT, "--timeout", "8s")
    held = ("relay desk: GUI delivery paused until you resume: Chat-2's input holds a draft (“half a thought”, "
            "14 characters), nothing typed")
    assert sent.returncode == 124 and held in sent.stdout, (sent.stdout, sent.stderr, relay.output())
    assert two.submissions() == [] and two.value() == "half a thought"  # the draft stays, unsent
    draft = held.removeprefix("relay desk: GUI delivery paused until you resume: ")
    wait_until(lambda: draft in announced_pause(redis_server), "the relay to announce its pause")
    row = history(tmp_path)["Chat-2"]
    assert (row["state"], row["machine"]) == ("sending", "desk") and str(row["reason"]).startswith(held), row
    two.click_input()  # the person sends the draft themselves; then the captain resumes
    two.key("Return")
    assert two.wait_submissions(1) == ["half a thought"]
    resumed = captain(tmp_path, redis_server.url, "resume")
    assert resumed.returncode == 0, resumed.stderr
    [_, arrived] = two.wait_submissions(2)
    assert arrived.endswith(TEXT), arrived
    wait_until(lambda: announced_pause(redis_server) == "", "the relay to announce it goes on")
    # the next captain process on this outbox reads the relay's receipt: the reason gives way to the verdict
    later = captain(tmp_path, redis_server.url, "send", "-a", "Chat-1", "-m", "And you, carry on.")
    assert later.returncode == 0, later.stderr
    row = history(tmp_path)["Chat-2"]
    assert (row["state"], row["verdict"], row["reason"]) == ("delivered", "submitted", None), row
    assert two.submissions() == ["half a thought", arrived]  # the draft once (its writer's), the message once
