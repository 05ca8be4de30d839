"""What can be wrong with a roster: each problem with its place, and the errors that carry them."""
from __future__ import annotations

from collections.abc import Sequence

from msgspec import Struct

__all__ = ["RosterError", "RosterProblem", "UnknownAgentError"]


class RosterProblem(Struct, frozen=True):
    """One problem in a roster (or imported) file; ``line``/``col`` are 1-based."""

    file: str
    line: int
    col: int
    agent: str | None
    field: str | None
    message: str

    @property
    def where(self) -> str:
        return ".".join(part for part in (self.agent, self.field) if part)

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        return f"{self.file}:{self.line}:{self.col}: error: {where}{self.message}"


class RosterError(Exception):
    """The roster could not be loaded; ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: Sequence[RosterProblem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.col, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class UnknownAgentError(LookupError):
    """No agent with that id is on the roster."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown agent"
