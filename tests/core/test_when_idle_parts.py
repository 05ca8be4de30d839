"""The parts of "send when idle" that need no pane: durations, who counts as free, and how the
states 'waiting' and 'expired' show in the composer's progress, the roster and the gauges."""
from __future__ import annotations

from dataclasses import replace

import pytest

from quarterdeck.core.activity.resume import episode_id, limit_over
from quarterdeck.core.activity.state import Activity
from quarterdeck.core.compose.progress import SendProgress
from quarterdeck.core.compose.when_idle import DEFAULT_TTL, format_duration, parse_duration
from quarterdeck.core.dispatch.dispatcher import TERMINAL, DeliveryEvent
from quarterdeck.core.dispatch.idle_judge import judge, span
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.monitor.fleet import QUEUE_GAUGES, FleetFeed
from quarterdeck.core.roster.status import STATUS_KEYS, StatusBoard, headline
from quarterdeck.core.store.rows import TERMINAL as STORE_TERMINAL
from quarterdeck.core.store.rows import State


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("45", 45),
                                           (" 1.5h ", 5400), ("10M", 600)])
def test_durations_read_as_people_write_them(text, seconds):
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text, said", [("soon", "'soon' is not a duration: write it like 90s, 30m or 2h"),
                                        ("-5m", "'-5m' is not a duration: write it like 90s, 30m or 2h"),
                                        ("0s", "'0s' is no time at all: give a duration like 90s, 30m or 2h"),
                                        ("8d", "'8d' is longer than a week, the longest a message may wait")])
def test_a_bad_duration_says_what_is_accepted_in_one_line(text, said):
    with pytest.raises(ValueError) as bad:
        parse_duration(text)
    assert str(bad.value) == said


def test_the_default_time_to_live_is_half_an_hour_and_spans_read_plainly():
    assert DEFAULT_TTL == 1800
    assert [span(s) for s in (1800, 2, 7200, 100, 5400, None)] == ["30 min", "2 s", "2 h", "100 s", "90 min",
                                                                   "its time"]


def activity(state: str, at: float | None = 100.0, why: str = "a prompt was submitted") -> Activity:
    return Activity("Agent-3", state, at, "Stop" if at else None, at, why)


def test_only_an_agent_known_idle_since_its_last_message_is_free():
    assert judge(activity("idle"), None, 200.0).free
    assert judge(activity("idle", at=100.0), 90.0, 200.0).free
    just_sent = judge(activity("idle", at=100.0), 101.0, 200.0)
    assert not just_sent.free and "just sent another message" in just_sent.why
    working = judge(activity("working"), None, 200.0)
    assert (working.free, working.why, working.stayed) == (
        False, "Agent-3 is working (a prompt was submitted)", "Agent-3 stayed working")
    unknown = judge(activity("unknown", at=None), None, 200.0)
    assert not unknown.free
    assert unknown.why == "Agent-3's activity is unknown — no hook or watcher reports it"
    for busy in ("needs-you", "rate-limited", "stalled", "offline"):
        assert not judge(activity(busy), None, 200.0).free


def test_a_usage_limit_is_over_thirty_seconds_after_its_reset():
    limited = replace(activity("rate-limited", why="it hit a usage limit"), resets_at=1000.0)
    assert not limit_over(limited, 1029.0) and not judge(limited, None, 1029.0).free
    assert limit_over(limited, 1030.0) and judge(limited, None, 1030.0).free
    assert not limit_over(replace(limited, resets_at=None), 5000.0)  # no reset time: never over
    assert not limit_over(replace(limited, state="idle"), 5000.0)
    assert episode_id("Agent-3", 1000.4) == "continue-after-limit-Agent-3-1000"


def test_expired_is_final_everywhere_and_waiting_is_not():
    assert State.EXPIRED in STORE_TERMINAL and State.WAITING not in STORE_TERMINAL
    assert "expired" in TERMINAL and "waiting" not in TERMINAL
    assert {"waiting", "expired"} <= set(STATUS_KEYS)


def event(state: str, detail: str = "", delivery_id: int = 7) -> DeliveryEvent:
    return DeliveryEvent(delivery_id, "m1", "Agent-3", state, detail=detail)


def test_the_composer_shows_why_a_message_waits_and_that_it_expired():
    progress = SendProgress()
    progress.start(["m1"])
    progress.submitted("m1", ["Agent-3"], [7])
    progress.event(event("waiting", "waiting: Agent-3 is working (a prompt was submitted)"))
    (row,) = progress.rows
    assert row.text() == "waiting: Agent-3 is working (a prompt was submitted)"
    assert progress.summary() == "1 recipient: 1 waiting"
    assert progress.outcome() is None  # not over while it waits
    progress.event(event("expired", "expired after 30 min: Agent-3 stayed working"))
    assert progress.rows[0].finished and progress.rows[0].text() == "expired after 30 min: Agent-3 stayed working"
    assert progress.outcome() == ("0/1 submitted · 1 expired", True)
    assert progress.retryable_ids() == []  # "Retry failed" leaves an expired message alone


def test_stop_all_cancels_a_waiting_row_in_the_composer():
    progress = SendProgress()
    progress.start(["m1"])
    progress.submitted("m1", ["Agent-3"], [7])
    progress.event(event("waiting", "waiting: Agent-3 is working"))
    assert progress.queue_cancelled() == [0]
    assert progress.rows[0].state == "cancelled"


def test_the_roster_shows_waiting_then_queued_sending_and_put_back():
    board = StatusBoard(["Agent-3"])
    board.submitted(["Agent-3"], [7])
    assert headline(board.get("Agent-3"))[0] == "queued"
    board.delivery(event("waiting", "waiting: Agent-3 is working"))
    assert headline(board.get("Agent-3")) == ("waiting", "waiting for idle")
    board.delivery(event("queued", "Agent-3 is idle"))
    assert headline(board.get("Agent-3"))[0] == "queued"
    board.delivery(event("sending"))
    assert headline(board.get("Agent-3"))[0] == "sending"
    board.delivery(event("waiting", "waiting: Agent-3 is working"))  # busy again right before the paste
    live = board.get("Agent-3")
    assert live.active is None and headline(live)[0] == "waiting"
    board.delivery(event("expired", "expired after 30 min: Agent-3 stayed working"))
    live = board.get("Agent-3")
    assert headline(live) == ("expired", "expired") and live.last_detail.startswith("expired after")
    board.delivery(event("waiting", "waiting: Agent-3 is working", delivery_id=8))
    board.delivery(event("waiting", "waiting: Agent-3 is working", delivery_id=9))
    assert headline(board.get("Agent-3")) == ("waiting", "waiting for idle (2)")
    assert board.queue_cancelled() == {"Agent-3"}
    assert headline(board.get("Agent-3"))[0] == "cancelled"


def test_waiting_deliveries_are_a_gauge_of_their_own():
    monitor = Monitor()
    feed = FleetFeed(monitor)
    feed.record_outbox({"queued": 1, "waiting": 3, "expired": 5})
    monitor.sample(1.0)
    assert monitor.series(QUEUE_GAUGES["waiting"])[1].tolist() == [3.0]
