"""The captain's side of issue 14 with real parts: a real redis-server, ``quarterdeck relay`` as a
separate process with inbox agents, and the captain as separate ``quarterdeck`` processes (send,
agents list, history, stop)."""
from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import ROOT, RelayProcess, inbox_texts, write_roster

from quarterdeck.core.relay.protocol import KEYS, ControlEntry
from quarterdeck.core.store.control import outbox_id


class CaptainCli:
    """``quarterdeck`` commands with this captain's data dir, roster and broker."""

    def __init__(self, tmp_path: Path, url: str, agents: list[dict[str, str]]) -> None:
        self.data = tmp_path / "captain"
        self.roster = write_roster(tmp_path / "captain.yaml", agents)
        self.url = url

    def argv(self, *args: str, broker: bool = True) -> list[str]:
        return [sys.executable, "-m", "quarterdeck", "--data-dir", str(self.data), "--roster", str(self.roster),
                *(("--broker", self.url) if broker else ()), *args]

    def run(self, *args: str, timeout: float = 60, broker: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(*args, broker=broker), cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def agents(self) -> list[dict[str, object]]:
        done = self.run("agents", "list", "--json")
        assert done.returncode in (0, 1), done.stderr
        return json.loads(done.stdout)

    def history(self) -> list[dict[str, object]]:
        done = self.run("history", "--json", broker=False)  # this machine's outbox: no broker needed
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["rows"]


@pytest.fixture
def m2(tmp_path, redis_server: RedisServer):
    roster = write_roster(tmp_path / "m2.yaml", [{"id": "Agent-9", "transport": "inbox",
                                                  "path": str(tmp_path / "in9")}])
    process = RelayProcess("M2", roster, redis_server.url, tmp_path / "m2-data").start()
    yield process
    process.close()


def local_agent(tmp_path: Path, agent_id: str = "Agent-1") -> dict[str, str]:
    return {"id": agent_id, "transport": "inbox", "path": str(tmp_path / f"local-{agent_id}")}


def test_a_message_to_a_relays_agent_arrives_and_the_history_shows_the_relays_verdict(
        tmp_path, redis_server: RedisServer, m2: RelayProcess) -> None:
    captain = CaptainCli(tmp_path, redis_server.url, [local_agent(tmp_path)])
    listed = {a["id"]: a for a in captain.agents()}
    assert listed["Agent-1"]["machine"] == socket.gethostname() and listed["Agent-1"]["relay_seen"] is None
    assert listed["Agent-9"]["machine"] == "M2" and 0 <= float(listed["Agent-9"]["relay_seen"]) < 10  # type: ignore[arg-type]
    table = captain.run("agents", "list")
    assert table.stdout.splitlines()[0].split()[:3] == ["ID", "MACHINE", "ROLE"]
    assert "problem" not in table.stdout and table.returncode == 0

    sent = captain.run("send", "-a", "Agent-9", "-m", "Rebase on main and report back.")
    assert sent.returncode == 0, sent.stderr
    assert "submitted" in sent.stdout and "(relay M2)" in sent.stdout
    [text] = inbox_texts(tmp_path / "in9")
    assert text.endswith("Rebase on main and report back.")
    assert inbox_texts(tmp_path / "local-Agent-1") == []
    [row] = captain.history()
    assert (row["agent"], row["state"], row["verdict"], row["machine"]) == ("Agent-9", "delivered", "submitted", "M2")
    assert str(row["evidence"]).endswith("(relay M2)")
    client = redis.Redis.from_url(redis_server.url)
    assert client.xlen(KEYS.relay_in("M2")) == 0  # taken and trimmed
    deadline = time.monotonic() + 5
    with sqlite3.connect(captain.data / "quarterdeck.sqlite3") as outbox:
        stream = KEYS.receipts_of(outbox_id(outbox))  # this captain's: named by its outbox
    while client.xlen(stream) and time.monotonic() < deadline:  # receipts applied, acknowledged, deleted
        time.sleep(0.05)
    assert client.xlen(stream) == 0 and client.xinfo_stream(stream)["entries-added"] >= 1


def test_the_same_id_on_two_machines_is_shown_and_a_send_to_it_refused(
        tmp_path, redis_server: RedisServer, m2: RelayProcess) -> None:
    captain = CaptainCli(tmp_path, redis_server.url, [local_agent(tmp_path), local_agent(tmp_path, "Agent-9")])
    listing = captain.run("agents", "list")
    assert listing.returncode == 1
    here = socket.gethostname()
    assert (f"problem: agent id Agent-9 is on 2 machines ({here}, M2): sends to it are refused until one is "
            "renamed") in listing.stdout
    sent = captain.run("send", "-a", "Agent-9", "-m", "Which one of you?")
    assert sent.returncode != 0
    assert sent.stderr.strip().endswith(f"Agent-9 is on more than one machine ({here} and M2): not sent; give one "
                                        "of them another id")
    assert inbox_texts(tmp_path / "in9") == [] and inbox_texts(tmp_path / "local-Agent-9") == []
    assert captain.history() == []
    ok = captain.run("send", "-a", "Agent-1", "-m", "You are unique.")  # the rest of the roster is fine
    assert ok.returncode == 0, ok.stderr


def test_two_captains_on_one_broker_each_get_their_own_deliveries_typed_and_reported(
        tmp_path, redis_server: RedisServer, m2: RelayProcess) -> None:
    """Two captains (two machines, two outboxes) share a broker and a relay: both send their delivery 1
    to Agent-9 while the relay is paused, so it reads both at once. Both are typed, and each captain
    reports its own, from its own receipt."""
    captains = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        captains.append(CaptainCli(tmp_path / name, redis_server.url, [local_agent(tmp_path / name)]))
        assert "Agent-9" in {a["id"] for a in captains[-1].agents()}
    client = redis.Redis.from_url(redis_server.url)
    assert m2.process is not None
    m2.process.send_signal(signal.SIGSTOP)
    try:
        sends = [subprocess.Popen(c.argv("send", "-a", "Agent-9", "-m", f"From captain {n}."), cwd=ROOT, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
                 for n, c in enumerate(captains, 1)]
        deadline = time.monotonic() + 30
        while client.xlen(KEYS.relay_in("M2")) < 2:
            assert time.monotonic() < deadline and all(s.poll() is None for s in sends), "both entries written"
            time.sleep(0.05)
    finally:
        m2.process.send_signal(signal.SIGCONT)
    done = [s.communicate(timeout=60) for s in sends]
    assert [s.returncode for s in sends] == [0, 0], done
    assert all("submitted" in out and "(relay M2)" in out for out, _ in done), done
    assert sorted(t.rstrip().splitlines()[-1] for t in inbox_texts(tmp_path / "in9")) == [
        "From captain 1.", "From captain 2."]
    for n, captain in enumerate(captains, 1):
        [row] = captain.history()
        assert (row["delivery_id"], row["state"], row["machine"], row["verdict"]) == (1, "delivered", "M2", "submitted")
        assert row["content"] == f"From captain {n}."
    client.close()


def test_the_broker_down_at_send_time_keeps_the_message_with_the_reason_until_it_is_back(
        tmp_path, redis_server: RedisServer, m2: RelayProcess) -> None:
    captain = CaptainCli(tmp_path, redis_server.url, [local_agent(tmp_path)])
    assert {a["id"] for a in captain.agents()} == {"Agent-1", "Agent-9"}  # the relays, as last seen
    redis_server.stop()
    err = tmp_path / "send.err"
    with err.open("w") as stderr:
        send = subprocess.Popen(captain.argv("send", "-a", "Agent-9", "-m", "Sent while the broker was down."),
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True, stdin=subprocess.DEVNULL)
    try:
        reason = f"waiting for broker redis://127.0.0.1:{redis_server.port}: "
        deadline = time.monotonic() + 30
        while reason not in err.read_text():
            assert send.poll() is None and time.monotonic() < deadline, err.read_text()
            time.sleep(0.05)
        time.sleep(1.5)  # more attempts to reach the broker: the reason is told once per outage, not per attempt
        assert err.read_text().count(reason) == 1, err.read_text()
        [row] = captain.history()
        assert row["state"] == "queued" and str(row["reason"]).startswith(reason)  # not failed, not lost: queued
        assert "Connection refused" in str(row["reason"]) and row["machine"] is None  # with the reason shown
        assert inbox_texts(tmp_path / "in9") == []
        redis_server.start()
        out, _ = send.communicate(timeout=60)
    finally:
        if send.poll() is None:
            send.kill()
            send.communicate(timeout=10)
    assert send.returncode == 0, err.read_text()
    assert "submitted" in out and "(relay M2)" in out
    assert [t.endswith("Sent while the broker was down.") for t in inbox_texts(tmp_path / "in9")] == [True]
    [row] = captain.history()
    assert (row["state"], row["reason"], row["machine"]) == ("delivered", None, "M2")


def test_a_relay_killed_mid_way_is_last_seen_and_its_agents_offline(
        tmp_path, redis_server: RedisServer, m2: RelayProcess) -> None:
    captain = CaptainCli(tmp_path, redis_server.url, [local_agent(tmp_path)])
    nine = {a["id"]: a for a in captain.agents()}["Agent-9"]
    assert nine["activity"]["state"] != "offline"  # type: ignore[index]
    m2.kill()  # kill -9: no goodbye
    time.sleep(11)
    listing = captain.run("agents", "list")
    line = next(t for t in listing.stdout.splitlines() if t.startswith("Agent-9"))
    seen = int(line.split("last seen ")[1].split(" s ago")[0])
    assert 10 <= seen <= 20 and "M2 (last seen" in line
    assert f"problem: relay M2 last seen {seen} s ago: its agents are offline" in listing.stdout
    nine = {a["id"]: a for a in captain.agents()}["Agent-9"]
    assert nine["activity"]["state"] == "offline" and float(nine["relay_seen"]) >= 10  # type: ignore[index, arg-type]
    local = {a["id"]: a for a in captain.agents()}["Agent-1"]
    assert local["activity"]["state"] != "offline"  # type: ignore[index]


def test_send_with_a_timeout_stops_waiting_for_a_relay_that_is_gone_and_its_delivery_goes_on(
        tmp_path, redis_server: RedisServer, m2: RelayProcess) -> None:
    captain = CaptainCli(tmp_path, redis_server.url, [local_agent(tmp_path)])
    assert "Agent-9" in {a["id"] for a in captain.agents()}
    m2.kill()  # kill -9: its last heartbeat is fresh, so the send goes to its stream
    began = time.monotonic()
    sent = captain.run("send", "-a", "Agent-9", "-m", "Sent while M2 was down.", "--timeout", "3s")
    assert sent.returncode == 124 and 3 <= time.monotonic() - began < 20, sent.stderr
    assert "quarterdeck: no outcome within 3s for 1 of 1 deliveries (Agent-9: sending" in sent.stderr
    assert "they go on without this command" in sent.stderr and "Traceback" not in sent.stderr
    assert sent.stdout.split()[:2] == ["Agent-9", "sending"] and "no outcome yet" in sent.stdout
    as_json = captain.run("send", "-a", "Agent-9", "-m", "And this one.", "--timeout", "1s", "--json")
    assert as_json.returncode == 124
    assert [r["state"] for r in json.loads(as_json.stdout)["results"]] == ["sending"]
    m2.start()  # back: it types both, and the next send on this outbox records their receipts
    last = captain.run("send", "-a", "Agent-9", "-m", "After M2 came back.", "--timeout", "1m")
    assert last.returncode == 0, last.stderr
    assert sorted(t.rstrip().splitlines()[-1] for t in inbox_texts(tmp_path / "in9")) == [
        "After M2 came back.", "And this one.", "Sent while M2 was down."]
    deadline = time.monotonic() + 20
    while {r["state"] for r in captain.history()} != {"delivered"}:
        assert time.monotonic() < deadline, captain.history()
        captain.run("send", "-a", "Agent-1", "-m", "reading receipts", "--timeout", "10s")
    bad = captain.run("send", "-a", "Agent-9", "-m", "x", "--timeout", "soon")
    assert bad.returncode == 2 and bad.stderr.strip().endswith("--timeout: 'soon' is not a duration: write it "
                                                              "like 90s, 30m or 2h")


def test_stop_all_and_resume_reach_the_relays(tmp_path, redis_server: RedisServer) -> None:
    captain = CaptainCli(tmp_path, redis_server.url, [local_agent(tmp_path)])
    assert captain.run("stop").returncode == 0
    assert captain.run("resume").returncode == 0
    client = redis.Redis.from_url(redis_server.url)
    entries = [ControlEntry.from_fields(fields) for _, fields in client.xrange(KEYS.control)]
    assert [(e.kind, e.generation) for e in entries] == [("stop", 1), ("resume", 1)]
    assert all(abs(e.at - time.time()) < 30 for e in entries)
