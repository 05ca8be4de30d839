"""The shared data model: messages between the captain and agents, and the agent roster.

All models are frozen and reject unknown fields. They check shape only: whether content is
blank, a recipient is on the roster or a tag is allowed for a sender is for the rule engine,
which checks :meth:`Message.rule_fields` (or a raw dict of the same keys).
"""

from __future__ import annotations

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
)

MessageType = Literal["text", "broadcast", "onboarding"]
Priority = Literal["normal", "urgent"]
PartyKind = Literal["captain", "agent", "system", "human"]
STANDARD_TAGS: tuple[str, ...] = ("captain", "onboarding", "wrapup")

TAG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
AGENT_ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$"

Tag = Annotated[str, StringConstraints(pattern=TAG_PATTERN)]
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


class GuiTransport(_Frozen):
    """A chat pane in an editor window, driven by mouse clicks and key presses."""

    kind: Literal["gui"] = "gui"
    chat: Point
    onboarding: Point | None = None
    paste_keys: KeyCombo = ("ctrl", "v")
    submit_keys: KeyCombo = ("enter",)
    urgent_submit_keys: KeyCombo = ("ctrl", "enter")
    new_chat_keys: KeyCombo = ("ctrl", "t")
    clear_before_paste: bool = False


class TmuxTransport(_Frozen):
    """A terminal agent in a tmux pane, addressed as ``session:window.pane`` (e.g. ``swarm:0.1``)."""

    kind: Literal["tmux"] = "tmux"
    target: Annotated[str, StringConstraints(pattern=r"^[^\s-][^\x00-\x1f\x7f]*$")]


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


TransportSettings = Annotated[
    GuiTransport | TmuxTransport | InboxTransport | DryRunTransport, Field(discriminator="kind")
]


class Agent(_Frozen):
    """A roster entry.

    ``id`` is a letter followed by up to 63 letters, digits, ``_``, ``.`` or ``-``; ``Agent-3`` is
    the convention, not a requirement. ``display_name`` falls back to the id when missing or blank.
    """

    id: AgentId
    display_name: str | None = Field(None, validate_default=True)
    role: str = ""
    enabled: bool = True
    transport: TransportSettings

    @field_validator("display_name")
    @classmethod
    def _default_to_id(cls, name: str | None, info: ValidationInfo) -> str | None:
        if name is not None and name.strip():
            return name
        return info.data.get("id")
