"""The one-line header put in front of every delivered message.

``[C2A] Captain → Agent-3 | URGENT | BROADCAST``: a route code built from the two parties'
kinds (C captain, A agent, S system, H human), the sender and recipient names exactly as given,
then ``URGENT`` for urgent messages and ``BROADCAST`` or ``ONBOARDING`` for those message types
(plain text messages have no type marker). URGENT comes first because it is what a reader must
see. A delivery queued again for one agent (a resend of failed or uncertain deliveries, a re-queue
after Stop all) is marked ``RESENT`` instead of ``BROADCAST``: it goes to that agent alone, and the
agent may have seen the text before. ``ONBOARDING`` stays, since it says what the text is for.
Kinds are always passed in, never guessed from names, and names are never combined with a kind
word, so ``Agent-3`` stays ``Agent-3``. Whitespace runs in names (newlines included) become one
space, keeping the header a single line; a blank name falls back to the kind's title.
"""

from __future__ import annotations

from typing import get_args

from quarterdeck.core.models import Message, MessageType, PartyKind, Priority

KIND_CODES: dict[str, str] = {"captain": "C", "agent": "A", "system": "S", "human": "H"}
TYPE_MARKERS: dict[str, str] = {"text": "", "broadcast": "BROADCAST", "onboarding": "ONBOARDING"}
ARROW = "→"
RESENT = "RESENT"
PRIORITIES: tuple[str, ...] = get_args(Priority)


def _code(kind: str) -> str:
    try:
        return KIND_CODES[kind]
    except KeyError:
        raise ValueError(f"unknown party kind {kind!r}; expected one of {', '.join(KIND_CODES)}") from None


def _name(kind: str, name: str) -> str:
    return " ".join(name.split()) or kind.title()


def render_prefix(
    sender_kind: PartyKind,
    sender: str,
    recipient_kind: PartyKind,
    recipient: str,
    priority: Priority = "normal",
    msg_type: MessageType = "text",
    *,
    resent: bool = False,
) -> str:
    """The header line, e.g. ``[C2A] Captain → Agent-3 | URGENT``; ``resent`` for a delivery queued again."""
    route = f"{_code(sender_kind)}2{_code(recipient_kind)}"
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}; expected one of {', '.join(PRIORITIES)}")
    if msg_type not in TYPE_MARKERS:
        raise ValueError(f"unknown message type {msg_type!r}; expected one of {', '.join(TYPE_MARKERS)}")
    parts = [f"[{route}] {_name(sender_kind, sender)} {ARROW} {_name(recipient_kind, recipient)}"]
    if priority == "urgent":
        parts.append("URGENT")
    if TYPE_MARKERS[msg_type] and not (resent and msg_type == "broadcast"):
        parts.append(TYPE_MARKERS[msg_type])
    if resent:
        parts.append(RESENT)
    return " | ".join(parts)


def format_for_delivery(message: Message, recipient: str, recipient_kind: PartyKind = "agent", *,
                        resent: bool = False) -> str:
    """The text to deliver: the header line, a newline, then the content byte for byte.

    The header always sits on its own line, even for one-line content, so a reader (or a parser on
    the agent's side) finds the content after the first newline. ``resent``: the delivery is a
    retry of an earlier one (its ``retry_of`` is set), labelled ``RESENT`` rather than ``BROADCAST``.
    """
    header = render_prefix(message.sender_kind, message.sender, recipient_kind, recipient,
                           message.priority, message.type, resent=resent)
    return f"{header}\n{message.content}"
