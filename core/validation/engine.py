"""Run a rule set against a message and produce a ``Report``.

A message is any mapping with the rule fields (content, sender, recipients,
type, priority, tags), or any object with a ``rule_fields()`` method that
returns one. Absent or None fields count as missing; enum members stand for
their values; list fields accept any iterable (a single string is one item);
other values are converted with ``str``.

What a rule found in a value is kept for the next message with that value (the rule set's ``plan``).

Two rules built on the same check (say, a credential detector and a high-entropy detector, both
``secrets``) can flag the same characters of the content. Such overlapping findings are one
problem, not two: only the stronger is kept (higher severity, then the earlier rule), so one token
costs the score once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, Protocol

from .model import FIELDS, LIST_FIELDS, FieldValue, Rule, RuleSet, Violation
from .plan import plan_of
from .report import Report

STRENGTH = {"error": 0, "warning": 1, "info": 2}


def _text(raw: Any) -> str:
    if isinstance(raw, Enum):
        raw = raw.value
    return raw if isinstance(raw, str) else str(raw)


def _items(raw: Any) -> list[str]:
    if isinstance(raw, str | Enum) or not isinstance(raw, Iterable):
        return [_text(raw)]
    return [_text(item) for item in raw]


def normalize_fields(message: Any) -> dict[str, FieldValue | None]:
    """The rule fields of ``message`` as texts and lists of texts (None = missing)."""
    source = message.rule_fields() if hasattr(message, "rule_fields") else message
    if not isinstance(source, Mapping):
        raise TypeError(f"expected a mapping or an object with rule_fields(), not {type(message).__name__}")
    fields: dict[str, FieldValue | None] = {}
    for name in FIELDS:
        raw = source.get(name)
        if raw is None:
            fields[name] = None
        else:
            fields[name] = _items(raw) if name in LIST_FIELDS else _text(raw)
    return fields


class MessageValidator(Protocol):
    """What validates a message: a :class:`Validator`, or a ``RuleStore`` (its active rules)."""

    def validate(self, message: Any) -> Report: ...


class Validator:
    """Checks messages against a fixed rule set; rules are compiled already."""

    def __init__(self, ruleset: RuleSet) -> None:
        self._ruleset = ruleset
        self._plan = plan_of(ruleset)

    @property
    def ruleset(self) -> RuleSet:
        """The rule set this validator runs."""
        return self._ruleset

    def validate(self, message: Any) -> Report:
        """Every violation of the enabled rules, in rule order."""
        return Report.of(merge_overlapping(self._plan.found(normalize_fields(message))))


def _overlap(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    return a is not None and b is not None and a[0] < b[1] and b[0] < a[1]


def merge_overlapping(found: list[tuple[Rule, Violation]]) -> list[Violation]:
    """The violations in rule order, less those covered by a stronger one of another rule with
    the same check function over overlapping content (see the module docstring)."""
    ranked = sorted(range(len(found)), key=lambda i: (STRENGTH.get(found[i][1].severity, 3), i))
    kept: list[int] = []
    for i in ranked:
        rule, violation = found[i]
        if not any(found[k][0].function == rule.function and found[k][0].id != rule.id
                   and _overlap(found[k][1].span, violation.span) for k in kept):
            kept.append(i)
    return [found[i][1] for i in sorted(kept)]
