"""The shared data model: messages between the captain and agents, and the agent roster.

All models are frozen msgspec Structs that reject unknown fields. They check shape only: whether
content is blank, a recipient is on the roster or a tag is allowed for a sender is for the rule
engine, which checks :meth:`Message.rule_fields` (or a raw dict of the same keys).

msgspec checks types and constraints when it converts or decodes, not when a class is called: input
from outside (YAML, JSON, the command line, the wire) goes through
:func:`quarterdeck.core.model_check.checked`; calling a class is for values already checked. The
checks across fields and the normalising (``__post_init__``) run either way.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from os import urandom
from pathlib import Path
from time import time_ns
from typing import Annotated, Any, ClassVar, Literal, get_args

from msgspec import Meta, Struct, field
from msgspec.structs import force_setattr

from quarterdeck.core.model_check import FieldError
from quarterdeck.core.model_errors import LITERAL_FIELDS, TAGS
from quarterdeck.core.paths import home_expanded
from quarterdeck.core.relay_settings import RelayTransport, TransportBase
from quarterdeck.core.tags import STANDARD_TAGS as STANDARD_TAGS  # the --tag help reads it without the models

MessageType = Literal["text", "broadcast", "onboarding"]
Priority = Literal["normal", "urgent"]
PartyKind = Literal["captain", "agent", "system", "human"]
HookSource = Literal["claude-code", "cursor", "vscode", "windsurf", "gemini", "codex"]  # whose hooks report an agent

TAG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
AGENT_ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$"
_TAG = re.compile(TAG_PATTERN)


def _check_tag(tag: str, index: int) -> None:
    if not _TAG.fullmatch(tag):
        hint = re.sub(r"[^a-z0-9_-]+", "-", tag.strip().lower()).strip("-_")
        example = f"; did you mean {hint!r}?" if hint and _TAG.fullmatch(hint) else ""
        raise FieldError(f"{tag!r} is not a tag: a tag is lowercase letters, digits, '-' and '_', "
                         f"starting with a letter or digit{example}", "tags", index)


# msgspec searches with Python's re, where '$' also matches before a final newline: '\Z' ends the text
AgentId = Annotated[str, Meta(pattern=AGENT_ID_PATTERN.removesuffix("$") + r"\Z")]


class _Frozen(Struct, frozen=True, forbid_unknown_fields=True):
    """Frozen, no unknown keys. msgspec's subclasses inherit both, but a type checker takes a subclass
    without ``frozen=True`` for a mutable one (and refuses it): each subclass says it again."""


def _now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """32 lowercase hex characters, time-ordered (the layout of a UUIDv7 without its version bits): the
    first 12 are the Unix time in milliseconds, the other 20 random (80 bits). Ids made in a later
    millisecond sort later, so the outbox's indexes of message ids take each new one near the last
    (random ids scattered the writes over their pages)."""
    return f"{(time_ns() // 1_000_000) & 0xFFFF_FFFF_FFFF:012x}{urandom(10).hex()}"


class Message(_Frozen, kw_only=True, frozen=True):
    """One message from a sender to some recipients; no recipients on a broadcast means everyone.
    Repeated tags are kept once; ``created_at`` must know its time zone and is kept in UTC."""

    id: Annotated[str, Meta(min_length=1)] = field(default_factory=new_id)
    sender: str
    recipients: list[str] = field(default_factory=list)
    type: MessageType = "text"
    priority: Priority = "normal"
    tags: list[str] = field(default_factory=list)
    content: str
    created_at: datetime = field(default_factory=_now)
    sender_kind: PartyKind = "captain"

    def __post_init__(self) -> None:
        for index, tag in enumerate(self.tags):
            _check_tag(tag, index)
        if len(set(self.tags)) != len(self.tags):
            force_setattr(self, "tags", list(dict.fromkeys(self.tags)))
        if self.created_at.tzinfo is None:
            raise FieldError("Input should have timezone info", "created_at")
        if self.created_at.tzinfo is not UTC:
            force_setattr(self, "created_at", self.created_at.astimezone(UTC))

    def rule_fields(self) -> dict[str, Any]:
        """The fields the rule engine checks, as plain Python values."""
        return {
            "content": self.content,
            "sender": self.sender,
            "recipients": list(self.recipients),
            "type": self.type,
            "priority": self.priority,
            "tags": list(self.tags),
        }


MODIFIER_KEYS = frozenset({
    "ctrl", "ctrlleft", "ctrlright", "shift", "shiftleft", "shiftright", "alt", "altleft", "altright",
    "option", "optionleft", "optionright", "command", "win", "winleft", "winright", "fn",
})
NAMED_KEYS = frozenset({
    "enter", "return", "tab", "space", "backspace", "delete", "del", "esc", "escape", "insert",
    "home", "end", "pageup", "pagedown", "pgup", "pgdn", "up", "down", "left", "right",
    *(f"f{number}" for number in range(1, 25)),
})


def _check_combo(name: str, keys: tuple[str, ...]) -> None:
    for index, key in enumerate(keys):
        if not ((len(key) == 1 and "!" <= key <= "~") or key in MODIFIER_KEYS or key in NAMED_KEYS):
            raise FieldError(f"unknown key {key!r}: use a single printable character or a lowercase key name "
                             "such as ctrl, shift, alt, command, enter, tab, esc, f5", name, index)
    if not keys:
        raise FieldError("a key combination needs at least one key", name)
    if len(set(keys)) != len(keys):
        raise FieldError(f"a key appears twice in {'+'.join(keys)}", name)


KeyCombo = tuple[str, ...]
Point = tuple[int, int]
"""A screen position in pixels; negative values are valid on a monitor left of or above the primary."""


WindowAnchor = Literal["top-left", "top-right", "bottom-left", "bottom-right"]
WindowId = Annotated[int, Meta(gt=0)]


class WindowMatch(_Frozen, omit_defaults=True, frozen=True):
    """Which top-level window a gui agent's chat pane is in (``window:`` in the roster).

    ``class`` is a WM_CLASS name, instance or class (``Cursor``, ``code``, ``Chromium``), compared
    whole and case-insensitively. ``title`` is a part of the window title, compared as a
    case-insensitive substring (plain text, not a pattern). ``id`` and ``pid`` (``_NET_WM_PID``)
    are recorded by ``agents capture``: while the window with that id is open it is the agent's
    window even after its title changes (unless another window now matches the title); once it is
    gone (the app restarted) the window is found again by class and title, and must be the only
    one that matches. Unset keys are left out when written.
    """

    # written and read as ``class``; the constructor keeps the name class_ (``class`` is a keyword)
    class_: str | None = field(default=None, name="class")
    title: str | None = None
    pid: WindowId | None = None
    id: WindowId | None = None

    def __post_init__(self) -> None:
        if self.class_ is not None and self.class_ != (stripped := self.class_.strip()):
            force_setattr(self, "class_", stripped)
        if self.class_ == "":
            raise FieldError("String should have at least 1 character", "class")
        if self.title is not None and not self.title.strip():
            raise FieldError("the title is blank: leave it out, or give a part of the window title", "title")
        if self.class_ is None and self.title is None and self.id is None and self.pid is None:
            raise ValueError("a window needs a class, a title or an id, e.g. {class: Cursor, title: api-service}")


class WindowPoint(_Frozen, frozen=True):
    """A point in the agent's window: ``offset`` (dx, dy) pixels from its ``anchor`` corner.

    The corners are the edges of the window's client area (without the window manager's frame):
    left ``x``, right ``x + width``, top ``y``, bottom ``y + height``; the point is the corner
    plus the offset, so from a right or bottom corner dx or dy is negative."""

    anchor: WindowAnchor
    offset: Point


class GuiTransport(TransportBase, tag="gui", frozen=True):
    """A chat pane in an editor window, driven by mouse clicks and key presses. ``chat`` and
    ``onboarding`` are screen points (where they were captured). With ``window`` the agent is bound
    to that window: each click is refused unless the agent's window is found, alone, and is topmost
    at the point. ``chat_in_window`` / ``onboarding_in_window`` place the points relative to the
    window, so they follow it when it moves or is resized; without them the screen point is used and
    must still lie on the agent's window. ``transcript_in_window`` (optional: the top-left and the
    bottom-right of the chat transcript) is where the window watcher looks for the agent at work."""

    kind: ClassVar[Literal["gui"]] = "gui"
    chat: Point
    onboarding: Point | None = None
    paste_keys: KeyCombo = ("ctrl", "v")
    submit_keys: KeyCombo = ("enter",)
    urgent_submit_keys: KeyCombo = ("ctrl", "enter")
    new_chat_keys: KeyCombo = ("ctrl", "t")
    clear_before_paste: bool = False
    window: WindowMatch | None = None
    chat_in_window: WindowPoint | None = None
    onboarding_in_window: WindowPoint | None = None
    transcript_in_window: tuple[WindowPoint, WindowPoint] | None = None

    def __post_init__(self) -> None:
        for name in ("paste_keys", "submit_keys", "urgent_submit_keys", "new_chat_keys"):
            _check_combo(name, getattr(self, name))
        for name in ("chat_in_window", "onboarding_in_window", "transcript_in_window"):
            if getattr(self, name) is not None and self.window is None:
                raise ValueError(f"{name} needs 'window' (which window the point is in)")
        if self.onboarding_in_window is not None and self.onboarding is None:
            raise ValueError("onboarding_in_window needs 'onboarding' (the point as captured)")


TmuxAgentKind = Literal["plain", "claude-code", "codex", "aider", "gemini"]  # quarterdeck.core.transports.tmux.profiles
_Seconds = Annotated[float, Meta(ge=0, le=120)]


class TmuxSubmit(_Frozen, omit_defaults=True, frozen=True):
    """Overrides of a tmux agent's submit profile, ``submit:`` in the roster (seconds; see
    ``quarterdeck.core.transports.tmux.profiles.SubmitProfile``). Unset keys are left out when written."""

    ready_after: _Seconds | None = None
    typed_within: _Seconds | None = None
    pause: _Seconds | None = None
    submitted_within: _Seconds | None = None
    presses: Annotated[int, Meta(ge=1, le=10)] | None = None


class TmuxTransport(TransportBase, tag="tmux", omit_defaults=True, frozen=True):
    """A terminal agent in a tmux pane, addressed as ``session:window.pane`` (e.g. ``swarm:0.1``).
    ``agent`` picks how its messages are submitted (unset: told from the pane's command) and
    ``submit`` overrides numbers of that profile; both are left out when written unset."""

    kind: ClassVar[Literal["tmux"]] = "tmux"
    target: Annotated[str, Meta(pattern=r"^[^\s-][^\x00-\x1f\x7f]*\Z")]
    agent: TmuxAgentKind | None = None
    submit: TmuxSubmit | None = None


class InboxTransport(TransportBase, tag="inbox", frozen=True):
    """A folder the agent polls; each message is written there as a file. ``~`` is expanded."""

    kind: ClassVar[Literal["inbox"]] = "inbox"
    path: Path

    def __post_init__(self) -> None:
        if "~" in str(self.path):
            try:
                force_setattr(self, "path", home_expanded(self.path))
            except ValueError as exc:
                raise FieldError(str(exc), "path") from None


class DryRunTransport(TransportBase, tag="dryrun", frozen=True):
    """Delivers nowhere; records what would have been sent."""

    kind: ClassVar[Literal["dryrun"]] = "dryrun"


TransportSettings = GuiTransport | TmuxTransport | InboxTransport | DryRunTransport | RelayTransport  # relay: issue 14
TRANSPORT_KINDS: tuple[str, ...] = tuple(str(kind.__struct_config__.tag) for kind in get_args(TransportSettings))


class Agent(_Frozen, kw_only=True, frozen=True):
    """A roster entry. ``id`` is a letter followed by up to 63 letters, digits, ``_``, ``.`` or ``-``
    (``Agent-3`` is the convention); ``display_name`` falls back to the id when missing or blank;
    ``hooks`` is the tool whose hooks report the agent's activity (None: no hooks installed)."""

    id: AgentId
    display_name: str | None = None
    role: str = ""
    enabled: bool = True
    transport: TransportSettings
    hooks: HookSource | None = None
    continue_after_limit: bool = False  # "continue" once a usage limit resets (quarterdeck.core.activity.resume)

    def __post_init__(self) -> None:
        if self.display_name is None or not self.display_name.strip():
            force_setattr(self, "display_name", self.id)


# the fields whose values are a fixed set, and the kinds: for the errors that list them
LITERAL_FIELDS.update({"type": MessageType, "priority": Priority, "sender_kind": PartyKind, "hooks": HookSource,
                       "anchor": WindowAnchor, "agent": TmuxAgentKind})
TAGS.extend(TRANSPORT_KINDS)
