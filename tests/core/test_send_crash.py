"""kill -9 of a running `quarterdeck send --broadcast`: every delivery is still accounted for, the
one being typed turns uncertain in the next process, and nothing ever sends it again."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from functools import partial
from pathlib import Path

import polling
import pytest
import yaml

from quarterdeck.core.store import Store, default_db_path, search

wait_until = partial(polling.wait_until, timeout=20.0, every=0.02)

ROOT = Path(__file__).resolve().parents[2]
QUARTERDECK = Path(sys.executable).with_name("quarterdeck")  # the command installed beside this Python
TEXT = "all hands: rebase on main, then run the suite"
SLOW = "Agent-3"

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL"),
]


@pytest.fixture
def silent_pane(tmp_path):
    """A tmux pane (on a server of its own, via ``TMUX_TMPDIR``) with echo off running ``cat > FILE``:
    what is pasted reaches the file but never shows in the pane, so the transport keeps waiting
    for an arrival it cannot see."""
    folder = Path(tempfile.mkdtemp(prefix="qd-tmux-"))
    env = {key: value for key, value in os.environ.items() if key != "TMUX"}
    env["TMUX_TMPDIR"] = str(folder)
    out = tmp_path / "agent-3.txt"
    session = f"qd-crash-{uuid.uuid4().hex[:8]}"
    target = subprocess.run(
        ["tmux", "-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "120", "-y", "30",
         "-P", "-F", "#{session_name}:#{window_index}.#{pane_index}",
         f"stty -echo; exec cat > {shlex.quote(str(out))}"],
        env=env, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    try:
        wait_until(out.exists, "cat in the silent pane")
        yield env, target, out
    finally:
        subprocess.run(["tmux", "kill-server"], env=env, capture_output=True, timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def quarterdeck(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(QUARTERDECK), *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def states(store: Store) -> dict[str, str]:
    return {row.agent_id: str(row.state) for row in search(store, limit=100)}


def inbox_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.md")) if folder.exists() else []


def test_kill_9_mid_broadcast_leaves_every_delivery_accounted_for_and_never_resends(tmp_path, silent_pane):
    pane_env, target, pane_out = silent_pane
    (tmp_path / "inbox").mkdir()
    inboxes = {f"Agent-{n}": tmp_path / "inbox" / f"agent-{n}" for n in (1, 2, 4, 5, 6)}
    agents = [{"id": f"Agent-{n}", "transport": "inbox", "path": str(inboxes[f"Agent-{n}"])}
              if n != 3 else {"id": SLOW, "transport": "tmux", "target": target} for n in range(1, 7)]
    roster = tmp_path / "agents.yaml"
    roster.write_text(yaml.safe_dump({"agents": agents}), encoding="utf-8")
    data = tmp_path / "data"
    env = {**pane_env, "QUARTERDECK_DATA_DIR": str(data), "QUARTERDECK_CONFIG_DIR": str(tmp_path / "config")}
    expected_in_pane = f"[C2A] Captain → {SLOW} | BROADCAST\n{TEXT}\n".encode()

    sender = subprocess.Popen([str(QUARTERDECK), "send", "--roster", str(roster), "--broadcast", "-m", TEXT],
                              env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(default_db_path(data).exists, "the outbox file")
        with Store(default_db_path(data)) as watcher:
            def caught_typing() -> bool:
                now = states(watcher)
                return (now.get(SLOW) == "sending" and pane_out.read_bytes() == expected_in_pane
                        and "delivered" in now.values())

            wait_until(caught_typing, f"{SLOW} to have its text pasted while still 'sending'")
            os.kill(sender.pid, signal.SIGKILL)
            assert sender.wait(timeout=30) == -signal.SIGKILL
            at_kill = states(watcher)
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait()
        sender.stdout.close()
        sender.stderr.close()

    assert set(at_kill) == {agent["id"] for agent in agents}, "a delivery of the broadcast was lost"
    assert at_kill[SLOW] == "sending"
    assert set(at_kill.values()) <= {"delivered", "queued", "sending"}
    assert at_kill["Agent-1"] == at_kill["Agent-2"] == "delivered"
    for agent_id, folder in inboxes.items():
        assert len(inbox_files(folder)) == (at_kill[agent_id] == "delivered"), agent_id

    status = quarterdeck(env, "status", "--roster", str(roster))
    assert status.returncode == 1, status.stdout + status.stderr
    assert "uncertain 1" in status.stdout
    assert f"{SLOW:<16} uncertain" in status.stdout

    history = json.loads(quarterdeck(env, "history", "--json").stdout)
    after = {row["agent"]: row for row in history["rows"]}
    assert history["total"] == len(agents) and set(after) == set(at_kill)
    assert after[SLOW]["state"] == "uncertain" and "interrupted" in after[SLOW]["reason"]
    for agent_id, row in after.items():
        if agent_id != SLOW:
            assert row["state"] == at_kill[agent_id], agent_id

    again = quarterdeck(env, "send", "--roster", str(roster), "-a", "Agent-1", "-m", "after the crash")
    assert again.returncode == 0, again.stdout + again.stderr
    history = json.loads(quarterdeck(env, "history", "--json", "--search", "rebase").stdout)
    final = {row["agent"]: row for row in history["rows"]}
    assert history["total"] == len(agents)
    assert final[SLOW]["state"] == "uncertain" and final[SLOW]["attempts"] == after[SLOW]["attempts"]
    assert {agent_id: row["state"] for agent_id, row in final.items() if agent_id != SLOW} == {
        agent_id: "delivered" for agent_id in inboxes}, "the next session finishes what was queued"
    for folder in inboxes.values():
        assert len(inbox_files(folder)) == 1 + (folder.name == "agent-1")
    assert pane_out.read_bytes() == expected_in_pane, f"{SLOW} got its message again"
