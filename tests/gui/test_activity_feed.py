"""The activity feed: a hook event recorded into the real store reaches the panel within the
feed's deadline, off the UI thread; states are recomputed every second even when nothing new came."""
from __future__ import annotations

import sqlite3
import time

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from quarterdeck.core.activity.events import NEEDS_YOU, PROMPT_SUBMITTED, TURN_ENDED, ActivityEvent
from quarterdeck.core.activity.record import SPOOL_NAME, STORED, append_spool, record
from quarterdeck.gui.activity import feed as feed_module
from quarterdeck.gui.activity.feed import BACKOFF_MS, POLL_MS, ActivityFeed, feed_for

DEADLINE_S = 0.25  # a hook event reaches the roster within this (the poll is POLL_MS)


def event(agent: str, kind: str, name: str, **fields) -> ActivityEvent:
    return ActivityEvent(agent_id=agent, source="claude-code", kind=kind, name=name, at=time.time(), **fields)


def test_a_recorded_hook_event_reaches_the_feed_within_the_deadline(make_ctx, qtbot, monkeypatch):
    ctx = make_ctx()
    looked_on: list[object] = []
    real_look = feed_module._look

    def look(tail, store):
        looked_on.append(QThread.currentThread())
        return real_look(tail, store)

    monkeypatch.setattr(feed_module, "_look", look)
    feed = feed_for(ctx)
    assert feed_for(ctx) is feed  # one feed per context
    qtbot.waitUntil(lambda: feed.latest_at is not None, timeout=3000)
    assert {a: act.state for a, act in feed.latest.items()} == {"Agent-1": "unknown", "Agent-2": "unknown"}
    latencies = []
    for agent, kind, name, extra in (
            ("Agent-1", NEEDS_YOU, "Notification", {"waits_for": "permission", "text": "Allow Bash?"}),
            ("Agent-2", PROMPT_SUBMITTED, "UserPromptSubmit", {}),
            ("Agent-1", TURN_ENDED, "Stop", {})):
        with qtbot.waitSignal(feed.sig_activities, timeout=3000,
                              check_params_cb=lambda acts, _now, a=agent, n=name: acts[a].signal == n):
            started = time.monotonic()
            assert record(ctx.store.path.parent, event(agent, kind, name, **extra))[0] == STORED
        latencies.append(time.monotonic() - started)
    assert feed.latest["Agent-1"].state == "idle" and feed.latest["Agent-2"].state == "working"
    # every look ran on the background runner's thread, none on the UI thread
    assert looked_on and QApplication.instance().thread() not in looked_on
    print(f"feed latency: {', '.join(f'{s * 1000:.0f} ms' for s in latencies)} (poll {POLL_MS} ms)")
    assert max(latencies) < DEADLINE_S, latencies


def test_a_spooled_event_is_taken_in_by_the_next_poll(make_ctx, qtbot):
    """The hook spools when the database is busy: no WAL write tells the feed, its poll finds it."""
    ctx = make_ctx()
    feed = feed_for(ctx)
    qtbot.waitUntil(lambda: feed.latest_at is not None, timeout=3000)
    spool = ctx.store.path.parent / SPOOL_NAME
    with qtbot.waitSignal(feed.sig_activities, timeout=3000,
                          check_params_cb=lambda acts, _now: acts["Agent-2"].state == "needs-you"):
        started = time.monotonic()
        append_spool(spool.parent, event("Agent-2", NEEDS_YOU, "Notification", waits_for="question").to_json())
    took = time.monotonic() - started
    print(f"spooled event to feed: {took * 1000:.0f} ms")
    assert took < (POLL_MS + 100) / 1000 and not spool.exists()


def test_the_feed_recomputes_every_second_even_when_nothing_changed(make_ctx, qtbot):
    ctx = make_ctx()
    feed = ActivityFeed(ctx.store, ctx.jobs, lambda: ["Agent-1"], ctx, refresh_ms=300)
    stamps: list[float] = []
    feed.sig_activities.connect(lambda _acts, now: stamps.append(now))
    feed.start()
    qtbot.waitUntil(lambda: len(stamps) >= 3, timeout=3000)
    assert stamps == sorted(stamps) and stamps[-1] > stamps[0]
    looks = feed.looks
    assert looks > len(stamps)  # most looks found nothing new and recomputed nothing
    feed.stop()


def test_a_failing_look_is_said_once_and_the_feed_looks_seldom_until_one_works(make_ctx, qtbot, monkeypatch):
    ctx = make_ctx()
    feed = ActivityFeed(ctx.store, ctx.jobs, lambda: ["Agent-1"], ctx)
    problems: list[str] = []
    feed.sig_problem.connect(problems.append)
    real_look = feed_module._look

    def damaged(tail, store):
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(feed_module, "_look", damaged)
    feed.start()
    qtbot.waitUntil(lambda: bool(problems), timeout=3000)
    assert feed._timer.interval() == BACKOFF_MS
    feed.poll()
    qtbot.waitUntil(lambda: ctx.jobs.pending == 0)
    assert len(problems) == 1 and "Agent activity cannot be read" in problems[0] and "damaged" in problems[0]
    monkeypatch.setattr(feed_module, "_look", real_look)
    with qtbot.waitSignal(feed.sig_activities, timeout=3000):
        feed.poll()
    assert feed._timer.interval() == POLL_MS
    feed.stop()


def test_the_feed_stops_when_the_runner_has_shut_down(make_ctx, qtbot):
    ctx = make_ctx()
    feed = feed_for(ctx)
    ctx.jobs.shutdown()
    feed.poll()
    assert not feed._timer.isActive()
