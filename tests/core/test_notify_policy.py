"""When the panel notifies: an agent entering needs-you once, not while it stays; do not disturb,
quiet hours and mutes hold it back; rate-limited and stalled only when chosen; the notice names
the agent and what it waits for in its own words."""
from __future__ import annotations

from datetime import datetime, time

import pytest

from quarterdeck.core.activity.notify_policy import (
    DND,
    MUTED,
    QUIET_HOURS,
    NoticePolicy,
    NotifyPrefs,
    clip,
    notice_for,
    parse_clock,
    parse_quiet_hours,
)
from quarterdeck.core.activity.state import Activity

NOON = datetime(2026, 12, 6, 12, 0)


def act(agent: str, state: str, *, waits_for: str | None = None, message: str | None = None,
        why: str = "because", resets_at: float | None = None, since: float | None = 100.0) -> Activity:
    return Activity(agent, state, since, "Notification", 100.0, why, "claude-code", waits_for, message, resets_at)


def needs(agent: str, message: str | None = "Bash(rm -rf build)", waits_for: str = "permission",
          since: float | None = 100.0) -> Activity:
    return act(agent, "needs-you", waits_for=waits_for, message=message, why=f"it waits for {waits_for}",
               since=since)


def test_an_agent_entering_needs_you_is_notified_once_while_it_stays():
    policy, prefs = NoticePolicy(), NotifyPrefs()
    first = policy.look({"Agent-3": act("Agent-3", "working"), "Agent-1": act("Agent-1", "idle")}, prefs, NOON)
    assert first.show == () and first.withdraw == ()
    entered = policy.look({"Agent-3": needs("Agent-3")}, prefs, NOON)
    assert [(n.agent_id, n.title, n.body) for n in entered.show] == \
        [("Agent-3", "Agent-3 needs you", "permission: Bash(rm -rf build)")]
    # still waiting, a second request while it waits, the whole roster again: nothing new
    again = policy.look({"Agent-3": needs("Agent-3", "Edit(x.py)"), "Agent-1": act("Agent-1", "idle")}, prefs, NOON)
    assert again.show == () and again.withdraw == () and again.held == ()


def test_leaving_takes_the_notice_back_and_coming_back_notifies_again():
    policy, prefs = NoticePolicy(), NotifyPrefs()
    policy.look({"Agent-3": needs("Agent-3")}, prefs, NOON)
    answered = policy.look({"Agent-3": act("Agent-3", "working")}, prefs, NOON)
    assert answered.withdraw == ("Agent-3",) and answered.show == ()
    back = policy.look({"Agent-3": needs("Agent-3", "question", waits_for="question")}, prefs, NOON)
    assert [n.body for n in back.show] == ["question: question"]


def test_a_later_wait_seen_at_the_next_look_is_a_new_entry():
    policy, prefs = NoticePolicy(), NotifyPrefs()
    policy.look({"Agent-3": needs("Agent-3", since=100.0)}, prefs, NOON)
    # answered and asked again between two looks: the wait began later
    assert len(policy.look({"Agent-3": needs("Agent-3", "Edit(x.py)", since=160.0)}, prefs, NOON).show) == 1
    assert policy.look({"Agent-3": needs("Agent-3", since=100.0)}, prefs, NOON).show == ()  # not older ones
    assert policy.look({"Agent-3": needs("Agent-3", since=None)}, prefs, NOON).show == ()


def test_a_notice_closed_on_screen_is_not_taken_back_again():
    policy, prefs = NoticePolicy(), NotifyPrefs()
    policy.look({"Agent-3": needs("Agent-3")}, prefs, NOON)
    policy.closed("Agent-3")
    assert policy.look({"Agent-3": act("Agent-3", "idle")}, prefs, NOON).withdraw == ()


def test_first_sight_of_a_waiting_agent_counts_as_entering():
    assert [n.agent_id for n in NoticePolicy().look({"Agent-2": needs("Agent-2")}, NotifyPrefs(), NOON).show] \
        == ["Agent-2"]


def test_agents_missing_from_an_update_keep_their_state():
    policy, prefs = NoticePolicy(), NotifyPrefs()
    policy.look({"Agent-3": needs("Agent-3")}, prefs, NOON)
    assert policy.look({"Agent-1": act("Agent-1", "working")}, prefs, NOON) == policy.look({}, prefs, NOON)
    assert policy.look({"Agent-3": needs("Agent-3")}, prefs, NOON).show == ()


