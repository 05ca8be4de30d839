"""The watch service (quarterdeck.core.activity.watch.service): one watcher per data folder,
changes recorded like hook events, a failing watcher skipped without stopping the others."""
from __future__ import annotations

import logging
import subprocess
import sys
import threading

from quarterdeck.core.activity import journal
from quarterdeck.core.activity.events import ActivityEvent
from quarterdeck.core.activity.watch.service import WatchLock, WatchService
from quarterdeck.core.store import Store

T = 1_780_000_000.0


class Scripted:
    """Reports the events it is given for each tick, in turn."""

    def __init__(self, *ticks: list[ActivityEvent]) -> None:
        self.ticks = list(ticks)
        self.asked: list[float] = []

    def sample(self, now: float) -> list[ActivityEvent]:
        self.asked.append(now)
        return self.ticks.pop(0) if self.ticks else []


class Broken:
    def sample(self, now: float) -> list[ActivityEvent]:
        raise RuntimeError("tmux went away")


def seen(kind: str, at: float, agent: str = "A") -> ActivityEvent:
    return ActivityEvent(agent, "tmux-watch", kind, "busy indicator in pane", T + at)


def test_changes_are_recorded_and_read_back_as_activity(tmp_path, caplog):
    with Store(tmp_path / "quarterdeck.sqlite3"):
        pass
    told: list[list[ActivityEvent]] = []
    watcher = Scripted([seen("seen_working", 0)], [], [seen("seen_idle", 2)])
    service = WatchService(tmp_path, [Broken(), watcher], on_events=told.append)
    with caplog.at_level(logging.WARNING):
        assert len(service.tick(T)) == 1
        assert service.tick(T + 1) == []
        assert len(service.tick(T + 2)) == 1
    assert watcher.asked == [T, T + 1, T + 2]  # the broken watcher did not stop it
    assert [r.getMessage() for r in caplog.records] == ["watching failed (Broken: RuntimeError): tmux went away"]
    assert [[e.kind for e in batch] for batch in told] == [["seen_working"], ["seen_idle"]]
    assert journal.activities(tmp_path, ["A"], now=T + 3)["A"].state == "idle"


def test_run_ticks_on_its_interval_until_stopped(tmp_path):
    stop = threading.Event()
    ticks: list[float] = []

    class Counting:
        def sample(self, now: float) -> list[ActivityEvent]:
            ticks.append(now)
            if len(ticks) == 3:
                stop.set()
            return []

    closed: list[str] = []

    class Closing(Counting):
        def close(self) -> None:
            closed.append(threading.current_thread().name)

    runner = threading.Thread(target=WatchService(tmp_path, [Closing()], interval=0.05).run, args=(stop,),
                              name="watching")
    runner.start()
    runner.join(5)
    assert not runner.is_alive() and len(ticks) == 3
    assert closed == ["watching"]  # closed once, on the thread that used it
    assert 0.03 < ticks[2] - ticks[1] < 1.0


def test_one_process_watches_a_data_folder_the_others_read(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from quarterdeck.core.activity.watch.service import WatchLock; "
         "assert WatchLock(Path(sys.argv[1])).claim(); print('held', flush=True); time.sleep(30)", str(tmp_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        lock = WatchLock(tmp_path)
        assert not lock.claim()
        assert lock.holder() == holder.pid
    finally:
        holder.kill()
        holder.communicate()
    assert lock.claim() and lock.holder() is not None
    assert lock.claim()  # claiming again while held is a no-op
    lock.release()


def test_the_service_prunes_old_events_once_an_hour(tmp_path):
    from quarterdeck.core.activity.record import record

    with Store(tmp_path / "quarterdeck.sqlite3"):
        pass
    for n in range(60):  # 60 events 20 days old: the latest 50 stay, whatever their age
        record(tmp_path, seen("seen_working" if n % 2 else "seen_idle", n))
    service = WatchService(tmp_path, [])
    service.tick(T + 20 * 86400)
    assert len(journal.load_events(tmp_path, per_agent=100)) == 50
    for n in range(60, 70):
        record(tmp_path, seen("seen_working", n))
    service.tick(T + 20 * 86400 + 60)  # within the hour: not again
    assert len(journal.load_events(tmp_path, per_agent=100)) == 60


def test_a_prompt_reported_by_a_real_hook_process_confirms_its_delivery_on_the_next_tick(tmp_path):
    import json
    import time

    from quarterdeck.core.delivery.prefix import format_for_delivery
    from quarterdeck.core.models import Message

    with Store(tmp_path / "quarterdeck.sqlite3") as store:
        msg = Message(sender="Captain", recipients=["Agent-1"], content="Run the tests, then report.")
        [delivery_id] = store.enqueue(msg, [("Agent-1", "tmux")])
        assert store.claim_next() is not None
        store.mark_delivered(delivery_id, 40.0, verdict="submitted", evidence="the input emptied")
        service = WatchService(tmp_path, [])
        service.tick()
        assert store.delivery(delivery_id).verdict == "submitted"  # no prompt yet: nothing to confirm
        payload = {"session_id": "s1", "transcript_path": "/tmp/t.jsonl", "cwd": str(tmp_path),
                   "hook_event_name": "UserPromptSubmit", "prompt": format_for_delivery(msg, "Agent-1")}
        done = subprocess.run([sys.executable, "-m", "quarterdeck", "hook", "--agent", "Agent-1", "--source",
                               "claude-code", "--data-dir", str(tmp_path)], input=json.dumps(payload),
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        service.tick(time.time())
        row = store.delivery(delivery_id)
        assert row.verdict == "confirmed_by_agent"
        assert "UserPromptSubmit" in (row.evidence or "")
