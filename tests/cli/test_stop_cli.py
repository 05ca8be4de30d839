"""`quarterdeck stop` reaches other processes: a real `quarterdeck send` waiting out a long retry
backoff ends soon after a real `quarterdeck stop`, its deliveries cancelled; a later send delivers.
Sends and onboarding runs stopped that way report every recipient, queued ones included."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import polling
import pytest

from quarterdeck.cli.main import main
from quarterdeck.core.store import Store, default_db_path, search

wait_until = partial(polling.wait_until, timeout=30.0, every=0.05)

ROOT = Path(__file__).resolve().parents[2]
BOUND = 10.0  # generous, for a loaded machine: the send's backoff alone is 30 s or more

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the failing tmux stand-in is a shell script")


@pytest.fixture
def setup(tmp_path):
    """A roster with Agent-1 on a tmux that always answers 'busy' (retryable) and Agent-2 on an
    inbox; an environment whose retries wait 30 s; the data dir."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    tmux = fake_bin / "tmux"
    tmux.write_text("#!/bin/sh\necho 'server is busy, try again' >&2\nexit 1\n", encoding="utf-8")
    tmux.chmod(0o755)
    roster = tmp_path / "agents.yaml"
    roster.write_text("agents:\n"
                      "  - {id: Agent-1, transport: tmux, target: 'swarm:0.1'}\n"
                      f"  - {{id: Agent-2, transport: inbox, path: {tmp_path / 'in2'}}}\n", encoding="utf-8")
    env = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ.get('PATH', '')}",
           "COORDINATION_BASE_DELAY": "30", "COORDINATION_MAX_RETRIES": "3"}
    return roster, env, tmp_path / "data"


