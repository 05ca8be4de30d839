"""What the validators of one rule set keep between messages, so that a message costs what is new in it.

A rule's violations follow from the rule and the one field it reads (``given``; its ``when`` only says
whether it runs, and is looked at per message). So the violations found in the values a field had
lately are kept (``MEMO_ENTRIES``, texts up to ``MEMO_CHARS`` characters): per field for the rules
that always run on it, per rule for those with a ``when``. The sender, type and priority of a
thousand messages are checked once, and so is the content of a message sent to thirty agents one by
one. A text not seen lately (from the ``SCAN_AFTER``-th on: a validator used once does not build it)
first goes through one RE2 set scan of every pattern the pattern checks of the rule set use
(``PatternSet``); a check whose patterns say it finds nothing there is not run
(``functions.Quiet``), nor one whose cheap test says so (``functions.Clear``).

The plan of a rule set is shared by its validators (``plan_of``: a validator is often made per batch)
and by threads: what is kept is immutable, and a lost race only checks a value twice.
"""
from __future__ import annotations

import functools
from operator import itemgetter
from typing import Any

from .functions import Clear, Quiet, RuleCheck
from .messages import render
from .model import FIELDS, LIST_FIELDS, FieldValue, Rule, RuleSet, Violation
from .textsearch import PatternSet, TextPattern

MEMO_ENTRIES = 256
MEMO_CHARS = 16_384
SCAN_AFTER = 16  # texts checked before the set scan is built (a few milliseconds for a large rule set)

Key = str | tuple[str, ...] | None
Found = tuple[tuple[int, Rule, Violation], ...]  # (the rule's place in the rule set, the rule, a violation)
Placed = tuple[int, Rule, Quiet, Clear | None]
_UNSEEN: Any = object()
_UNSCANNED: set[TextPattern] = set()  # no set scan yet: every pattern check runs


def key_of(value: FieldValue | None) -> Key:
    """What a rule's violations depend on, as a dictionary key."""
    return value if value is None or isinstance(value, str) else tuple(value)


def _keep(memo: dict[Key, Found], key: Key, found: Found) -> None:
    if (len(key) if isinstance(key, str) else sum(map(len, key or ()))) > MEMO_CHARS:
        return
    if len(memo) >= MEMO_ENTRIES:
        memo.clear()
    memo[key] = found


class Plan:
    """The enabled rules of a rule set, what they found in the values they read lately, and the scan."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.rules = ruleset.enabled()
        placed: list[Placed] = [
            (place, rule, rule.check.quiet, rule.check.clear) if isinstance(rule.check, RuleCheck)
            and rule.given not in LIST_FIELDS else (place, rule, (), None) for place, rule in enumerate(self.rules)]
        self._patterns = [pattern for _, _, quiet, _ in placed for pattern, _ in quiet]
        self._scan: PatternSet | None = None
        self._texts = 0
        always = {name: [p for p in placed if p[1].given == name and not p[1].when] for name in FIELDS}
        self._fields: list[tuple[str, list[Placed], dict[Key, Found]]] = [
            (name, rules, {}) for name, rules in always.items() if rules]
        self._conditional: list[tuple[list[Placed], Rule, dict[Key, Found]]] = [
            ([p], p[1], {}) for p in placed if p[1].when]

    def found(self, fields: dict[str, FieldValue | None]) -> list[tuple[Rule, Violation]]:
        """Every violation of the rules that apply to ``fields``, in rule order."""
        out: list[tuple[int, Rule, Violation]] = []
        matched: dict[str, set[TextPattern]] = {}
        for name, rules, memo in self._fields:
            value = fields[name]
            key = key_of(value)
            found = memo.get(key, _UNSEEN)
            if found is _UNSEEN:
                found = self._check(rules, name, value, matched)
                _keep(memo, key, found)
            out.extend(found)
        for rules, rule, memo in self._conditional:
            if not rule.applies(fields):
                continue
            value = fields[rule.given]
            key = key_of(value)
            found = memo.get(key, _UNSEEN)
            if found is _UNSEEN:
                found = self._check(rules, rule.given, value, matched)
                _keep(memo, key, found)
            out.extend(found)
        if len(out) > 1:
            out.sort(key=itemgetter(0))  # stable: one rule's violations keep their order
        return [(rule, violation) for _, rule, violation in out]

    def _check(self, rules: list[Placed], name: str, value: FieldValue | None,
               matched: dict[str, set[TextPattern]]) -> Found:
        found: list[tuple[int, Rule, Violation]] = []
        for place, rule, quiet, clear in rules:
            if clear is not None and isinstance(value, str) and clear(value):
                continue
            if quiet and isinstance(value, str):
                hits = matched.get(name)
                if hits is None:
                    scan = self._scanner()
                    hits = matched[name] = _UNSCANNED if scan is None else scan.matching(value)
                if hits is not _UNSCANNED and all((pattern in hits) == hit for pattern, hit in quiet):
                    continue
            severity = rule.severity
            if severity == "off":  # the rule set's enabled() leaves it out already
                continue
            for finding in rule.check(value):
                span = finding.span if name == "content" else None
                found.append((place, rule, Violation(rule.id, severity, render(rule, finding, value), name, span)))
        return tuple(found)

    def _scanner(self) -> PatternSet | None:
        """The set scan from the SCAN_AFTER-th text (of a field, in a message) the pattern checks look at on
        (None before, or if RE2 could not build it)."""
        if self._scan is None:
            self._texts += 1
            if self._texts < SCAN_AFTER:
                return None
            self._scan = PatternSet(self._patterns)
        return self._scan if self._scan.usable else None


@functools.lru_cache(maxsize=4)
def plan_of(ruleset: RuleSet) -> Plan:
    """The plan shared by the validators of ``ruleset`` (its rules hash as themselves)."""
    return Plan(ruleset)
