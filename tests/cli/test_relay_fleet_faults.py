"""The whole system under the network's faults (issue 14): a real redis-server with AOF, two
``quarterdeck relay`` processes (inbox agents; a tmux pane on M1), and the captain as separate
``quarterdeck`` processes (``send --broadcast``, ``history --json``, ``agents list --json`` which
also stores the relays' activity events, ``attention --json``). Faults: a relay killed (kill -9)
mid-broadcast then restarted; Redis restarted during a broadcast; Redis paused (SIGSTOP) 5 s;
relays whose clocks are 30 s off (libfaketime).

After each, ``Fleet.account``: every delivery in the captain's history is accounted for (delivered,
failed, cancelled, uncertain, or queued with a reason), none arrived twice (inboxes and the pane
read back), and what the history calls delivered arrived exactly once.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest
import redis
from fleet_parts import Fleet, skewed_env
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import ROOT

from quarterdeck.core.relay.protocol import KEYS

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]


def texts(tag: str, count: int) -> list[str]:
    """Unique message texts, none a part of another."""
    run = uuid.uuid4().hex[:6]
    return [f"[{tag}-{run}-{n:03d}] report your status" for n in range(count)]


def finish(send: subprocess.Popen[str], timeout: float = 60) -> tuple[str, str]:
    try:
        out, err = send.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        send.kill()
        out, err = send.communicate(timeout=10)
        raise AssertionError(f"send did not end in {timeout} s: {out[-2000:]} {err[-2000:]}") from None
    assert "Traceback" not in err, err
    return out, err


@pytest.fixture
def fleet(tmp_path, redis_server: RedisServer, request):
    options = getattr(request, "param", {})
    fleet = Fleet(tmp_path, redis_server.url, **options)
    try:
        yield fleet.start()
    finally:
        fleet.close()


@pytest.mark.parametrize("fleet", [{"stagger": {"M1": 0.3}}], indirect=True)
def test_a_relay_killed_mid_broadcast_then_restarted(fleet: Fleet) -> None:
    [text] = texts("kill", 1)
    started = time.monotonic()
    send = fleet.broadcast(text)
    m1 = fleet.agents["M1"]
    fleet.wait_arrived(m1, text, 2)  # M1 is part way through its seven agents (0.3 s apart)
    fleet.relays["M1"].kill()  # kill -9
    at_kill = sum(fleet.arrived(a, text) for a in m1)
    time.sleep(1.0)
    fleet.relays["M1"].start()
    finish(send)
    counts = fleet.account([text])
    print(f"kill -9 of M1 with {at_kill} of its {len(m1)} agents typed; send ended after "
          f"{time.monotonic() - started:.1f} s (exit {send.returncode}): {dict(counts)}")
    assert at_kill < len(m1), "the kill came after M1 had typed everything: it tested nothing"
    assert counts["delivered"] + counts["uncertain"] == len(fleet.every_agent()), counts
    assert counts["uncertain"] <= 1  # at most the one being typed when it died


@pytest.mark.parametrize("fleet", [{"stagger": {"M1": 0.3, "M2": 0.3}}], indirect=True)
def test_redis_restarted_during_a_broadcast(fleet: Fleet, redis_server: RedisServer) -> None:
    first, second = texts("restart", 2)
    started = time.monotonic()
    send = fleet.broadcast(first)
    fleet.wait_arrived(fleet.agents["M1"] + fleet.agents["M2"], first, 2)
    redis_server.restart(down_for=1.5)  # SIGTERM (AOF flushed), down 1.5 s, same port and folder
    finish(send)
    after = fleet.broadcast(second)  # and the fleet works on afterwards
    finish(after)
    counts = fleet.account([first, second])
    print(f"Redis restarted mid-broadcast: both broadcasts ended after {time.monotonic() - started:.1f} s: "
          f"{dict(counts)}")
    assert counts == {"delivered": 2 * len(fleet.every_agent())}, counts
    for relay in fleet.relays.values():
        assert "Traceback" not in relay.err.read_text(), relay.output()


@pytest.mark.parametrize("fleet", [{"stagger": {"M1": 0.3, "M2": 0.3}}], indirect=True)
def test_redis_paused_5_s_during_a_broadcast(fleet: Fleet, redis_server: RedisServer) -> None:
    [text] = texts("pause", 1)
    started = time.monotonic()
    send = fleet.broadcast(text)
    remote = fleet.agents["M1"] + fleet.agents["M2"]
    fleet.wait_arrived(remote, text, 2)
    # every entry taken off the relays' streams (queued at the relays) before Redis stops answering:
    # what the relays hold is what they must go on typing
    client = redis.Redis.from_url(redis_server.url)
    deadline = time.monotonic() + 10
    while any(client.xlen(KEYS.relay_in(name)) for name in ("M1", "M2")):
        assert time.monotonic() < deadline, "the relays did not take their entries"
        time.sleep(0.01)
    client.close()
    redis_server.pause()
    paused_with = sum(fleet.arrived(a, text) for a in remote)
    time.sleep(5)
    typed_while_paused = sum(fleet.arrived(a, text) for a in remote) - paused_with
    redis_server.unpause()
    finish(send)
    counts = fleet.account([text])
    print(f"Redis paused 5 s with {paused_with} remote agents typed; {typed_while_paused} typed while paused; "
          f"send ended after {time.monotonic() - started:.1f} s: {dict(counts)}")
    # what the relays held when Redis stopped answering is typed meanwhile (a relay that writes its
    # inbox agents in batches may have typed everything by then)
    held = len(remote) - paused_with
    assert held == 0 or typed_while_paused > 0, "the relays kept delivering what they held"
    assert counts == {"delivered": len(fleet.every_agent())}, counts


@pytest.mark.parametrize("fleet", [{"skew": {"M1": 30.0, "M2": -30.0}}], indirect=True)
def test_relays_whose_clocks_are_30_s_off(fleet: Fleet, redis_server: RedisServer) -> None:
    """M1's clock runs 30 s ahead (alive it looked fresh, dead it would look fresh 40 s on), M2's 30 s
    behind (alive it would look stale): judged in the broker's clock, each looks as it is."""
    listed = fleet.agents_list()
    for agent in fleet.agents["M1"] + fleet.agents["M2"]:
        assert float(listed[agent]["relay_seen"]) < 5, listed[agent]  # type: ignore[arg-type]
        assert listed[agent]["activity"]["state"] != "offline", listed[agent]  # type: ignore[index]
    [text] = texts("skew", 1)
    finish(fleet.broadcast(text))
    assert fleet.account([text]) == {"delivered": len(fleet.every_agent())}

    # a hook on M2 (its clock 30 s behind) says its agent needs you: the captain sees it as just now
    hook = subprocess.run(
        [sys.executable, "-m", "quarterdeck", "hook", "--agent", "B0", "--source", "claude-code", "--data-dir",
         str(fleet.relays["M2"].data_dir)],
        input=json.dumps({"hook_event_name": "Notification", "session_id": "s-1",
                          "message": "Claude needs your permission to use Bash"}),
        cwd=ROOT, env={**os.environ, **skewed_env(-30)}, capture_output=True, text=True, timeout=30)
    assert hook.returncode == 0, hook.stderr
    deadline = time.monotonic() + 10
    waiting: dict[str, dict[str, object]] = {}
    while "B0" not in waiting:  # attention with the broker stores the relays' events itself
        assert time.monotonic() < deadline, fleet.relays["M2"].output()
        attention = fleet.run("attention", "--json", roster=False)
        assert attention.returncode == 0, attention.stderr
        waiting = {str(a["agent"]): a for a in json.loads(attention.stdout)}
        time.sleep(0.2)
    assert fleet.agents_list()["B0"]["activity"]["state"] == "needs-you"  # type: ignore[index]
    assert waiting["B0"]["state"] == "needs-you", attention.stdout
    assert waiting["B0"]["message"] == "Claude needs your permission to use Bash"
    print(f"a hook on M2 (clock 30 s behind), as the captain's attention shows it: {waiting['B0']}")
    assert float(waiting["B0"]["seconds"]) < 5, "its 30 s behind clock made the event look old"

    fleet.relays["M1"].kill()  # dead: 30 s ahead must not keep it looking alive
    time.sleep(11)
    listed = fleet.agents_list()
    for agent in fleet.agents["M1"]:
        assert listed[agent]["activity"]["state"] == "offline", json.dumps(listed[agent])  # type: ignore[index]
        assert 10 <= float(listed[agent]["relay_seen"]) < 20, listed[agent]  # type: ignore[arg-type]
    for agent in fleet.agents["M2"]:
        assert listed[agent]["activity"]["state"] != "offline", listed[agent]  # type: ignore[index]
