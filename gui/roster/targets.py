"""What the Targets overlay marks and the roster's Target column says, for each gui agent.

An agent bound to its window (``GuiTransport.window``) is looked up now (``quarterdeck.core.transports.gui.windows
.preview``: the window found again by class, title and id, and the point computed from its corner,
without raising anything): the overlay outlines that window and marks the point a delivery would
click, or shows why a delivery would be refused (window missing, ambiguous, covered) near the last
known point. An agent with screen points only is marked at those points, as captured.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quarterdeck.core.models import Agent, GuiTransport
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.transports.gui.windows import Preview

__all__ = ["Target", "target_text", "target_tip", "targets_of", "window_text"]


@dataclass(frozen=True)
class Target:
    """One point to mark: whose, which point, and where (physical pixels). A window-bound agent's
    target also has its window's client area (``frame``: x, y, width, height) when it was found,
    and ``problem``, why a click there would be refused or need a raise first."""

    agent_id: str
    which: str  # chat | onboarding
    point: tuple[int, int]
    frame: tuple[int, int, int, int] | None = None
    problem: str = ""
    bound: bool = False  # the agent is bound to a window

    @property
    def label(self) -> str:
        return self.agent_id if self.which == "chat" else f"{self.agent_id} · onboarding"


def _look(transport: GuiTransport, which: str, agent_id: str) -> Preview:
    from quarterdeck.core.transports.gui.windows import preview

    return preview(transport, which, agent_id)


def targets_of(roster: Roster, look: Callable[[GuiTransport, str, str], Preview] | None = None) -> list[Target]:
    """Every gui agent's chat point and, where set, onboarding point; for an agent bound to a
    window, where they are now in that window (``look`` is ``preview``; a test may swap it)."""
    found: list[Target] = []
    look = look or _look
    for agent in roster.agents:
        transport = agent.transport
        if transport.kind != "gui":
            continue
        for which in ("chat", "onboarding"):
            point = transport.chat if which == "chat" else transport.onboarding
            if point is None:
                continue
            if transport.window is None:
                found.append(Target(agent.id, which, (int(point[0]), int(point[1]))))
                continue
            try:
                seen = look(transport, which, agent.id)
            except Exception as exc:
                found.append(Target(agent.id, which, (point[0], point[1]), None, f"{agent.id}'s window: {exc}", True))
                continue
            frame = seen.window.rect if seen.window is not None else None
            found.append(Target(agent.id, which, (seen.point[0], seen.point[1]), frame, seen.problem, True))
    return found


def window_text(transport: GuiTransport) -> str:
    """``Chromium 'api-service' · bottom-left +520,-70`` for a window-bound gui agent's chat point
    (``· screen 420, 980`` when the point is not placed in the window); "" without a window."""
    match = transport.window
    if match is None:
        return ""
    parts = [match.class_] if match.class_ else []
    if match.title:
        parts.append(repr(match.title))
    if not parts:
        parts.append(f"window {match.id:#x}" if match.id else f"pid {match.pid}")
    at = transport.chat_in_window
    if at is None:
        return f"{' '.join(parts)} · screen {transport.chat[0]}, {transport.chat[1]}"
    return f"{' '.join(parts)} · {at.anchor} {at.offset[0]:+d},{at.offset[1]:+d}"


def target_text(agent: Agent) -> str:
    """The roster's Target column: the window for a window-bound gui agent, else as the core says."""
    from quarterdeck.core.roster.status import describe_target

    transport = agent.transport
    if transport.kind == "gui" and transport.window is not None:
        return window_text(transport)
    if transport.kind == "relay":  # as its relay announced it, on that machine
        return transport.target or f"on {transport.relay}"
    return describe_target(agent)


def target_tip(agent: Agent) -> str:
    transport = agent.transport
    if transport.kind == "relay":
        return f"{transport.via or 'Its'} target on relay {transport.relay}'s machine, as the relay announced it"
    if transport.kind == "gui":
        onboarding = transport.onboarding
        extra = f"; onboarding at {onboarding[0]}, {onboarding[1]}" if onboarding else "; no onboarding point"
        tip = f"Chat input at {transport.chat[0]}, {transport.chat[1]} (physical pixels){extra}"
        if transport.window is not None:
            at = transport.chat_in_window
            where = (f"{at.offset[0]}, {at.offset[1]} from its {at.anchor} corner (follows the window)"
                     if at is not None else "the screen point above, which must lie on it")
            tip = f"Bound to the window {window_text(transport).split(' · ')[0]}: chat at {where}.\n" \
                  f"As captured: {tip}"
        return tip
    return {"tmux": "tmux pane (session:window.pane)", "inbox": "Folder the agent polls"}.get(transport.kind, "")
