"""Editing the roster from a form: text fields to a checked ``Agent``, and roster changes.

The agent dialog hands over what the captain typed, as strings; ``agent_from_form`` turns it into
an ``Agent`` through the model's own checks (``model_check.checked_all``) and reports every problem as a message
on the form field that caused it, so the dialog can show it next to that field. ``replace_agent``
and ``remove_agent`` build the new roster, keeping the groups consistent with a rename or removal.

The screen-point helpers convert between the logical (device-independent) pixels Qt reports and
the physical pixels PyAutoGUI clicks at. Qt keeps each screen's top-left corner unscaled and
scales distances from it by the screen's device pixel ratio, so a point converts around the
origin of the screen it is on.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from msgspec.structs import replace

from quarterdeck.core.model_check import checked_all
from quarterdeck.core.models import Agent, GuiTransport, HookSource, TmuxTransport, TransportSettings
from quarterdeck.core.roster.roster import Roster

if TYPE_CHECKING:
    from quarterdeck.core.transports.gui.windows import Placement

KINDS = ("gui", "tmux", "inbox", "dryrun")
KEY_FIELDS = ("paste_keys", "submit_keys", "urgent_submit_keys", "new_chat_keys")
TRANSPORT_FIELDS = {
    "gui": ("chat", "onboarding", *KEY_FIELDS, "clear_before_paste"),
    "tmux": ("target",),
    "inbox": ("path",),
    "dryrun": (),
}
LABELS = {
    "id": "Id", "display_name": "Display name", "role": "Role", "enabled": "Enabled",
    "kind": "Transport", "chat": "Chat point", "onboarding": "Onboarding point",
    "paste_keys": "Paste keys", "submit_keys": "Submit keys", "urgent_submit_keys": "Urgent submit keys",
    "new_chat_keys": "New chat keys", "clear_before_paste": "Clear before paste",
    "target": "tmux target", "path": "Inbox folder",
}
_ID_HELP = "start with a letter, then up to 63 letters, digits, '_', '.' or '-' (e.g. Agent-5)"


class FormError(ValueError):
    """The form does not make a valid agent; ``errors`` maps form fields to messages."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{LABELS.get(k, k)}: {v}" for k, v in self.errors.items()))


def parse_point(text: str, *, required: bool) -> tuple[int, int] | None:
    """``"420, 980"`` (or ``420 980``, ``[420, 980]``) to a point; blank is None when optional."""
    cleaned = text.strip().strip("[]()").replace(",", " ").split()
    if not cleaned:
        if required:
            raise ValueError("required: the screen position as x, y (e.g. 420, 980)")
        return None
    try:
        x, y = (int(part) for part in cleaned)
    except ValueError:
        raise ValueError(f"expected two whole numbers like 420, 980, not {text.strip()!r}") from None
    return x, y


def parse_keys(text: str) -> tuple[str, ...]:
    """``"Ctrl+V"`` to ``("ctrl", "v")``: key names are lower case (press shift for capitals)."""
    parts = [part.strip() for part in text.replace(" ", "+").split("+")]
    return tuple(part.lower() for part in parts if part)


def format_point(point: Sequence[int] | None) -> str:
    return "" if point is None else f"{point[0]}, {point[1]}"


def form_from_agent(agent: Agent) -> dict[str, Any]:
    """The form's values for an existing agent (the inverse of ``agent_from_form``)."""
    form: dict[str, Any] = {"id": agent.id, "role": agent.role, "enabled": agent.enabled,
                            "display_name": "" if agent.display_name == agent.id else agent.display_name or "",
                            "kind": agent.transport.kind}
    transport = agent.transport
    if transport.kind == "gui":
        form.update(chat=format_point(transport.chat), onboarding=format_point(transport.onboarding),
                    clear_before_paste=transport.clear_before_paste,
                    **{name: "+".join(getattr(transport, name)) for name in KEY_FIELDS})
    elif transport.kind == "tmux":
        form["target"] = transport.target
    elif transport.kind == "inbox":
        form["path"] = str(transport.path)
    return form


def agent_from_form(form: Mapping[str, Any], roster: Roster | None = None,
                    original_id: str | None = None) -> Agent:
    """A checked agent from the form's values; raises ``FormError`` naming each bad field.

    ``roster`` and ``original_id`` (None for a new agent) catch an id already taken by another agent.
    """
    errors: dict[str, str] = {}
    kind = str(form.get("kind") or "gui")
    transport: dict[str, Any] = {"kind": kind}
    if kind == "gui":
        for name, required in (("chat", True), ("onboarding", False)):
            try:
                transport[name] = parse_point(str(form.get(name) or ""), required=required)
            except ValueError as exc:
                errors[name] = str(exc)
        for name in KEY_FIELDS:
            text = str(form.get(name) or "").strip()
            if text:
                transport[name] = parse_keys(text)
        transport["clear_before_paste"] = bool(form.get("clear_before_paste", False))
        transport.update(_window_binding(roster, original_id, transport))
    elif kind == "tmux":
        transport["target"] = str(form.get("target") or "").strip()
        # The submit settings the form does not show, kept from the tmux agent being edited.
        original = _transport_of(roster, original_id)
        if isinstance(original, TmuxTransport):
            transport.update(agent=original.agent, submit=original.submit)
    elif kind == "inbox":
        transport["path"] = str(form.get("path") or "").strip()
    elif kind not in KINDS:
        errors["kind"] = f"unknown transport {kind!r}: choose one of {', '.join(KINDS)}"
    agent_id = str(form.get("id") or "").strip()
    data = {"id": agent_id, "role": str(form.get("role") or "").strip(),
            "display_name": str(form.get("display_name") or "").strip() or None,
            "enabled": bool(form.get("enabled", True)), "transport": transport}
    if roster is not None and original_id is not None and original_id in roster:
        kept = roster.get(original_id)  # the form shows neither: kept as they were
        data["hooks"], data["continue_after_limit"] = kept.hooks, kept.continue_after_limit
    agent, problems = checked_all(Agent, data)
    for error in problems:
        name, message = _field_message(error, kind)
        errors.setdefault(name, message)
    if roster is not None and agent_id and agent_id != original_id and agent_id in roster:
        errors.setdefault("id", f"{agent_id} is already on the roster; choose another id")
    if errors or agent is None:
        raise FormError(errors or {"id": "not a valid agent"})
    return agent


