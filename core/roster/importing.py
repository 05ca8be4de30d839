"""Changes to the roster from outside: the predecessor's coordinates file (and, re-exported from
``quarterdeck.core.roster.capture``, captured points).

The original system kept its points in ``cursor_agent_coords.json``::

    {"agents": {"Agent-1": {"chat_input_coordinates": [-1269, 481],
                            "onboarding_input_coords": [-1265, 171],
                            "description": "Integration & Core Systems Specialist", "active": true}}}

(also accepted: the agents mapping as the top level, and ``onboarding_coordinates``). Each entry
becomes a gui agent: description is its role, active its enabled flag. Other top-level keys of that
file (version, bounds, fallbacks) describe nothing Quarterdeck uses and are skipped.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import yaml
from msgspec.structs import replace as struct_replace

from quarterdeck.core.model_check import checked_all
from quarterdeck.core.models import Agent
from quarterdeck.core.roster.capture import PointName, capture_point  # noqa: F401 (re-exported)
from quarterdeck.core.roster.problems import RosterError, RosterProblem
from quarterdeck.core.roster.roster import Roster

CHAT_KEY = "chat_input_coordinates"
ONBOARDING_KEYS = ("onboarding_input_coords", "onboarding_coordinates")
KNOWN_KEYS = (CHAT_KEY, *ONBOARDING_KEYS, "description", "active")
_MODEL_TO_ORIGINAL = {"chat": CHAT_KEY, "role": "description", "enabled": "active"}


def import_original(path: Path) -> tuple[list[Agent], list[str]]:
    """Gui agents from an original coordinates file, and warnings about what was left out.

    Raises ``RosterError`` naming the agent and key of every malformed entry (JSON syntax errors
    with their line and column) and ``FileNotFoundError`` for a missing file.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RosterError([RosterProblem(str(path), exc.lineno, exc.colno, None, None,
                                         f"JSON syntax error: {exc.msg}")]) from None
    where = _Positions(text)
    entries = document
    prefix: tuple[str, ...] = ()
    if isinstance(document, dict) and "agents" in document:
        entries, prefix = document["agents"], ("agents",)
    if not isinstance(entries, dict) or not entries:
        raise RosterError([RosterProblem(str(path), 1, 1, None, None, "expected an object of agents, "
                                         'like {"agents": {"Agent-1": {"chat_input_coordinates": [x, y]}}}')])
    agents: list[Agent] = []
    warnings: list[str] = []
    problems: list[RosterProblem] = []

    def problem(name: str, key: str | None, message: str) -> None:
        line, col = where.find((*prefix, name, *((key,) if key else ())))
        problems.append(RosterProblem(str(path), line, col, name, key, message))

    for name, entry in entries.items():
        if not isinstance(entry, dict):
            problem(name, None, f"expected an object with {CHAT_KEY!r}, not {json.dumps(entry)}")
            continue
        if CHAT_KEY not in entry:
            problem(name, None, f"missing {CHAT_KEY!r}")
            continue
        onboarding_key = next((k for k in ONBOARDING_KEYS if k in entry), None)
        active = entry.get("active", True)
        bad_active = not isinstance(active, bool)
        if bad_active:
            problem(name, "active", f"expected true or false, not {json.dumps(active)}")
            active = True
        data = {"id": name, "role": entry.get("description") or "", "enabled": active,
                "transport": {"kind": "gui", "chat": entry[CHAT_KEY],
                              "onboarding": entry.get(onboarding_key) if onboarding_key else None}}
        agent, errors = checked_all(Agent, data)
        if agent is None:
            for error in errors:
                loc = [part for part in error["loc"] if part not in ("transport", "gui")]
                model_key = str(loc[0]) if loc else ""
                key = onboarding_key if model_key == "onboarding" else _MODEL_TO_ORIGINAL.get(model_key)
                message = error["msg"]
                if model_key in ("chat", "onboarding"):
                    message = f"expected [x, y] with two whole numbers, not {json.dumps(entry[key])}"
                elif model_key == "id":
                    message = ("not usable as an agent id: start with a letter, then up to 63 "
                               "letters, digits, '_', '.' or '-'")
                problem(name, key if key in entry else None, message)
            continue
        agents.append(agent)
        if bad_active:
            continue
        ignored = sorted(set(entry) - set(KNOWN_KEYS))
        if ignored:
            warnings.append(f"{name}: ignored keys {', '.join(ignored)}")
        if onboarding_key is None or entry[onboarding_key] is None:
            warnings.append(f"{name}: no onboarding point; capture one with "
                            f"`quarterdeck agents capture {name} --onboarding`")
    if problems:
        raise RosterError(_dedupe(problems))
    return agents, warnings


def merge_agents(roster: Roster, agents: Sequence[Agent], *, replace: bool) -> tuple[Roster, list[str]]:
    """``roster`` with ``agents`` added (same id: updated), or, with ``replace``, only ``agents``.

    Replacing keeps the groups, minus members that no longer exist; the notes say what changed.
    """
    notes: list[str] = []
    # the original system knows nothing of hooks: an agent already on the roster keeps its own
    agents = [struct_replace(a, hooks=roster.get(a.id).hooks) if a.id in roster and a.hooks is None else a
              for a in agents]
    if replace:
        kept = {a.id for a in agents}
        dropped = [a for a in roster.ids() if a not in kept]
        if dropped:
            notes.append(f"removed: {', '.join(dropped)}")
        groups = {}
        for name, members in roster.groups.items():
            remaining = tuple(m for m in members if m in kept)
            if remaining != members:
                notes.append(f"group {name}: dropped {', '.join(m for m in members if m not in kept)}")
            groups[name] = remaining
        merged = Roster(tuple(agents), groups)
    else:
        merged = roster
        for agent in agents:
            merged = merged.with_agent(agent)
    for agent in agents:
        notes.append(f"{'updated' if agent.id in roster else 'added'}: {agent.id}")
    return Roster(merged.agents, merged.groups), notes


class _Positions:
    """Line and column of keys in a JSON text, found through YAML's node marks (JSON is YAML)."""

    def __init__(self, text: str) -> None:
        self._root: yaml.Node | None
        try:
            self._root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            self._root = None

    def find(self, keys: Sequence[str]) -> tuple[int, int]:
        node: yaml.Node | None = self._root
        mark: yaml.Mark | None = None
        for key in keys:
            if not isinstance(node, yaml.MappingNode):
                break
            match = next(((k, v) for k, v in node.value if k.value == key), None)
            if match is None:
                break
            mark, node = match[0].start_mark, match[1]
        return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _dedupe(problems: list[RosterProblem]) -> list[RosterProblem]:
    return list(dict.fromkeys(problems))
