"""Events -> each agent's activity (quarterdeck.core.activity.state): the state, since when, the signal, why."""
from __future__ import annotations

from quarterdeck.core.activity.events import ActivityEvent
from quarterdeck.core.activity.state import age, waiting
from quarterdeck.core.activity.tracks import reduce

T = 1_780_000_000.0


def ev(kind: str, name: str, at: float, agent: str = "A1", waits_for: str | None = None,
       text: str | None = None, detail: str | None = None) -> ActivityEvent:
    return ActivityEvent(agent_id=agent, source="claude-code", kind=kind, name=name, at=T + at,
                         waits_for=waits_for, text=text, detail=detail)


def test_a_whole_turn_working_waiting_working_idle():
    events = [ev("prompt_submitted", "UserPromptSubmit", 0, text="Fix it")]
    a = reduce(events)["A1"]
    assert (a.state, a.since, a.why) == ("working", T, "a prompt was submitted")
    events.append(ev("tool_use", "PreToolUse", 5, detail="Bash"))
    a = reduce(events)["A1"]
    assert (a.state, a.since, a.signal, a.why) == ("working", T, "PreToolUse", "it is using tools (Bash)")
    events.append(ev("needs_you", "Notification", 8, waits_for="permission", text="Claude needs your permission"))
    a = reduce(events)["A1"]
    assert (a.state, a.since, a.waits_for, a.message) == ("needs-you", T + 8, "permission",
                                                          "Claude needs your permission")
    assert a.signal_text(T + 20) == "Notification hook 12 s ago"
    events.append(ev("tool_use", "PostToolUse", 30, detail="Bash"))
    a = reduce(events)["A1"]
    assert (a.state, a.since, a.waits_for) == ("working", T + 30, None)  # the captain answered
    events.append(ev("turn_ended", "Stop", 40))
    a = reduce(events)["A1"]
    assert (a.state, a.since, a.signal, a.why) == ("idle", T + 40, "Stop", "its turn ended")
    assert a.signal_text(T + 52) == "Stop hook 12 s ago"


def test_repeated_signals_keep_the_first_since():
    waits = reduce([ev("needs_you", "PermissionRequest", 0, waits_for="permission", detail="Bash"),
                    ev("needs_you", "Notification", 6, waits_for="permission", text="needs permission")])["A1"]
    assert (waits.since, waits.signal_at, waits.message) == (T, T + 6, "needs permission")
    idle = reduce([ev("turn_ended", "Stop", 0), ev("turn_ended", "Notification", 60, detail="idle_prompt")])["A1"]
    assert (idle.state, idle.since, idle.signal) == ("idle", T, "Notification")
    again = reduce([ev("prompt_submitted", "UserPromptSubmit", 0), ev("prompt_submitted", "UserPromptSubmit", 9)])
    assert again["A1"].since == T + 9  # a new prompt is a new piece of work


def test_sessions_other_events_and_silence():
    states = reduce([ev("session_start", "SessionStart", 0), ev("other", "SubagentStop", 3)], ["A1", "A2"])
    assert (states["A1"].state, states["A1"].signal) == ("idle", "SessionStart")
    assert (states["A2"].state, states["A2"].since, states["A2"].signal_text(T)) == ("unknown", None, "no hook event")
    gone = reduce([ev("prompt_submitted", "UserPromptSubmit", 0), ev("session_ended", "SessionEnd", 4)])["A1"]
    assert (gone.state, gone.why) == ("unknown", "its session ended")


def test_the_attention_queue_is_longest_waiting_first_and_json_ready():
    states = reduce([ev("needs_you", "Notification", 50, agent="B", waits_for="notification", text="Pick one"),
                     ev("needs_you", "PermissionRequest", 10, agent="C", waits_for="permission", detail="Bash"),
                     ev("turn_ended", "Stop", 0, agent="D"),
                     ev("needs_you", "Notification", 30, agent="E", waits_for="permission")])
    assert [a.agent_id for a in waiting(states)] == ["C", "E", "B"]
    data = states["C"].to_dict(T + 70)
    assert data == {"state": "needs-you", "since": "2026-05-28T20:26:50Z", "seconds": 60.0,
                    "signal": "PermissionRequest hook 60 s ago", "why": "it waits for permission (Bash)",
                    "source": "claude-code", "waits_for": "permission", "message": None, "resets_at": None}


def test_ages_read_like_a_person_would_say_them():
    assert [age(s) for s in (-3, 12.4, 89, 90, 3599, 3600, 7500, 49 * 3600)] == \
        ["0 s", "12 s", "89 s", "1 min", "59 min", "1 h", "2 h 5 min", "2 d"]


def test_a_permission_notice_says_what_it_waits_for_without_quoting_its_type_as_a_tool():
    a = reduce([ev("needs_you", "Notification", 0, waits_for="permission", detail="permission_prompt",
                   text="Claude needs your permission to use Bash")])["A1"]
    assert a.why == "it waits for permission"
    a = reduce([ev("needs_you", "PermissionRequest", 0, waits_for="permission", detail="Bash")])["A1"]
    assert a.why == "it waits for permission (Bash)"
