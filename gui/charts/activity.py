"""The activity timeline's data: the window's recorded agent events replayed into bands, and the
time each agent spent in each state (its tooltip). Runs on the background runner."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from quarterdeck.core.activity.journal import load_since
from quarterdeck.core.activity.state import age
from quarterdeck.core.activity.timeline import Stretch, stretches, time_in_state

Replayed = tuple[list[Stretch], dict[str, dict[str, float]]]


def replay(data_dir: Path, agents: Sequence[str], start: float, end: float) -> Replayed:
    """The bands and the time in each state of ``agents`` in ``[start, end]``."""
    events = load_since(data_dir, start)
    return stretches(events, agents, start, end), time_in_state(events, agents, start, end)


def activity_tip(totals: dict[str, dict[str, float]], window: float) -> str:
    """Each agent's time per state in the window, the longest first: the activity timeline's tooltip."""
    lines = [f"Time in each state, last {age(window)}:"]
    for agent, spent in totals.items():
        parts = [f"{state} {age(seconds)}" for state, seconds in sorted(spent.items(), key=lambda kv: -kv[1])
                 if seconds >= 1]
        lines.append(f"{agent}: {', '.join(parts) if parts else 'nothing recorded'}")
    return "\n".join(lines)
