"""Stop all and resume from the captain through ``qd:control``, applied by a relay process: the next
deliveries halt within 100 ms (measured from the inbox files' times), the rest are reported cancelled,
and resume lets new ones through."""
from __future__ import annotations

import time
from collections import Counter

from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import Captain, RelayProcess, write_roster

AGENTS = ("Agent-1", "Agent-2")


def written_times(tmp_path) -> list[float]:
    return sorted(f.stat().st_mtime for agent in AGENTS if (tmp_path / agent).exists()
                  for f in (tmp_path / agent).iterdir())


def test_stop_all_halts_the_next_deliveries_within_100_ms_and_resume_lifts_it(
        tmp_path, redis_server: RedisServer) -> None:
    roster = write_roster(tmp_path / "agents.yaml", [
        {"id": agent, "transport": "inbox", "path": str(tmp_path / agent)} for agent in AGENTS])
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data").start()
    captain = Captain(redis_server.url)
    try:
        # two agents taking turns, 50 ms apart (the dispatcher's stagger): ~20 deliveries a second
        sent = [captain.send("box-1", AGENTS[n % 2], f"task number {n}")[0] for n in range(100)]
        captain.wait_for(lambda: sum(r.state == "delivered" for r in captain.read_receipts()) >= 10, 20,
                         "10 delivered")
        stopped_at = captain.control("stop", 1)
        final = captain.wait_final(set(sent), timeout=20)
        times = written_times(tmp_path)
        after = [t - stopped_at for t in times if t > stopped_at]
        halt_ms = max(after, default=0.0) * 1000
        states = [final[d].state for d in sent]
        delivered, cancelled = states.count("delivered"), states.count("cancelled")
        # the relay's own record of the stop: when its local stop-all cancelled the queue (after the halt)
        applied_ms = (min(final[d].at for d in sent if final[d].reason == "stopped: stop all") - stopped_at) * 1000
        print(f"stop all: applied by the relay {applied_ms:.1f} ms after the stop entry was written; the last "
              f"delivery written {halt_ms:.1f} ms after it ({len(after)} after it); {delivered} delivered, "
              f"{cancelled} cancelled")
        assert halt_ms <= 100, f"a delivery was written {halt_ms:.1f} ms after the stop"
        assert applied_ms <= 100, f"the relay applied the stop {applied_ms:.1f} ms after it was written"
        assert delivered + cancelled == 100 and cancelled > 50
        assert delivered == len(times)  # what was reported delivered is what arrived
        reasons = Counter(final[d].reason for d in sent if final[d].state == "cancelled")
        # the queue cancelled by the stop; at most one more, the one it caught before its typing began
        assert reasons["stopped: stop all"] >= cancelled - 1, reasons
        assert all(reason.startswith("stopped: stop") for reason in reasons), reasons
        # while stopped, a new entry is taken and cancelled at once, not typed later
        late, _ = captain.send("box-1", "Agent-1", "sent during the stop")
        assert captain.wait_final({late})[late].state == "cancelled"
        captain.control("resume", 1)
        time.sleep(0.3)  # the resume reaches the relay within its 100 ms read
        again, _ = captain.send("box-1", "Agent-2", "after the resume")
        assert captain.wait_final({again})[again].state == "delivered"
        assert len(written_times(tmp_path)) == delivered + 1
        relay.stop()
    finally:
        relay.close()


def test_a_relay_started_during_a_stop_starts_halted(tmp_path, redis_server: RedisServer) -> None:
    roster = write_roster(tmp_path / "agents.yaml", [{"id": "Agent-1", "transport": "inbox",
                                                      "path": str(tmp_path / "Agent-1")}])
    captain = Captain(redis_server.url)
    captain.control("stop", 4)
    relay = RelayProcess("box-1", roster, redis_server.url, tmp_path / "data").start()
    try:
        delivery, _ = captain.send("box-1", "Agent-1", "not while stopped")
        assert captain.wait_final({delivery})[delivery].state == "cancelled"
        captain.control("resume", 4)
        time.sleep(0.3)
        again, _ = captain.send("box-1", "Agent-1", "after the resume")
        assert captain.wait_final({again})[again].state == "delivered"
        assert len(list((tmp_path / "Agent-1").iterdir())) == 1
        relay.stop()
        assert "starting halted" in relay.err.read_text()
    finally:
        relay.close()