def _transport_of(roster: Roster | None, agent_id: str | None) -> TransportSettings | None:
    """The transport of the agent being edited (None for a new one)."""
    if roster is None or agent_id is None or agent_id not in roster:
        return None
    return roster.get(agent_id).transport


def _window_binding(roster: Roster | None, original_id: str | None,
                    transport: Mapping[str, Any]) -> dict[str, Any]:
    """The window binding the form does not show, kept from the agent being edited: ``window``,
    and each point's place in the window while that point is unchanged (a point typed anew is a
    screen point, checked against the window)."""
    original = _transport_of(roster, original_id)
    if not isinstance(original, GuiTransport) or original.window is None:
        return {}
    kept: dict[str, Any] = {"window": original.window}
    for name in ("chat", "onboarding"):
        if transport.get(name) == getattr(original, name) and getattr(original, f"{name}_in_window"):
            kept[f"{name}_in_window"] = getattr(original, f"{name}_in_window")
    return kept


def _field_message(error: Mapping[str, Any], kind: str) -> tuple[str, str]:
    """The form field a model error (``model_check``) belongs to, and a message a person can act on."""
    loc = [str(part) for part in error["loc"] if part not in ("transport", kind)]
    name = loc[0] if loc else "kind"
    message = str(error["msg"])
    if name == "id":
        return "id", ("required" if not error.get("input") else f"not usable as an id: {_ID_HELP}")
    if name == "target":
        return "target", ("required: session:window.pane, e.g. swarm:0.1" if not error.get("input")
                          else "expected session:window.pane (no spaces first, no '-' at the start)")
    if name in KEY_FIELDS:
        return name, message.replace("a key combination", "a key combination (like ctrl+v)")
    if name == "path":
        return "path", message
    return name, message


def replace_agent(roster: Roster, original_id: str | None, agent: Agent) -> Roster:
    """``roster`` with ``agent`` added, or replacing ``original_id`` in place (a rename updates
    group members)."""
    if original_id is None or original_id not in roster:
        return roster.with_agent(agent)
    agents = tuple(agent if a.id == original_id else a for a in roster.agents)
    groups = {name: tuple(agent.id if m == original_id else m for m in members)
              for name, members in roster.groups.items()}
    return Roster(agents, groups)


def remove_agent(roster: Roster, agent_id: str) -> Roster:
    """``roster`` without ``agent_id``; groups lose that member (an emptied group is kept)."""
    roster.get(agent_id)  # UnknownAgentError for an agent that is not there
    agents = tuple(a for a in roster.agents if a.id != agent_id)
    groups = {name: tuple(m for m in members if m != agent_id) for name, members in roster.groups.items()}
    return Roster(agents, groups)


def with_hooks(roster: Roster, agent_id: str, source: HookSource | None) -> Roster:
    """``roster`` with one agent's ``hooks`` (the tool whose hooks report it) set, or cleared with None."""
    return roster.with_agent(replace(roster.get(agent_id), hooks=source))


def with_point(roster: Roster, agent_id: str, which: str, point: Sequence[int],
               placement: Placement | None = None, title: str | None = None) -> Roster:
    """``roster`` with one gui agent's chat or onboarding point set (a captured point).

    ``placement`` (``quarterdeck.core.transports.gui.windows.placement_at(point)``) binds the agent to the window
    under the point, as ``agents capture`` does; without it the point is a screen point and any
    place it had in the window is dropped. See ``quarterdeck.core.roster.capture.with_capture``."""
    from quarterdeck.core.roster.capture import point_name, with_capture

    return roster.with_agent(with_capture(roster.get(agent_id), point_name(which), point, placement, title))


# -- screen points: logical (Qt) and physical (PyAutoGUI) pixels -----------------------------

def to_physical(point: Sequence[float], origin: Sequence[int], ratio: float) -> tuple[int, int]:
    """A logical point on a screen at ``origin`` with device pixel ratio ``ratio``, in pixels."""
    return (round(origin[0] + (point[0] - origin[0]) * ratio),
            round(origin[1] + (point[1] - origin[1]) * ratio))


def to_local(point: Sequence[int], origin: Sequence[int], size: Sequence[int],
             ratio: float) -> tuple[float, float] | None:
    """Where a physical-pixel point falls inside a screen's window (logical pixels from its top
    left), or None when the point is not on that screen. ``size`` is the logical size."""
    x = (point[0] - origin[0]) / ratio
    y = (point[1] - origin[1]) / ratio
    if 0 <= x < size[0] and 0 <= y < size[1]:
        return x, y
    return None
