"""The shared data model: messages between the captain and agents, and the agent roster.

All models are frozen and reject unknown fields. They check shape only: whether content is
blank, a recipient is on the roster or a tag is allowed for a sender is for the rule engine,
which checks :meth:`Message.rule_fields` (or a raw dict of the same keys).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import uuid4

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from quarterdeck.core.relay_settings import RelayTransport
from quarterdeck.core.tags import STANDARD_TAGS as STANDARD_TAGS  # the --tag help reads it without pydantic

MessageType = Literal["text", "broadcast", "onboarding"]
Priority = Literal["normal", "urgent"]
PartyKind = Literal["captain", "agent", "system", "human"]
HookSource = Literal["claude-code", "cursor", "vscode", "windsurf", "gemini", "codex"]  # whose hooks report an agent

TAG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
AGENT_ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$"

def _check_tag(tag: str) -> str:
    if not re.fullmatch(TAG_PATTERN, tag):
        hint = re.sub(r"[^a-z0-9_-]+", "-", tag.strip().lower()).strip("-_")
        example = f"; did you mean {hint!r}?" if hint and re.fullmatch(TAG_PATTERN, hint) else ""
        raise ValueError(f"{tag!r} is not a tag: a tag is lowercase letters, digits, '-' and '_', "
                         f"starting with a letter or digit{example}")
    return tag


Tag = Annotated[str, AfterValidator(_check_tag)]
AgentId = Annotated[str, StringConstraints(pattern=AGENT_ID_PATTERN)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Message(_Frozen):
    """One message from a sender to some recipients; no recipients on a broadcast means everyone."""

    id: str = Field(default_factory=lambda: uuid4().hex, min_length=1)
    sender: str
    recipients: list[str] = Field(default_factory=list)
    type: MessageType = "text"
    priority: Priority = "normal"
    tags: list[Tag] = Field(default_factory=list)
    content: str
    created_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    sender_kind: PartyKind = "captain"

    @field_validator("tags")
    @classmethod
    def _drop_repeated_tags(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(tags))

    @field_validator("created_at")
    @classmethod
    def _in_utc(cls, moment: datetime) -> datetime:
        return moment.astimezone(UTC)

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


def _check_key(key: str) -> str:
    if len(key) == 1 and "!" <= key <= "~":
        return key
    if key in MODIFIER_KEYS or key in NAMED_KEYS:
        return key
    raise ValueError(f"unknown key {key!r}: use a single printable character or a lowercase key name "
                     "such as ctrl, shift, alt, command, enter, tab, esc, f5")


def _check_combo(keys: tuple[str, ...]) -> tuple[str, ...]:
    if not keys:
        raise ValueError("a key combination needs at least one key")
    if len(set(keys)) != len(keys):
        raise ValueError(f"a key appears twice in {'+'.join(keys)}")
    return keys


Key = Annotated[str, AfterValidator(_check_key)]
KeyCombo = Annotated[tuple[Key, ...], AfterValidator(_check_combo)]
Point = tuple[StrictInt, StrictInt]
"""A screen position in pixels; negative values are valid on a monitor left of or above the primary."""


WindowAnchor = Literal["top-left", "top-right", "bottom-left", "bottom-right"]
WindowId = Annotated[StrictInt, Field(gt=0)]


class WindowMatch(_Frozen):
    """Which top-level window a gui agent's chat pane is in (``window:`` in the roster).

    ``class`` is a WM_CLASS name, instance or class (``Cursor``, ``code``, ``Chromium``), compared
    whole and case-insensitively. ``title`` is a part of the window title, compared as a
    case-insensitive substring (plain text, not a pattern). ``id`` and ``pid`` (``_NET_WM_PID``)
    are recorded by ``agents capture``: while the window with that id is open it is the agent's
    window even after its title changes (unless another window now matches the title); once it is
    gone (the app restarted) the window is found again by class and title, and must be the only
    one that matches. Unset keys are left out when written.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    # validation_alias/serialization_alias rather than alias: the same keys, but the constructor
    # keeps the parameter name class_ for type checkers (``class`` is a keyword in Python)
    class_: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = Field(
        default=None, validation_alias="class", serialization_alias="class")
    title: str | None = None
    pid: WindowId | None = None
    id: WindowId | None = None

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, title: str | None) -> str | None:
        if title is not None and not title.strip():
            raise ValueError("the title is blank: leave it out, or give a part of the window title")
        return title

    @model_validator(mode="after")
    def _names_a_window(self) -> WindowMatch:
        if self.class_ is None and self.title is None and self.id is None and self.pid is None:
            raise ValueError("a window needs a class, a title or an id, e.g. {class: Cursor, title: api-service}")
        return self

    @model_serializer(mode="wrap")
    def _written(self, handler: Any) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            data = {("class" if key == "class_" else key): value for key, value in data.items()
                    if value is not None}
        return data


