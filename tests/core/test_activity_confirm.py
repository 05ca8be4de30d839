"""Confirmed by the agent: a prompt_submitted event carrying a delivery's text upgrades its verdict."""
from __future__ import annotations

import time

import pytest

from quarterdeck.core.activity.confirm import LATE_S, WINDOW_S, confirm_deliveries, marker, matches
from quarterdeck.core.activity.events import MAX_TEXT, PROMPT_SUBMITTED, TURN_ENDED, ActivityEvent, clip
from quarterdeck.core.delivery.prefix import format_for_delivery
from quarterdeck.core.models import Message
from quarterdeck.core.store import Store
from quarterdeck.core.store.db import connect

CONTENT = "Please rebase\n\n  the api branch   onto main, then run the tests."


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "quarterdeck.sqlite3") as opened:
        yield opened


def deliver(store: Store, content: str = CONTENT, agent: str = "Agent-1", *, how: str = "delivered",
            **message: object) -> tuple[int, str]:
    """A real delivery, claimed and finished as the dispatcher does; (id, the text it pasted)."""
    msg = Message(sender="Captain", recipients=[agent], content=content, **message)  # type: ignore[arg-type]
    [delivery_id] = store.enqueue(msg, [(agent, "tmux")])
    task = store.claim_next()
    assert task is not None and task.delivery_id == delivery_id
    if how == "delivered":
        store.mark_delivered(delivery_id, 40.0, verdict="submitted", evidence="pane showed the text leave the input")
    elif how == "uncertain":
        store.mark_uncertain(delivery_id, "the pane could not be read after the submit key")
    else:
        store.mark_failed(delivery_id, "the text stayed in the input", verdict="typed_not_submitted")
    return delivery_id, format_for_delivery(msg, agent)


def prompt(text: str, agent: str = "Agent-1", at: float | None = None, source: str = "claude-code",
           name: str = "UserPromptSubmit") -> ActivityEvent:
    return ActivityEvent(agent_id=agent, source=source, kind=PROMPT_SUBMITTED, name=name,
                         at=time.time() if at is None else at, text=clip(text, MAX_TEXT))


def confirm(store: Store, events: list[ActivityEvent]) -> list[int]:
    conn = connect(store.path)
    try:
        return confirm_deliveries(conn, events)
    finally:
        conn.close()


def test_a_matching_prompt_confirms_the_delivery_and_a_second_run_changes_nothing(store):
    delivery_id, pasted = deliver(store)
    assert pasted.startswith("[C2A] Captain → Agent-1\n")
    # the TUI may re-wrap and re-indent what it was pasted: whitespace runs do not count
    event = prompt(" ".join(pasted.split()) + "\n")
    assert confirm(store, [event]) == [delivery_id]
    row = store.delivery(delivery_id)
    assert (row.state, row.verdict, row.outcome) == ("delivered", "confirmed_by_agent", "confirmed by agent")
    assert row.confirmed
    assert row.evidence.startswith(marker(event) + ": the agent's prompt began with the delivered text")
    assert "before: submitted: pane showed the text leave the input" in row.evidence
    assert "claude-code UserPromptSubmit hook at" in row.evidence
    assert confirm(store, [event]) == []
    assert store.delivery(delivery_id).evidence == row.evidence


def test_a_prompt_that_does_not_match_or_comes_from_another_agent_changes_nothing(store):
    delivery_id, pasted = deliver(store)
    assert confirm(store, [prompt("Please rebase the api branch onto main")]) == []  # the content alone, no header
    assert confirm(store, [prompt(pasted.replace("rebase", "merge"))]) == []
    assert confirm(store, [prompt(pasted, agent="Agent-2")]) == []
    turn_end = ActivityEvent(agent_id="Agent-1", source="claude-code", kind=TURN_ENDED, name="Stop",
                             at=time.time(), text=pasted)
    assert confirm(store, [turn_end]) == []
    row = store.delivery(delivery_id)
    assert (row.verdict, row.outcome) == ("submitted", "submitted")


