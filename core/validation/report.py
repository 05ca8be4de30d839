"""The result of validating one message: violations, a score and a status.

Score: start at 100 and subtract a fixed weight for every violation
(error 25, warning 10, info 2), never going below 0. Because each violation
only ever subtracts, one more violation can never raise the score.

Status: FAIL if any violation is an error, otherwise WARN if any is a
warning, otherwise PASS (info violations alone still PASS). Rules whose
severity is ``off`` never run, so they never affect either.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from .model import Violation

Status = Literal["PASS", "WARN", "FAIL"]

WEIGHTS: Mapping[str, int] = MappingProxyType({"error": 25, "warning": 10, "info": 2})
MAX_SCORE = 100


def score_of(violations: Iterable[Violation]) -> int:
    """100 minus the weight of every violation, floored at 0."""
    return max(0, MAX_SCORE - sum(WEIGHTS[v.severity] for v in violations))


def status_of(violations: Iterable[Violation]) -> Status:
    """FAIL on any error, WARN on any warning, else PASS."""
    severities = {v.severity for v in violations}
    if "error" in severities:
        return "FAIL"
    if "warning" in severities:
        return "WARN"
    return "PASS"


@dataclass(frozen=True, slots=True)
class Report:
    """Violations found in one message, in rule order, with score and status."""

    violations: list[Violation] = field(default_factory=list)
    score: int = MAX_SCORE
    status: Status = "PASS"

    @classmethod
    def of(cls, violations: Iterable[Violation]) -> Report:
        """A report whose score and status follow from ``violations``."""
        found = list(violations)
        return cls(found, score_of(found), status_of(found))

    @property
    def passed(self) -> bool:
        """True unless the status is FAIL."""
        return self.status != "FAIL"

    def counts(self) -> dict[str, int]:
        """How many violations of each severity (error, warning, info)."""
        tally: Counter[str] = Counter(v.severity for v in self.violations)
        return {severity: tally.get(severity, 0) for severity in WEIGHTS}

    def hits(self) -> dict[str, int]:
        """How many violations each rule produced, by rule id."""
        return dict(Counter(v.rule_id for v in self.violations))

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON-able form: status, score, violations (fixed key order)."""
        return {
            "status": self.status,
            "score": self.score,
            "violations": [v.to_dict() for v in self.violations],
        }
