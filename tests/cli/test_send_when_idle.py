"""`quarterdeck send --when idle`: a real send process, a real tmux pane as the agent, and the agent's
activity recorded as its hooks record it. A message to a working agent waits and expires after its
--ttl (never typed; status and history say "expired"); one whose agent turns idle arrives once."""
from __future__ import annotations

import subprocess
import time
import uuid

import pytest
from test_concurrent_send import QUARTERDECK, ROOT, Fleet, finish, wait_until

from quarterdeck.core.activity.events import CLAUDE_CODE, PROMPT_SUBMITTED, TURN_ENDED, ActivityEvent
from quarterdeck.core.activity.record import record
from quarterdeck.core.store import Store, default_db_path, search


@pytest.fixture
def fleet(tmp_path):
    f = Fleet(tmp_path, agents=("Agent-1",))
    yield f
    f.close()


def hook(fleet: Fleet, kind: str) -> None:
    name = {PROMPT_SUBMITTED: "UserPromptSubmit", TURN_ENDED: "Stop"}[kind]
    record(fleet.data, ActivityEvent(agent_id="Agent-1", source=CLAUDE_CODE, kind=kind, name=name, at=time.time()))


def quarterdeck(fleet: Fleet, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(QUARTERDECK), *args], env=fleet.env, cwd=ROOT, text=True, capture_output=True,
                          timeout=60)


def test_a_send_to_a_working_agent_expires_after_its_ttl_and_status_and_history_say_so(fleet):
    hook(fleet, PROMPT_SUBMITTED)
    token = f"later-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    code, out, err = finish(fleet.send(f"When you are free: {token}", "--when", "idle", "--ttl", "2s",
                                       agents=("Agent-1",)))
    took = time.monotonic() - started
    assert code == 1, out + err
    assert out.split()[:2] == ["Agent-1", "expired"], out
    assert "expired after 2 s: Agent-1 stayed working" in out
    assert "waiting: Agent-1 is working" in err
    assert 2 <= took < 30
    assert fleet.arrivals(token) == {"Agent-1": 0}
    status = quarterdeck(fleet, "status", "--roster", str(fleet.roster))
    assert "expired 1" in status.stdout.splitlines()[0], status.stdout
    assert status.stdout.splitlines()[1].split()[:2] == ["Agent-1", "expired"], status.stdout
    history = quarterdeck(fleet, "history", "--state", "expired")
    assert history.returncode == 0, history.stderr
    assert "expired" in history.stdout and "(expired after 2 s: Agent-1 stayed working)" in history.stdout
    assert history.stdout.splitlines()[-1] == "1 of 1 deliveries"


def test_a_send_waits_while_the_agent_works_and_arrives_once_it_is_idle(fleet):
    hook(fleet, PROMPT_SUBMITTED)
    token = f"free-{uuid.uuid4().hex[:8]}"
    send = fleet.send(f"Once your turn is over: {token}", "--when", "idle", "--ttl", "60s", agents=("Agent-1",))
    try:
        def waiting_reason() -> str | None:
            if not default_db_path(fleet.data).exists():
                return None
            with Store(default_db_path(fleet.data)) as store:
                rows = search(store, agent="Agent-1", limit=1)
            return rows[0].reason if rows and str(rows[0].state) == "waiting" else None

        reason = wait_until(waiting_reason, "the send to say why it waits")
        assert reason.startswith("waiting: Agent-1 is working"), reason
        time.sleep(0.5)
        assert fleet.arrivals(token) == {"Agent-1": 0}
        hook(fleet, TURN_ENDED)
        code, out, err = finish(send)
    finally:
        if send.poll() is None:
            send.kill()
            send.communicate()
    assert code == 0, out + err
    assert out.split()[0] == "Agent-1" and "expired" not in out
    wait_until(lambda: fleet.arrivals(token) == {"Agent-1": 1}, "the message in the pane")


@pytest.mark.parametrize("ttl, said", [
    ("soon", "quarterdeck: error: --ttl: 'soon' is not a duration: write it like 90s, 30m or 2h"),
    ("0s", "quarterdeck: error: --ttl: '0s' is no time at all: give a duration like 90s, 30m or 2h"),
])
def test_a_bad_ttl_is_one_line_and_sends_nothing(fleet, ttl, said):
    done = quarterdeck(fleet, "send", "--roster", str(fleet.roster), "-a", "Agent-1", "-m", "hi",
                       "--when", "idle", "--ttl", ttl)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [said]
    assert not default_db_path(fleet.data).exists()


def test_ttl_without_when_idle_is_refused(fleet):
    done = quarterdeck(fleet, "send", "--roster", str(fleet.roster), "-a", "Agent-1", "-m", "hi", "--ttl", "5m")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "quarterdeck: error: --ttl goes with --when idle: how long a message may wait for its agent"]
