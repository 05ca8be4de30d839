"""Rules, rule sets and violations: the values the rule engine works with."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, get_args

Severity = Literal["error", "warning", "info", "off"]
FieldName = Literal["content", "sender", "recipients", "type", "priority", "tags"]

SEVERITIES: tuple[str, ...] = get_args(Severity)
FIELDS: tuple[str, ...] = get_args(FieldName)
LIST_FIELDS: frozenset[str] = frozenset({"recipients", "tags"})
#: Values the message model accepts; a ``when`` naming anything else never matches.
KNOWN_VALUES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"type": ("text", "broadcast", "onboarding"), "priority": ("normal", "urgent")}
)
RULE_ID = re.compile(r"[a-z0-9][a-z0-9-]*")

#: A field's value as a check sees it: text, or a list of texts.
FieldValue = str | list[str]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a check function found in a field.

    ``span`` is a character range in the field's text; ``value`` is the
    offending value shown by ``{{value}}`` (None means the whole field).
    """

    error: str
    span: tuple[int, int] | None = None
    value: str | None = None


#: A function's check of a present value (what a rule function's builder returns).
ValueCheck = Callable[[FieldValue], Iterable[Finding]]
#: A rule's check: None is an absent field (only ``required`` finds anything in it).
Checker = Callable[[FieldValue | None], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule that a message broke.

    ``span`` holds character offsets into ``content`` and is set only for
    findings in the content field.
    """

    rule_id: str
    severity: Literal["error", "warning", "info"]
    message: str
    field: str
    span: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form with a fixed key order."""
        return {
            "rule": self.rule_id,
            "severity": self.severity,
            "message": self.message,
            "field": self.field,
            "span": list(self.span) if self.span is not None else None,
        }


@dataclass(frozen=True, slots=True, eq=False)
class Rule:
    """A checked, compiled rule ready to run."""

    id: str
    severity: Severity
    given: str
    function: str
    check: Checker = field(repr=False)
    options: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    message: str | None = None
    when: Mapping[str, frozenset[str]] = field(default_factory=dict)
    file: str = "<text>"
    line: int = 1
    col: int = 1

    @property
    def enabled(self) -> bool:
        """False for rules switched ``off``."""
        return self.severity != "off"

    def applies(self, fields: Mapping[str, FieldValue | None]) -> bool:
        """True when every ``when`` condition holds for these fields.

        A scalar field must equal one of the listed values; a list field must
        contain at least one of them.
        """
        for name, allowed in self.when.items():
            value = fields.get(name)
            if value is None:
                return False
            if isinstance(value, str):
                if value not in allowed:
                    return False
            elif allowed.isdisjoint(value):
                return False
        return True


@dataclass(frozen=True, slots=True)
class RuleSet:
    """An ordered collection of rules with unique ids."""

    rules: tuple[Rule, ...] = ()

    @classmethod
    def empty(cls) -> RuleSet:
        """A rule set with no rules."""
        return cls(())

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __bool__(self) -> bool:
        return bool(self.rules)

    @property
    def ids(self) -> tuple[str, ...]:
        """Rule ids in order."""
        return tuple(rule.id for rule in self.rules)

    def get(self, rule_id: str) -> Rule | None:
        """The rule with this id, or None."""
        return next((rule for rule in self.rules if rule.id == rule_id), None)

    def enabled(self) -> tuple[Rule, ...]:
        """The rules that run (everything not switched ``off``)."""
        return tuple(rule for rule in self.rules if rule.enabled)
