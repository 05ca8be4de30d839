"""A captured point into the roster file: the screen point, and the window it is in.

``capture_point`` stores one gui agent's chat or onboarding point. Given the ``Placement`` of the
point (``quarterdeck.core.transports.gui.windows.placement_at``: the application window under it and the point
from that window's nearest corner), it also binds the agent to that window: ``window`` (class,
title, pid, id; see ``window_match.bind_match``) and ``chat_in_window`` /
``onboarding_in_window``. Without one, the point is stored alone and any relative point for it is
dropped (the screen point is then checked against the recorded window, if there is one).

The file is edited in place where the keys are already written in flow style (``[x, y]``,
``{...}``) or can be added next to the point, so comments and layout survive; otherwise it is
rewritten. Either way the result is re-read and must equal the intended roster.
"""
from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from msgspec import Struct
from msgspec.structs import asdict

from quarterdeck.core.fileops import write_atomically
from quarterdeck.core.model_check import checked, dumped
from quarterdeck.core.models import Agent, GuiTransport
from quarterdeck.core.roster.problems import RosterError
from quarterdeck.core.roster.roster import Roster, parse_roster, roster_to_yaml

if TYPE_CHECKING:
    from quarterdeck.core.transports.gui.windows import Placement

__all__ = ["PointName", "capture_point", "point_name", "with_capture"]

PointName = Literal["chat", "onboarding"]


def point_name(which: str) -> PointName:
    """``which`` as a point name; ``ValueError`` unless it is 'chat' or 'onboarding'."""
    if which == "chat":
        return "chat"
    if which == "onboarding":
        return "onboarding"
    raise ValueError(f"which must be 'chat' or 'onboarding', not {which!r}")


def with_capture(agent: Agent, which: PointName, position: Sequence[int], placement: Placement | None = None,
                 title: str | None = None) -> Agent:
    """``agent`` with ``position`` as its ``which`` point, bound to the placement's window if given.

    ``title`` (a part of the window's title, to find it again after the app restarts) needs a
    placement. Raises ``ValueError`` for a non-gui agent, a bad ``which`` or a title that is not
    in the window's title.
    """
    from quarterdeck.core.desktop.window_match import bind_match

    if which not in ("chat", "onboarding"):
        raise ValueError(f"which must be 'chat' or 'onboarding', not {which!r}")
    if not isinstance(agent.transport, GuiTransport):
        raise ValueError(f"{agent.id} uses the {agent.transport.kind} transport; only gui agents have "
                         "screen points")
    update: dict[str, Any] = {which: (int(position[0]), int(position[1])), f"{which}_in_window": None}
    if placement is not None:
        update["window"] = bind_match(placement.window, agent.transport.window, title)
        update[f"{which}_in_window"] = placement.at
    elif title is not None:
        raise ValueError("a title needs the window under the pointer, and there is none")
    data = {**dumped(agent.transport), **{k: _plain(v) for k, v in update.items()}}
    return checked(Agent, {**asdict(agent), "transport": data})


def _plain(value: Any) -> Any:
    return dumped(value) if isinstance(value, Struct) else value


def capture_point(roster_path: Path, agent_id: str, which: PointName, position: Sequence[int],
                  placement: Placement | None = None, *, title: str | None = None
                  ) -> tuple[tuple[int, int] | None, tuple[int, int], Path | None]:
    """Store ``position`` as one gui agent's chat or onboarding point, touching no other agent.

    ``placement`` and ``title``: see ``with_capture``. The write is atomic and the previous file
    is backed up. Returns (old point, new point, backup path). Raises ``UnknownAgentError`` for an
    agent not on the roster and ``ValueError`` for one that is not a gui agent.
    """
    if which not in ("chat", "onboarding"):
        raise ValueError(f"which must be 'chat' or 'onboarding', not {which!r}")
    roster_path = Path(roster_path)
    text = roster_path.read_text(encoding="utf-8")
    roster = parse_roster(text, str(roster_path), screens=())
    agent = roster.get(agent_id)
    changed = with_capture(agent, which, position, placement, title)
    updated = roster.with_agent(changed)
    before, after = dumped(agent.transport), dumped(changed.transport)
    changes = {key: after[key] for key in after if after[key] != before[key]}
    edited = _edit_in_place(text, agent_id, which, changes)
    if edited is None or not _same(edited, updated):
        edited = roster_to_yaml(Roster(updated.agents, updated.groups))
    return getattr(agent.transport, which), getattr(changed.transport, which), write_atomically(roster_path, edited)


def _same(text: str, roster: Roster) -> bool:
    try:
        reread = parse_roster(text, screens=())
    except RosterError:
        return False
    return (reread.agents, reread.groups) == (roster.agents, roster.groups)


def _flow(value: Any) -> str:
    """A value as one line of YAML: ``[420, 980]``, ``{anchor: bottom-left, offset: [3, -4]}``."""
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=1 << 20).strip() \
        .removesuffix("...").strip()


def _edit_in_place(text: str, agent_id: str, which: str, changes: dict[str, Any]) -> str | None:
    """``text`` with agent ``agent_id``'s keys set to ``changes`` (None: the key must be absent),
    replacing flow-style values and adding missing keys after ``which``; None when it cannot."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    agents = next((v for k, v in getattr(root, "value", []) if getattr(k, "value", None) == "agents"), None)
    entry = next((e for e in getattr(agents, "value", []) if isinstance(e, yaml.MappingNode)
                  and any(k.value == "id" and v.value == agent_id for k, v in e.value)), None)
    if entry is None:
        return None
    pairs = {k.value: (k, v) for k, v in entry.value}
    edits: list[tuple[int, int, str]] = []
    added: list[str] = []
    for key, value in changes.items():
        key_node, node = pairs.get(key, (None, None))
        if value is None:
            if node is None:
                continue
            if not _is_flow(node):
                return None
            edits.append(_removal(text, entry, key_node, node))
            if edits[-1][0] < 0:
                return None
        elif node is None:
            added.append(f"{key}: {_flow(value)}")
        elif _is_flow(node):
            edits.append((node.start_mark.index, node.end_mark.index, _flow(value)))
        else:
            return None
    if added:
        key_node, after = pairs.get(which) or (entry.value[-1] if entry.value else (None, None))
        if key_node is None or after is None or not (_is_flow(after) or isinstance(after, yaml.ScalarNode)):
            return None
        if entry.flow_style:
            edits.append((after.end_mark.index, after.end_mark.index, "".join(f", {a}" for a in added)))
        else:
            end = text.find("\n", after.end_mark.index)
            end = len(text) if end < 0 else end
            indent = " " * key_node.start_mark.column
            edits.append((end, end, "".join(f"\n{indent}{a}" for a in added)))
    if any(a[1] > b[0] for a, b in pairwise(sorted(edits))):
        return None  # overlapping edits: leave it to a rewrite
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _is_flow(node: yaml.Node) -> bool:
    return isinstance(node, (yaml.SequenceNode, yaml.MappingNode)) and bool(node.flow_style)


def _removal(text: str, entry: yaml.MappingNode, key: yaml.Node, value: yaml.Node) -> tuple[int, int, str]:
    """The edit that deletes one key: its ``, key: value`` in a flow entry, its line in a block."""
    if entry.flow_style:
        return text.rfind(",", entry.start_mark.index, key.start_mark.index), value.end_mark.index, ""
    end = text.find("\n", value.end_mark.index)
    return key.start_mark.index - key.start_mark.column, len(text) if end < 0 else end + 1, ""
