"""The header line in front of each delivered message."""
from __future__ import annotations

import itertools
from typing import get_args

import pytest

from quarterdeck.core.delivery.prefix import KIND_CODES, TYPE_MARKERS, format_for_delivery, render_prefix
from quarterdeck.core.models import Message, MessageType, PartyKind

NAMES = {"captain": "Captain", "agent": "Agent-3", "system": "Scheduler", "human": "Dana"}
CODES = {"captain": "C", "agent": "A", "system": "S", "human": "H"}


def test_tables_cover_every_kind_and_type():
    assert set(KIND_CODES) == set(get_args(PartyKind))
    assert set(TYPE_MARKERS) == set(get_args(MessageType))


@pytest.mark.parametrize(("sender", "recipient"), list(itertools.product(CODES, repeat=2)))
def test_every_kind_pair(sender, recipient):
    expected = f"[{CODES[sender]}2{CODES[recipient]}] {NAMES[sender]} → {NAMES[recipient]}"
    assert render_prefix(sender, NAMES[sender], recipient, NAMES[recipient]) == expected


@pytest.mark.parametrize(("priority", "msg_type", "suffix"), [
    ("normal", "text", ""),
    ("urgent", "text", " | URGENT"),
    ("normal", "broadcast", " | BROADCAST"),
    ("normal", "onboarding", " | ONBOARDING"),
    ("urgent", "broadcast", " | URGENT | BROADCAST"),
    ("urgent", "onboarding", " | URGENT | ONBOARDING"),
])
def test_priority_and_type_markers(priority, msg_type, suffix):
    assert render_prefix("captain", "Captain", "agent", "Agent-3", priority, msg_type) == \
        "[C2A] Captain → Agent-3" + suffix


def test_names_are_never_doubled_or_guessed():
    assert render_prefix("agent", "Agent-3", "agent", "Agent-7") == "[A2A] Agent-3 → Agent-7"
    assert render_prefix("agent", "3", "captain", "Lead") == "[A2C] 3 → Lead"
    assert render_prefix("captain", "Agent-1", "agent", "Agent-3 (backend)") == "[C2A] Agent-1 → Agent-3 (backend)"
    assert render_prefix("human", "agent", "system", "captain") == "[H2S] agent → captain"


def test_names_stay_on_one_line_and_blank_names_fall_back_to_the_kind():
    assert render_prefix("captain", "The\n  Captain ", "agent", "Agent-3\r\n") == "[C2A] The Captain → Agent-3"
    assert render_prefix("captain", "", "system", "  ") == "[C2S] Captain → System"


@pytest.mark.parametrize(("args", "word"), [
    (("robot", "R", "agent", "A"), "party kind 'robot'"),
    (("captain", "C", "Agent", "A"), "party kind 'Agent'"),
    (("captain", "C", "agent", "A", "high"), "priority 'high'"),
    (("captain", "C", "agent", "A", "normal", "shout"), "message type 'shout'"),
])
def test_unknown_values_are_refused(args, word):
    with pytest.raises(ValueError, match=word):
        render_prefix(*args)


@pytest.mark.parametrize("content", ["hello", "line 1\nline 2\n", "", "  indented\r\n\ttabs  ", "→ | [C2A]"])
def test_delivery_is_header_newline_then_exact_content(content):
    message = Message(sender="Agent-2", sender_kind="agent", content=content, priority="urgent", type="broadcast")
    text = format_for_delivery(message, "Agent-5")
    header, _, body = text.partition("\n")
    assert header == "[A2A] Agent-2 → Agent-5 | URGENT | BROADCAST"
    assert body == content
    assert text.encode() == header.encode() + b"\n" + content.encode()


def test_delivery_to_the_captain():
    message = Message(sender="Agent-4", sender_kind="agent", content="done")
    assert format_for_delivery(message, "Captain", "captain") == "[A2C] Agent-4 → Captain\ndone"


@pytest.mark.parametrize(("priority", "msg_type", "suffix"), [
    ("normal", "broadcast", " | RESENT"),  # a broadcast resent to one agent is not a broadcast any more
    ("urgent", "broadcast", " | URGENT | RESENT"),
    ("normal", "text", " | RESENT"),
    ("normal", "onboarding", " | ONBOARDING | RESENT"),  # what the text is for stays
])
def test_a_resent_delivery_is_labelled_resent_not_broadcast(priority, msg_type, suffix):
    assert render_prefix("captain", "Captain", "agent", "Agent-2", priority, msg_type, resent=True) == (
        "[C2A] Captain → Agent-2" + suffix)
    message = Message(sender="Captain", content="Wrap up.", priority=priority, type=msg_type)
    assert format_for_delivery(message, "Agent-2", resent=True) == f"[C2A] Captain → Agent-2{suffix}\nWrap up."
    assert "RESENT" not in format_for_delivery(message, "Agent-2")  # the first delivery: as before