class WindowPoint(_Frozen):
    """A point in the agent's window: ``offset`` (dx, dy) pixels from its ``anchor`` corner.

    The corners are the edges of the window's client area (without the window manager's frame):
    left ``x``, right ``x + width``, top ``y``, bottom ``y + height``; the point is the corner
    plus the offset, so from a right or bottom corner dx or dy is negative."""

    anchor: WindowAnchor
    offset: Point


class GuiTransport(_Frozen):
    """A chat pane in an editor window, driven by mouse clicks and key presses. ``chat`` and
    ``onboarding`` are screen points (where they were captured). With ``window`` the agent is bound
    to that window: each click is refused unless the agent's window is found, alone, and is topmost
    at the point. ``chat_in_window`` / ``onboarding_in_window`` place the points relative to the
    window, so they follow it when it moves or is resized; without them the screen point is used and
    must still lie on the agent's window. ``transcript_in_window`` (optional: the top-left and the
    bottom-right of the chat transcript) is where the window watcher looks for the agent at work."""

    kind: Literal["gui"] = "gui"
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

    @model_validator(mode="after")
    def _points_in_a_window(self) -> GuiTransport:
        for name in ("chat_in_window", "onboarding_in_window", "transcript_in_window"):
            if getattr(self, name) is not None and self.window is None:
                raise ValueError(f"{name} needs 'window' (which window the point is in)")
        if self.onboarding_in_window is not None and self.onboarding is None:
            raise ValueError("onboarding_in_window needs 'onboarding' (the point as captured)")
        return self


TmuxAgentKind = Literal["plain", "claude-code", "codex", "aider", "gemini"]  # quarterdeck.core.transports.tmux.profiles
_Seconds = Annotated[float, Field(ge=0, le=120)]


class TmuxSubmit(_Frozen):
    """Overrides of a tmux agent's submit profile, ``submit:`` in the roster (seconds; see
    ``quarterdeck.core.transports.tmux.profiles.SubmitProfile``). Unset keys are left out when written."""

    ready_after: _Seconds | None = None
    typed_within: _Seconds | None = None
    pause: _Seconds | None = None
    submitted_within: _Seconds | None = None
    presses: Annotated[int, Field(ge=1, le=10)] | None = None

    @model_serializer(mode="wrap")
    def _written(self, handler: Any) -> Any:
        data = handler(self)
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else data


class TmuxTransport(_Frozen):
    """A terminal agent in a tmux pane, addressed as ``session:window.pane`` (e.g. ``swarm:0.1``).
    ``agent`` picks how its messages are submitted (unset: told from the pane's command) and
    ``submit`` overrides numbers of that profile; both are left out when written unset."""

    kind: Literal["tmux"] = "tmux"
    target: Annotated[str, StringConstraints(pattern=r"^[^\s-][^\x00-\x1f\x7f]*$")]
    agent: TmuxAgentKind | None = None
    submit: TmuxSubmit | None = None

    @model_serializer(mode="wrap")
    def _written(self, handler: Any) -> Any:
        data = handler(self)
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else data


class InboxTransport(_Frozen):
    """A folder the agent polls; each message is written there as a file. ``~`` is expanded."""

    kind: Literal["inbox"] = "inbox"
    path: Path

    @field_validator("path", mode="before")
    @classmethod
    def _not_blank(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("the inbox path is empty")
        return value

    @field_validator("path")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()


class DryRunTransport(_Frozen):
    """Delivers nowhere; records what would have been sent."""
    kind: Literal["dryrun"] = "dryrun"


_Kinds = GuiTransport | TmuxTransport | InboxTransport | DryRunTransport | RelayTransport  # relay: issue 14
TransportSettings = Annotated[_Kinds, Field(discriminator="kind")]


class Agent(_Frozen):
    """A roster entry. ``id`` is a letter followed by up to 63 letters, digits, ``_``, ``.`` or ``-``
    (``Agent-3`` is the convention); ``display_name`` falls back to the id when missing or blank;
    ``hooks`` is the tool whose hooks report the agent's activity (None: no hooks installed)."""

    id: AgentId
    display_name: str | None = Field(default=None, validate_default=True)
    role: str = ""
    enabled: bool = True
    transport: TransportSettings
    hooks: HookSource | None = None
    continue_after_limit: bool = False  # "continue" once a usage limit resets (quarterdeck.core.activity.resume)

    @field_validator("display_name")
    @classmethod
    def _default_to_id(cls, name: str | None, info: ValidationInfo) -> str | None:
        if name is not None and name.strip():
            return name
        return info.data.get("id")
