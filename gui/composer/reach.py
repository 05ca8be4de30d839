"""Which recipients of a send cannot be reached right now, and why, for the "are you sure" question.

Before a send to several agents the captain is asked; the question names the recipients that
would not get the message now: a breaker open (or forced open by the captain), an agent disabled
or gone from the roster, a target missing (tmux session not running, inbox folder absent, a
screen point on no screen). ``unreachable`` touches tmux and the X server, so it runs off the UI
thread (``ctx.jobs``); the dialog offers to leave those agents out.
"""
from __future__ import annotations

from collections.abc import Iterable

from quarterdeck.core.desktop.screens import detect_screens
from quarterdeck.core.dispatch.dispatcher import Dispatcher
from quarterdeck.core.monitor.reach import unreachable_agents
from quarterdeck.core.roster.check import agent_problems
from quarterdeck.core.roster.roster import Roster


def unreachable(agent_ids: Iterable[str], roster: Roster, dispatcher: Dispatcher, *,
                worker_alive: bool = True) -> dict[str, str]:
    """``{agent id: reason}`` for each recipient that cannot be reached now: what health says of
    it (``quarterdeck.core.monitor.reach``: stopped, worker down, breaker open or forced open, GUI paused), and
    otherwise a missing target (see the module docstring)."""
    ids = list(agent_ids)
    known = [roster.get(agent_id) for agent_id in ids if agent_id in roster]
    found = {agent_id: "not on the roster" for agent_id in ids if agent_id not in roster}
    found.update(unreachable_agents(dispatcher, known, worker_alive=worker_alive))
    screens = None
    for agent in known:
        if agent.id in found:
            continue
        if agent.transport.kind == "gui" and screens is None:
            screens = detect_screens()
        problems = agent_problems(agent, screens or [])
        if problems:
            found[agent.id] = problems[0]
    return {agent_id: found[agent_id] for agent_id in ids if agent_id in found}


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