def test_do_not_disturb_holds_the_notice_and_it_is_not_shown_later():
    policy = NoticePolicy()
    held = policy.look({"Agent-3": needs("Agent-3")}, NotifyPrefs(dnd=True), NOON)
    assert held.show == () and held.held == (("Agent-3", DND),)
    assert policy.look({"Agent-3": needs("Agent-3")}, NotifyPrefs(), NOON).show == ()  # still the same wait
    # held notices were never shown: leaving takes nothing back
    assert policy.look({"Agent-3": act("Agent-3", "idle")}, NotifyPrefs(), NOON).withdraw == ()


def test_a_muted_agent_is_held_the_others_are_shown():
    decision = NoticePolicy().look({"Agent-3": needs("Agent-3"), "Agent-4": needs("Agent-4")},
                                   NotifyPrefs(muted=frozenset({"Agent-3"})), NOON)
    assert [n.agent_id for n in decision.show] == ["Agent-4"] and decision.held == (("Agent-3", MUTED),)


@pytest.mark.parametrize(("span", "at", "quiet"), [
    ((time(22), time(7)), time(23, 30), True), ((time(22), time(7)), time(3), True),
    ((time(22), time(7)), time(7), False), ((time(22), time(7)), time(12), False),
    ((time(22), time(7)), time(22), True), ((time(12), time(13)), time(12, 59, 59), True),
    ((time(12), time(13)), time(13), False), ((time(12), time(13)), time(11, 59), False)])
def test_quiet_hours_in_a_day_and_across_midnight(span, at, quiet):
    prefs = NotifyPrefs(quiet=span)
    moment = datetime.combine(NOON.date(), at)
    assert prefs.quiet_at(moment) is quiet
    assert prefs.held_because("Agent-3", moment) == (QUIET_HOURS if quiet else None)


def test_rate_limited_and_stalled_alert_only_when_chosen():
    limited = act("Agent-5", "rate-limited", message="usage limit reached", resets_at=NOON.replace(hour=14).timestamp())
    stalled = act("Agent-6", "stalled", why="working, but nothing heard for 12 min")
    assert NoticePolicy().look({"Agent-5": limited, "Agent-6": stalled}, NotifyPrefs(), NOON).show == ()
    both = NoticePolicy().look({"Agent-5": limited, "Agent-6": stalled},
                               NotifyPrefs(rate_limited=True, stalled=True), NOON)
    assert [(n.title, n.body) for n in both.show] == [
        ("Agent-5 is rate-limited", "resets at 14:00: usage limit reached"),
        ("Agent-6 seems stalled", "working, but nothing heard for 12 min")]


def test_switching_from_one_alerting_state_to_another_notifies_anew():
    policy, prefs = NoticePolicy(), NotifyPrefs(stalled=True)
    policy.look({"Agent-6": act("Agent-6", "stalled")}, prefs, NOON)
    assert [n.state for n in policy.look({"Agent-6": needs("Agent-6")}, prefs, NOON).show] == ["needs-you"]


def test_the_body_falls_back_to_why_and_is_one_clipped_line():
    assert notice_for(needs("Agent-3", None)).body == "it waits for permission"
    long = notice_for(needs("Agent-3", "Pick a database:\n" + "A or B " * 100))
    assert "\n" not in long.body and len(long.body) == 300 and long.body.endswith("…")
    assert long.body.startswith("permission: Pick a database: A or B")
    assert clip("  a\n b  ") == "a b"


def test_forgotten_agents_count_as_new():
    policy, prefs = NoticePolicy(), NotifyPrefs()
    policy.look({"Agent-3": needs("Agent-3"), "Agent-4": needs("Agent-4")}, prefs, NOON)
    policy.closed("Agent-4")
    assert policy.tracked() == {"Agent-3", "Agent-4"}
    assert policy.forget("Agent-3") is True and policy.forget("Agent-4") is False
    assert policy.tracked() == frozenset()
    assert len(policy.look({"Agent-3": needs("Agent-3")}, prefs, NOON).show) == 1


def test_quiet_hours_text_reads_back():
    assert parse_quiet_hours("22:00-7:00") == (time(22), time(7))
    assert NotifyPrefs(quiet=parse_quiet_hours(" 08:30-09:15")).quiet_text() == "08:30-09:15"
    assert NotifyPrefs().quiet_text() == "off"
    assert parse_clock("0:00") == time(0)


@pytest.mark.parametrize("text", ["22:00", "22-07", "24:00-07:00", "22:60-07:00", "aa:bb-07:00", "07:00-07:00",
                                  "7:5-8:00", ""])
def test_quiet_hours_that_do_not_read_are_refused(text):
    with pytest.raises(ValueError, match=r"give|hours 0-23|empty"):
        parse_quiet_hours(text)