def quarterdeck(env, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "quarterdeck.cli.main", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def rows(data_dir: Path) -> dict[str, object]:
    with Store(default_db_path(data_dir)) as store:
        return {row.agent_id: row for row in search(store, limit=10)}


def test_stop_in_another_process_ends_a_send_waiting_out_a_backoff(setup):
    roster, env, data_dir = setup
    send = quarterdeck(env, "send", "--roster", str(roster), "--data-dir", str(data_dir), "--stagger", "0",
                       "-a", "Agent-1", "-a", "Agent-2", "-m", "Rebase on main, then run the suite.")
    try:
        wait_until(lambda: default_db_path(data_dir).exists(), "the send to open its outbox")
        wait_until(lambda: getattr(rows(data_dir).get("Agent-1"), "attempts", 0) >= 1,
                   "Agent-1's first failed attempt (then a 30 s backoff)")
        started = time.monotonic()
        stop = quarterdeck(env, "stop", "--data-dir", str(data_dir))
        stop_out, stop_err = stop.communicate(timeout=BOUND)
        assert stop.returncode == 0, stop_err
        assert stop_out.startswith("cancelled 0 queued deliveries"), stop_out  # Agent-2 went out during the backoff
        out, err = send.communicate(timeout=BOUND)
        took = time.monotonic() - started
    finally:
        if send.poll() is None:
            send.kill()
            send.communicate()
    assert took < BOUND, f"the send took {took:.1f} s to end after the stop"
    assert send.returncode == 1, out + err
    assert "Agent-1          retrying   attempt 1 failed: tmux" in err
    lines = dict(line.split(None, 1) for line in out.splitlines())
    assert lines["Agent-1"].startswith("cancelled") and "stop requested during a retry wait" in lines["Agent-1"]
    assert lines["Agent-2"].startswith("submitted")
    recorded = rows(data_dir)
    assert (recorded["Agent-1"].state, recorded["Agent-1"].attempts) == ("cancelled", 1)
    assert recorded["Agent-1"].reason.startswith("stopped")
    assert recorded["Agent-2"].state == "delivered"


def test_a_send_started_after_a_stop_delivers(setup, capsys, tmp_path):
    roster, _, data_dir = setup
    assert main(["stop", "--data-dir", str(data_dir)]) == 0
    code = main(["send", "--roster", str(roster), "--data-dir", str(data_dir), "-a", "Agent-2", "-m", "go on"])
    out = capsys.readouterr().out
    assert code == 0 and "Agent-2          submitted" in out
    assert len(list((tmp_path / "in2").glob("*.md"))) == 1


def delivered_to(data_dir: Path, agent: str) -> int:
    with Store(default_db_path(data_dir)) as store:
        return sum(1 for row in search(store, limit=20) if row.agent_id == agent and row.state == "delivered")


@contextmanager
def stop_after_the_first_attempt(data_dir: Path, monkeypatch, env, *, agent_2_done: int = 1):
    """Agent-1 retries every 30 s here; once it has failed once and Agent-2 (an inbox, never
    held up) has had its ``agent_2_done`` deliveries, another Store records a stop."""
    for name in ("PATH", "COORDINATION_BASE_DELAY", "COORDINATION_MAX_RETRIES"):
        monkeypatch.setenv(name, env[name])
    done = threading.Event()

    def stop() -> None:
        wait_until(lambda: done.is_set() or (getattr(rows(data_dir).get("Agent-1"), "attempts", 0) >= 1
                                             and delivered_to(data_dir, "Agent-2") >= agent_2_done),
                   "Agent-1's first failed attempt and Agent-2's deliveries")
        with Store(default_db_path(data_dir)) as other:
            other.request_stop()

    stopper = threading.Thread(target=stop, daemon=True)
    stopper.start()
    try:
        yield
    finally:
        done.set()
        stopper.join(BOUND)


def test_a_send_in_this_process_reports_every_recipient_when_stopped_from_another_store(
        setup, capsys, monkeypatch):
    roster, env, data_dir = setup
    with stop_after_the_first_attempt(data_dir, monkeypatch, env):
        code = main(["send", "--roster", str(roster), "--data-dir", str(data_dir), "--stagger", "0", "--json",
                     "-a", "Agent-1", "-a", "Agent-2", "-m", "Rebase on main."])
    results = {r["agent"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert code == 1
    assert (results["Agent-1"]["state"], results["Agent-1"]["attempts"]) == ("cancelled", 1)
    assert results["Agent-2"]["state"] == "delivered"


def test_an_onboarding_run_stopped_from_another_store_shows_its_queued_steps_cancelled(
        setup, capsys, monkeypatch):
    roster, env, data_dir = setup
    with stop_after_the_first_attempt(data_dir, monkeypatch, env, agent_2_done=2):  # wrap-up, onboarding
        code = main(["onboard", "Agent-1", "Agent-2", "--roster", str(roster), "--data-dir", str(data_dir),
                     "--stagger", "0", "--json"])
    agents = {a["agent"]: a for a in json.loads(capsys.readouterr().out)["agents"]}
    assert code == 1
    states = {(agent, step): agents[agent][step]["state"] for agent in agents for step in ("wrap-up", "onboarding")}
    assert states[("Agent-1", "wrap-up")] == "cancelled"
    assert states[("Agent-1", "onboarding")] in ("cancelled", "skipped")
    assert states[("Agent-2", "wrap-up")] == states[("Agent-2", "onboarding")] == "delivered", states


def test_a_send_is_not_ended_by_a_stop_recorded_before_it_queued(setup, capsys, monkeypatch, tmp_path):
    from quarterdeck.cli import submit_wait

    roster, env, data_dir = setup
    monkeypatch.setenv("PATH", env["PATH"])
    real = submit_wait.submit_and_wait

    def stop_first(session, message, **kw):  # another process stops between open and queueing
        with Store(default_db_path(data_dir)) as other:
            other.request_stop()
        return real(session, message, **kw)

    monkeypatch.setattr(submit_wait, "submit_and_wait", stop_first)
    code = main(["send", "--roster", str(roster), "--data-dir", str(data_dir), "--stagger", "0", "--json",
                 "-a", "Agent-2", "-m", "Queued after the stop."])
    results = json.loads(capsys.readouterr().out)["results"]
    assert code == 0 and [r["state"] for r in results] == ["delivered"]
