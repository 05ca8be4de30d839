"""Hooks and watching together (quarterdeck.core.activity.seen / combine): agreement, refinement,
disagreement -> unknown, later news after SUPERSEDE_S, stalled at ``now``."""
from __future__ import annotations

import pytest

from quarterdeck.core.activity.combine import SUPERSEDE_S
from quarterdeck.core.activity.events import ActivityEvent
from quarterdeck.core.activity.state import STALL_AFTER_S, is_free
from quarterdeck.core.activity.tracks import reduce

T = 1_780_000_000.0


def hook(kind: str, name: str, at: float, **kw: str) -> ActivityEvent:
    return ActivityEvent(agent_id="A", source="claude-code", kind=kind, name=name, at=T + at, **kw)


def seen(kind: str, name: str, at: float, source: str = "tmux-watch", **kw: str) -> ActivityEvent:
    return ActivityEvent(agent_id="A", source=source, kind=kind, name=name, at=T + at, **kw)


def test_a_watcher_alone_sets_every_state_with_its_own_words():
    a = reduce([seen("seen_working", "busy indicator in pane", 0)], now=T + 3)["A"]
    assert (a.state, a.since, a.why, a.signal_text(T + 3)) == \
        ("working", T, "its pane is changing", "busy indicator in pane 3 s ago")
    a = reduce([seen("seen_working", "busy indicator in pane", 0),
                seen("seen_needs_you", "permission prompt in pane", 4, waits_for="permission",
                     text="Do you want to run rm -rf build?")])["A"]
    assert (a.state, a.waits_for, a.message, a.since) == ("needs-you", "permission", "Do you want to run rm -rf build?",
                                                          T + 4)
    a = reduce([seen("seen_rate_limited", "usage limit in pane", 5, detail="2026-05-28T22:00:00Z",
                     text="Limit reached, resets 10pm")])["A"]
    assert a.state == "rate-limited" and a.resets_at == pytest.approx(1_780_005_600.0)
    assert a.to_dict(T + 6)["resets_at"] == "2026-05-28T22:00:00Z"
    a = reduce([seen("seen_offline", "window gone", 1, source="window-watch")])["A"]
    assert (a.state, a.why) == ("offline", "its window is gone")


def test_signals_that_agree_keep_the_earlier_since_and_both_reasons():
    a = reduce([hook("prompt_submitted", "UserPromptSubmit", 0, text="go"),
                seen("seen_working", "busy indicator in pane", 1)])["A"]
    assert (a.state, a.since) == ("working", T)
    assert "its pane is changing" in a.why and "a prompt was submitted" in a.why


@pytest.mark.parametrize(("hook_event", "seen_event", "expected"), [
    (("turn_ended", "Stop"), ("seen_needs_you", "permission prompt in pane"), "needs-you"),
    (("needs_you", "Notification"), ("seen_idle", "pane quiet 5 s"), "needs-you"),
    (("turn_ended", "Stop"), ("seen_rate_limited", "usage limit in pane"), "rate-limited"),
    (("prompt_submitted", "UserPromptSubmit"), ("seen_stalled", "pane unchanged 10 min"), "stalled"),
    (("prompt_submitted", "UserPromptSubmit"), ("seen_offline", "pane gone"), "offline"),
    (("turn_ended", "Stop"), ("seen_offline", "pane gone"), "offline"),
])
def test_one_signal_refining_the_other_is_not_a_disagreement(hook_event, seen_event, expected):
    events = [hook(hook_event[0], hook_event[1], 0), seen(seen_event[0], seen_event[1], 2)]
    assert reduce(events)["A"].state == expected


def test_signals_that_disagree_close_together_leave_it_unknown_naming_both():
    a = reduce([hook("turn_ended", "Stop", 10),
                seen("seen_working", "transcript changing", 8, source="window-watch")])["A"]
    assert a.state == "unknown"
    assert a.why == ("signals disagree: its hook says idle (Stop), watching says working (transcript changing)")
    assert not is_free(a)


def test_later_news_after_the_other_signal_went_quiet_holds():
    # a notify-only hook says idle after each turn; the pane shows the next turn long after
    a = reduce([hook("turn_ended", "agent-turn-complete", 0),
                seen("seen_working", "busy indicator in pane", SUPERSEDE_S + 1)])["A"]
    assert a.state == "working" and a.source == "tmux-watch"
    a = reduce([seen("seen_working", "busy indicator in pane", 0),
                hook("turn_ended", "Stop", SUPERSEDE_S + 1)])["A"]
    assert a.state == "idle" and is_free(a)


def test_working_with_nothing_heard_turns_stalled_at_now():
    events = [hook("prompt_submitted", "UserPromptSubmit", 0, text="go")]
    assert reduce(events, now=T + STALL_AFTER_S - 1)["A"].state == "working"
    a = reduce(events, now=T + STALL_AFTER_S + 60)["A"]
    assert (a.state, a.since, a.why) == ("stalled", T + STALL_AFTER_S, "working, but nothing heard for 11 min")
    assert reduce(events)["A"].state == "working"  # no now: no ageing
    # the pane still changing says it is not stalled
    events.append(seen("seen_working", "busy indicator in pane", STALL_AFTER_S + 50))
    assert reduce(events, now=T + STALL_AFTER_S + 60)["A"].state == "working"


def test_a_quiet_agent_screen_with_no_known_prompt_is_idle_but_not_free():
    a = reduce([seen("seen_idle", "screen quiet 5 s, no input prompt seen", 0)])["A"]
    assert a.state == "idle" and not is_free(a)
    assert is_free(reduce([seen("seen_idle", "screen quiet 5 s", 0)])["A"])


def test_only_idle_is_free():
    for events in ([hook("turn_ended", "Stop", 0)], [seen("seen_idle", "pane quiet 5 s", 0)]):
        assert is_free(reduce(events)["A"])
    for events in ([hook("prompt_submitted", "UserPromptSubmit", 0)], [seen("seen_rate_limited", "limit", 0)],
                   [seen("seen_offline", "pane gone", 0)], []):
        assert not is_free(reduce(events, ["A"])["A"])