def test_the_delivery_must_have_finished_within_ten_minutes_of_the_prompt(store):
    delivery_id, pasted = deliver(store)
    finished = store.delivery(delivery_id).finished_at.timestamp()
    assert confirm(store, [prompt(pasted, at=finished + WINDOW_S + 5)]) == []
    assert confirm(store, [prompt(pasted, at=finished - LATE_S - 5)]) == []
    # the hook fires on the submit key, a few seconds before the transport records its verdict
    assert confirm(store, [prompt(pasted, at=finished - 3)]) == [delivery_id]


def test_a_prompt_the_hook_cut_at_max_text_still_matches(store):
    long_content = "\n".join(f"line {n}: " + "x" * 60 for n in range(120))
    delivery_id, pasted = deliver(store, long_content)
    assert len(pasted) > MAX_TEXT
    event = prompt(pasted)
    assert event.text is not None and len(event.text) == MAX_TEXT and event.text.endswith("…")
    assert confirm(store, [event]) == [delivery_id]


def test_an_uncertain_delivery_becomes_delivered_and_a_failed_one_is_left(store):
    uncertain_id, uncertain_text = deliver(store, "first text", how="uncertain")
    failed_id, failed_text = deliver(store, "second text", how="failed")
    assert confirm(store, [prompt(uncertain_text), prompt(failed_text)]) == [uncertain_id]
    row = store.delivery(uncertain_id)
    assert (row.state, row.verdict, row.reason) == ("delivered", "confirmed_by_agent", None)
    assert "before: uncertain: the pane could not be read after the submit key" in row.evidence
    failed = store.delivery(failed_id)
    assert (failed.state, failed.verdict) == ("failed", "typed_not_submitted")


def test_one_event_confirms_one_delivery_the_one_that_finished_closest(store):
    first_id, pasted = deliver(store, "same words")
    second_id, again = deliver(store, "same words")
    assert again == pasted
    second_end = store.delivery(second_id).finished_at.timestamp()
    assert confirm(store, [prompt(pasted, at=second_end + 1)]) == [second_id]
    assert confirm(store, [prompt(pasted, at=second_end + 1)]) == []  # the same event is not used twice
    assert store.delivery(first_id).verdict == "submitted"
    assert confirm(store, [prompt(pasted, at=second_end + 2)]) == [first_id]  # a second prompt: the other one


def test_urgent_broadcast_and_resent_headers_are_part_of_the_text(store):
    delivery_id, pasted = deliver(store, "all hands", priority="urgent", type="broadcast")
    assert pasted.startswith("[C2A] Captain → Agent-1 | URGENT | BROADCAST\n")
    assert confirm(store, [prompt("[C2A] Captain → Agent-1\nall hands")]) == []
    assert confirm(store, [prompt(pasted, source="cursor", name="beforeSubmitPrompt")]) == [delivery_id]
    assert store.delivery(delivery_id).evidence.startswith("cursor beforeSubmitPrompt hook at ")


def test_a_redacted_delivery_is_not_compared(store):
    msg = Message(sender="Captain", recipients=["Agent-1"], content="token sk-live-1234")
    [delivery_id] = store.enqueue(msg, [("Agent-1", "tmux")], content_to_store="token [redacted]", redacted=True)
    store.claim_next()
    store.mark_delivered(delivery_id, 5.0)
    assert confirm(store, [prompt(format_for_delivery(msg, "Agent-1"))]) == []
    assert confirm(store, [prompt("[C2A] Captain → Agent-1\ntoken [redacted]")]) == []


@pytest.mark.parametrize(("said", "sent", "expected"), [
    ("a  b\n c", "a b c", True),
    ("a b c and more the user typed", "a b c", True),
    ("a b", "a b c", False),  # a prompt shorter than the delivery, not cut: not it
    ("", "a", False),
    ("x" * (MAX_TEXT - 1) + "…", "x" * (MAX_TEXT + 50), True),
])
def test_matches(said, sent, expected):
    assert matches(said, sent) is expected
