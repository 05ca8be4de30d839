"""Typed picks of agents: ``2,5,7-9``, ``@group`` or agent ids, as the composer's recipient field
takes them.

A number is an agent's **position in the fleet**: the number on its tile, counting from 1 in
roster order (disabled agents keep their place and number, so the numbers never shift when one
is switched off). ``7-9`` is positions 7, 8 and 9. ``@name`` is a group's members (the roster's
groups and the captain's saved ones). An agent id (any letter case) names that agent. Parts are
separated by commas or spaces. Every part that names nobody is reported, so a typo is never
silently dropped.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")
MAX_PROBLEMS = 3


@dataclass(frozen=True)
class Picked:
    """The agents picked, in fleet order, and one line per part that named nobody."""

    ids: tuple[str, ...]
    problems: tuple[str, ...]

    def problem_text(self) -> str:
        shown = list(self.problems[:MAX_PROBLEMS])
        if len(self.problems) > MAX_PROBLEMS:
            shown.append(f"and {len(self.problems) - MAX_PROBLEMS} more")
        return "; ".join(shown)


def split_parts(text: str) -> list[str]:
    """Parts separated by commas or spaces; a range written "7 - 9" stays one part."""
    text = re.sub(r"\s*-\s*", "-", text.strip())
    return [part for part in re.split(r"[,\s]+", text) if part]


def parse_picks(text: str, fleet: Sequence[str], groups: Mapping[str, Sequence[str]]) -> Picked:
    """Resolve ``text`` against ``fleet`` (agent ids in position order) and ``groups``."""
    chosen: set[str] = set()
    problems: list[str] = []
    by_lower = {agent_id.lower(): agent_id for agent_id in fleet}
    count = len(fleet)

    def position(number: int, part: str) -> None:
        if 1 <= number <= count:
            chosen.add(fleet[number - 1])
        else:
            problems.append(f"{part}: no agent at position {number} (the fleet has 1-{count})" if count
                            else f"{part}: the fleet is empty")

    for part in split_parts(text):
        if part.isdigit():
            position(int(part), part)
        elif match := _RANGE.match(part):
            low, high = int(match.group(1)), int(match.group(2))
            if low > high:
                problems.append(f"{part}: a range runs low to high, as in {high}-{low}")
                continue
            if high > count or low < 1:
                problems.append(f"{part}: positions run 1-{count}" if count else f"{part}: the fleet is empty")
            chosen.update(fleet[n - 1] for n in range(max(low, 1), min(high, count) + 1))
        elif part.startswith("@"):
            name = part[1:]
            found = next((g for g in groups if g.lower() == name.lower()), None)
            if found is None:
                known = ", ".join(f"@{g}" for g in sorted(groups)) or "none saved"
                problems.append(f"{part}: no such group (groups: {known})")
                continue
            members = list(groups[found])
            chosen.update(m for m in members if m in by_lower.values())
            gone = [m for m in members if m not in by_lower.values()]
            if gone:
                problems.append(f"{part}: {', '.join(gone)} not on the roster")
        elif part.lower() in by_lower:
            chosen.add(by_lower[part.lower()])
        else:
            problems.append(f"{part}: not a position, a range (7-9), a @group or an agent id")
    return Picked(tuple(agent_id for agent_id in fleet if agent_id in chosen), tuple(problems))
