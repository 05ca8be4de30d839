"""Properties: nothing a user types into a rule file or a message makes the engine raise."""
from __future__ import annotations

import functools

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from quarterdeck.core.validation import (
    Diagnostic,
    RuleSet,
    Validator,
    bundled_rules_dir,
    check_rule_text,
    load_rule_files,
)
from quarterdeck.core.validation.functions import FUNCTIONS
from quarterdeck.core.validation.model import FIELDS, SEVERITIES

SETTINGS = settings(max_examples=150)


@functools.cache
def default_validator() -> Validator:
    ruleset, diagnostics = load_rule_files([bundled_rules_dir()])
    assert ruleset is not None, diagnostics
    return Validator(ruleset)


def assert_well_formed(text: str, rules: list, diagnostics: list[Diagnostic]) -> None:
    lines = sum(text.count(brk) for brk in "\n\r\x85\u2028\u2029") + 2
    for d in diagnostics:
        assert d.severity in ("error", "warning")
        assert 1 <= d.line <= lines and d.col >= 1, str(d)
        assert str(d).startswith(f"f.yaml:{d.line}:{d.col}: {d.severity}: ")
    ids = [rule.id for rule in rules]
    assert len(ids) == len(set(ids)) or any(d.is_error for d in diagnostics)


YAML_BITS = st.sampled_from([
    "rules:", "  r:", "    given: content", "    then:", "      function: pattern", "      functionOptions:",
    "        match: '[a-'", "  - x", "{", "}", "[", "]", "&a", "*a", "<<: *a", "!!int x", "? k", ": v", "'", '"',
    "\t", "---", "severity: off", "when: {type: broadcast}", "# c", "é😀", "\x00", "\ud800", "key: value",
])


@SETTINGS
@given(st.text(max_size=300))
def test_any_text_gives_diagnostics_never_an_exception(text):
    rules, diagnostics = check_rule_text(text, "f.yaml")
    assert_well_formed(text, rules, diagnostics)


@SETTINGS
@given(st.lists(YAML_BITS, max_size=25).map("\n".join))
def test_yaml_like_fragments_never_raise(text):
    rules, diagnostics = check_rule_text(text, "f.yaml")
    assert_well_formed(text, rules, diagnostics)


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 10_000), st.floats(allow_nan=True), st.text(max_size=12),
    st.sampled_from([*FIELDS, *SEVERITIES, *FUNCTIONS, "items", "lines", "(?=x)", "[", "^a$", "jwt"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
OPTION_KEYS = st.sampled_from([
    "min", "max", "unit", "forbid", "match", "notMatch", "values", "words", "caseSensitive", "detectors",
    "minEntropy", "bogus",
])
RULES = st.fixed_dictionaries(
    {"given": st.sampled_from([*FIELDS, "body"]), "then": st.fixed_dictionaries(
        {"function": st.sampled_from([*FUNCTIONS, "regex"])},
        optional={"functionOptions": st.dictionaries(OPTION_KEYS, VALUES, max_size=3)},
    )},
    optional={
        "severity": st.sampled_from([*SEVERITIES, "warn"]), "description": VALUES, "message": st.text(max_size=20),
        "when": st.dictionaries(st.sampled_from([*FIELDS, "x"]), VALUES, max_size=2), "extra": VALUES,
    },
)
FILES = st.fixed_dictionaries(
    {"rules": st.dictionaries(st.from_regex(r"[a-zA-Z0-9_-]{1,8}", fullmatch=True), RULES | VALUES, max_size=4)},
    optional={"version": SCALARS},
)

FIELD_VALUES = st.one_of(
    st.none(), st.text(max_size=200), st.integers(), st.lists(st.text(max_size=20), max_size=6),
    st.sampled_from(["text", "broadcast", "onboarding", "normal", "urgent", "AKIA" + "QWERTYUIOPASDFGH"]),
)
MESSAGES = st.dictionaries(st.sampled_from([*FIELDS, "extra"]), FIELD_VALUES)


@SETTINGS
@given(FILES, MESSAGES)
def test_random_rule_mappings_check_and_run_without_raising(data, message):
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    rules, diagnostics = check_rule_text(text, "f.yaml")
    assert_well_formed(text, rules, diagnostics)
    report = Validator(RuleSet(tuple(rules))).validate(message)
    assert 0 <= report.score <= 100
    assert report.status in ("PASS", "WARN", "FAIL")


@SETTINGS
@given(MESSAGES)
def test_random_messages_against_the_default_rules_never_raise(message):
    report = default_validator().validate(message)
    assert report.to_dict()["status"] == report.status
    content = message.get("content")
    for violation in report.violations:
        if violation.span is not None:
            assert violation.field == "content"
            start, end = violation.span
            assert 0 <= start <= end <= len(content if isinstance(content, str) else str(content))


@SETTINGS
@given(st.text(max_size=500))
def test_any_content_against_the_default_rules(content):
    report = default_validator().validate({"content": content, "sender": "C", "recipients": ["A-1"]})
    assert all(v.severity in ("error", "warning", "info") for v in report.violations)
