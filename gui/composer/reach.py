"""Which recipients of a send cannot be reached right now, and why, for the "are you sure" question.

Before a send to several agents the captain is asked; the question names the recipients that
would not get the message now: a breaker open (or forced open by the captain), an agent disabled
or gone from the roster, a target missing (tmux session not running, inbox folder absent, a
screen point on no screen). ``unreachable`` touches tmux and the X server, so it runs off the UI
thread (``ctx.jobs``); the dialog offers to leave those agents out.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.roster_check import agent_problems
from core.screens import detect_screens


def breaker_reason(breakers: Any, agent_id: str) -> str:
    """Why the agent's breaker holds deliveries back, or ``""`` (no breaker yet means closed)."""
    if breakers is None or agent_id not in breakers:
        return ""
    snapshot = breakers.get(agent_id).snapshot()
    state = snapshot.state.name.lower()
    if state == "forced_open":
        return "breaker forced open by you"
    if state == "open":
        wait = float(getattr(snapshot, "remaining_wait", 0.0) or 0.0)
        return f"breaker open (next trial in {int(wait + 0.999)} s)" if wait > 0 else "breaker open"
    return ""


def unreachable(agent_ids: Iterable[str], roster: Any, breakers: Any) -> dict[str, str]:
    """``{agent id: reason}`` for each recipient that cannot be reached now (see the docstring)."""
    ids = list(agent_ids)
    screens = None
    found: dict[str, str] = {}
    for agent_id in ids:
        if agent_id not in roster:
            found[agent_id] = "not on the roster"
            continue
        agent = roster.get(agent_id)
        if not agent.enabled:
            found[agent_id] = "disabled"
            continue
        reason = breaker_reason(breakers, agent_id)
        if reason:
            found[agent_id] = reason
            continue
        if agent.transport.kind == "gui" and screens is None:
            screens = detect_screens()
        problems = agent_problems(agent, screens or [])
        if problems:
            found[agent_id] = problems[0]
    return found


def question(what: str, recipients: list[str], blocked: dict[str, str], limit: int) -> str:
    """The confirmation's text: how many, who, and which of them cannot be reached now."""
    names = ", ".join(recipients[:12]) + (" …" if len(recipients) > 12 else "")
    text = f"{what} this message to {len(recipients)} agents?\n\n{names}"
    if blocked:
        lines = "\n".join(f"  • {agent}: {reason}" for agent, reason in list(blocked.items())[:12])
        more = f"\n  … and {len(blocked) - 12} more" if len(blocked) > 12 else ""
        reach = len(recipients) - len(blocked)
        text += (f"\n\n⚠ {len(blocked)} of them cannot be reached right now ({reach}/{len(recipients)} "
                 f"reachable):\n{lines}{more}\n\nLeave them out, or send to all anyway (their "
                 "deliveries wait or fail).")
    if len(recipients) > limit:
        text += f"\n\n(You are asked whenever a send reaches more than {limit}.)"
    return text
