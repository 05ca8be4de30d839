"""The agent roster: which agents exist and how each one is reached (``agents.yaml``).

File format::

    agents:
      - id: Agent-1                  # required; a letter, then letters, digits, _ . - (64 at most)
        display_name: Frontend bot   # optional; defaults to the id
        role: frontend               # optional free text
        enabled: true                # optional; false keeps the agent listed but sends it nothing
        hooks: claude-code           # optional: the tool whose hooks report what the agent is doing
                                     # (claude-code, cursor, vscode, windsurf, gemini or codex; set by
                                     # `quarterdeck agents hooks install`), left out when there are none
        continue_after_limit: true   # optional: once its usage limit resets, send it "continue" (when idle)
        transport: gui               # required: gui, tmux, inbox or dryrun
        chat: [420, 980]             # gui: the chat input of the current conversation (required)
        onboarding: [420, 900]       # gui: where a new chat's input appears (optional)
        paste_keys: [ctrl, v]        # gui, optional key combos; these are the defaults
        submit_keys: [enter]
        urgent_submit_keys: [ctrl, enter]
        new_chat_keys: [ctrl, t]
        clear_before_paste: false    # gui, optional: select-all + delete before pasting
        window: {class: Cursor, title: api-service, pid: 4242, id: 62914567}  # gui, optional
        chat_in_window: {anchor: bottom-left, offset: [320, -60]}           # gui, optional
        onboarding_in_window: {anchor: bottom-left, offset: [320, -140]}    # gui, optional
        transcript_in_window: [{anchor: top-left, offset: [8, 60]},        # gui, optional
                               {anchor: bottom-right, offset: [-8, -120]}]
      - {id: Agent-2, transport: tmux, target: "swarm:0.1"}        # tmux: session:window.pane
      - {id: Agent-3, transport: inbox, path: ~/swarm/inbox/agent-3}  # inbox: a folder
      - {id: Agent-4, transport: dryrun}                            # delivers nowhere
    groups:                          # optional saved recipient groups
      frontend: [Agent-1, Agent-2]

Points are screen pixels in the virtual-desktop coordinates the mouse uses; a negative value is
valid where a monitor sits left of or above the primary one. When the screens can be queried, each
point must lie on one of them.

``window`` binds a gui agent to its window (see ``quarterdeck.core.models.WindowMatch``): ``class`` (WM_CLASS,
whole, any case), ``title`` (a part of the title, any case), and the ``id``/``pid`` that
``agents capture`` records. Before each click the window must be found (exactly one) and be
topmost at the point, else nothing is typed. ``chat_in_window``/``onboarding_in_window`` hold the
points relative to a corner of the window (``offset`` = point - corner, so negative from a right or
bottom corner), so they follow the window; without them the screen point must be on the window.
``transcript_in_window`` is where the window watcher looks for the agent at work (the chat
transcript): its top-left and bottom-right, each from a corner of the window; without it, the
window's full width from 8% of its height down to 60 px above the chat point
(``quarterdeck.core.activity.watch.region``).
Quote a tmux target that looks like a number (``"1:0"``).
Top-level keys starting with ``x-`` are ignored, so they can hold YAML anchors for shared settings
(``x-gui: &gui {transport: gui, submit_keys: [enter]}``, then ``- {<<: *gui, id: Agent-5, ...}``).

Every problem in the file is reported at once, each as ``file:line:col: error: Agent-1.chat: ...``.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from msgspec import Struct, field

from quarterdeck.core.model_check import dumped
from quarterdeck.core.models import Agent
from quarterdeck.core.roster.parse import parse
from quarterdeck.core.roster.problems import RosterError, UnknownAgentError

if TYPE_CHECKING:
    from quarterdeck.core.desktop.screens import ScreenRect

__all__ = ["Roster", "load_roster", "parse_roster", "roster_to_yaml", "save_roster"]

_FAST_LOADER: type[Any] | None = getattr(yaml, "CSafeLoader", None)  # PyYAML built with libyaml


class Roster(Struct, frozen=True, dict=True):
    """The loaded roster. ``warnings`` says which checks could not be made (never an error)."""

    agents: tuple[Agent, ...] = ()
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        seen: dict[str, Agent] = {}
        for agent in self.agents:
            if agent.id in seen:
                raise ValueError(f"agent id {agent.id!r} appears twice")
            seen[agent.id] = agent
        self.__dict__["_by_id"] = seen  # the index below, already built (it is no field: not compared, not shown)
        for name, members in self.groups.items():
            unknown = [m for m in members if m not in seen]
            if unknown:
                raise ValueError(f"group {name!r} names unknown agents: {', '.join(unknown)}")

    @cached_property
    def _by_id(self) -> dict[str, Agent]:
        """The agents by id: get and ``in`` by id, not a scan (a dispatcher asks per delivery). Built by
        ``__post_init__``; here again for a copy (``copy.copy`` copies the fields only)."""
        return {agent.id: agent for agent in self.agents}

    def get(self, agent_id: str) -> Agent:
        agent = self._by_id.get(agent_id)
        if agent is not None:
            return agent
        known = ", ".join(self.ids()) or "none"
        raise UnknownAgentError(f"no agent {agent_id!r} on the roster (agents: {known})")

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._by_id

    def ids(self) -> list[str]:
        return [agent.id for agent in self.agents]

    def enabled(self) -> tuple[Agent, ...]:
        return tuple(agent for agent in self.agents if agent.enabled)

    def group(self, name: str) -> tuple[Agent, ...]:
        if name not in self.groups:
            raise UnknownAgentError(f"no group {name!r} (groups: {', '.join(self.groups) or 'none'})")
        return tuple(self.get(member) for member in self.groups[name])

    def with_agent(self, agent: Agent) -> Roster:
        """A copy with ``agent`` replacing the one of the same id, or appended when new."""
        if agent.id in self:
            agents = tuple(agent if a.id == agent.id else a for a in self.agents)
        else:
            agents = (*self.agents, agent)
        return Roster(agents, dict(self.groups), self.warnings)


def load_roster(path: Path | None = None, *, screens: Sequence[ScreenRect] | None = None) -> Roster:
    """Read and check a roster file (default: the user's ``agents.yaml``).

    ``screens=None`` asks the display for its monitors (only if there are gui agents); an empty
    sequence skips the point check. Either way a skipped check is named in ``Roster.warnings``.
    Raises ``FileNotFoundError`` when the file is missing and ``RosterError`` listing all problems.
    """
    if path is None:
        from quarterdeck.core.paths import default_roster_file

        path = default_roster_file()
    path = Path(path)
    return parse_roster(path.read_text(encoding="utf-8"), str(path), screens=screens)


def parse_roster(text: str, file: str = "agents.yaml", *,
                 screens: Sequence[ScreenRect] | None = None) -> Roster:
    """Check roster text; see :func:`load_roster`.

    With ``screens`` given, even empty (as a send gives them: no point check), composed by libyaml when PyYAML
    has it (ten times faster, and every send reads the roster); a roster with a problem is read again by
    PyYAML's own loader, which places each problem as it always has (libyaml puts an empty value inside
    ``{...}`` one column further on). With ``screens=None``, PyYAML's at once: the display is asked for its
    screens at most once."""
    if _FAST_LOADER is not None and screens is not None:
        try:
            return Roster(*parse(text, file, screens, _FAST_LOADER))
        except RosterError:
            pass
    return Roster(*parse(text, file, screens))


def roster_to_yaml(roster: Roster) -> str:
    """The roster in the file format above (flat keys, defaults written out for gui key combos)."""
    entries: list[dict[str, Any]] = []
    for agent in roster.agents:
        entry: dict[str, Any] = {"id": agent.id}
        if agent.display_name and agent.display_name != agent.id:
            entry["display_name"] = agent.display_name
        if agent.role:
            entry["role"] = agent.role
        entry["enabled"] = agent.enabled
        if agent.hooks is not None:
            entry["hooks"] = agent.hooks
        if agent.continue_after_limit:
            entry["continue_after_limit"] = True
        settings = dumped(agent.transport)
        entry["transport"] = settings.pop("kind")
        entry.update({key: _Flow(value) if isinstance(value, dict) else value
                      for key, value in settings.items() if value is not None})
        entries.append(entry)
    document: dict[str, Any] = {"agents": entries}
    if roster.groups:
        document["groups"] = {name: list(members) for name, members in roster.groups.items()}
    body = yaml.dump(document, Dumper=_FlowListDumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100)
    return "# Quarterdeck agent roster (agents.yaml).\n" + body


class _FlowListDumper(yaml.SafeDumper):
    """Writes lists of scalars (points, key combos, group members) on one line."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.SequenceNode:
    flat = all(not isinstance(item, (dict, list)) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


class _Flow(dict[str, Any]):
    """A small mapping written on one line (a gui agent's ``window`` and in-window points)."""


_FlowListDumper.add_representer(list, _represent_list)
_FlowListDumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))


def save_roster(roster: Roster, path: Path, *, backup: bool = True) -> Path | None:
    """Write the roster atomically; returns the backup of the previous file, if there was one."""
    from quarterdeck.core.fileops import write_atomically  # only saving writes (a send only reads the roster)

    return write_atomically(Path(path), roster_to_yaml(roster), backup=backup)
