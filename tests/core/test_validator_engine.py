"""The validator: field handling, messages, reports, score and status."""
from __future__ import annotations

import json
from enum import Enum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quarterdeck.core.validation import (
    WEIGHTS,
    Report,
    RuleSet,
    Validator,
    Violation,
    check_rule_text,
    normalize_fields,
    score_of,
    status_of,
)

AWS_KEY = "AKIA" + "QWERTYUIOPASDFGH"


def ruleset(text: str) -> RuleSet:
    rules, diagnostics = check_rule_text(text)
    assert not [d for d in diagnostics if d.is_error], [str(d) for d in diagnostics]
    return RuleSet(tuple(rules))


THREE = ruleset(
    "rules:\n"
    "  e:\n    severity: error\n    given: sender\n    then: {function: required}\n"
    "  w:\n    severity: warning\n    given: content\n    then: {function: length, functionOptions: {max: 3}}\n"
    "  i:\n    severity: info\n    given: content\n"
    "    then: {function: forbidden_words, functionOptions: {words: [x]}}\n"
    "  o:\n    severity: off\n    given: content\n    then: {function: required}\n"
)


def test_statuses_and_scores():
    validator = Validator(THREE)
    assert validator.validate({"sender": "C", "content": "ok"}).to_dict() == {
        "status": "PASS", "score": 100, "violations": []}
    info = validator.validate({"sender": "C", "content": "x"})
    assert (info.status, info.score) == ("PASS", 98)
    warn = validator.validate({"sender": "C", "content": "x long"})
    assert (warn.status, warn.score) == ("WARN", 88)
    fail = validator.validate({"content": "x long"})
    assert (fail.status, fail.score, fail.passed) == ("FAIL", 63, False)
    assert fail.counts() == {"error": 1, "warning": 1, "info": 1}
    assert fail.hits() == {"e": 1, "w": 1, "i": 1}


def test_off_rules_never_run():
    report = Validator(THREE).validate({"sender": "C", "content": ""})
    assert "o" not in report.hits()
    assert THREE.get("o") is not None and not THREE.get("o").enabled
    assert [r.id for r in THREE.enabled()] == ["e", "w", "i"]


def test_score_floors_at_zero():
    many = [Violation("r", "error", "m", "content")] * 5
    assert score_of(many) == 0
    assert Report.of(many).score == 0


def test_to_dict_is_stable_json():
    text = f"key {AWS_KEY}"
    report = Validator(ruleset(
        "rules:\n  s:\n    severity: error\n    given: content\n    then: {function: secrets}\n"
    )).validate({"content": text})
    data = report.to_dict()
    assert list(data) == ["status", "score", "violations"]
    assert list(data["violations"][0]) == ["rule", "severity", "message", "field", "span"]
    assert data["violations"][0]["span"] == [4, 24]
    assert json.loads(json.dumps(data)) == data


severities = st.sampled_from(["error", "warning", "info"])
violations = st.builds(Violation, st.text(max_size=5), severities, st.text(max_size=5), st.just("content"))


@given(st.lists(violations, max_size=12), violations)
def test_one_more_violation_never_raises_the_score(found, extra):
    before = Report.of(found)
    after = Report.of([*found, extra])
    assert after.score <= before.score
    assert 0 <= after.score <= 100
    order = ["PASS", "WARN", "FAIL"]
    assert order.index(after.status) >= order.index(before.status)


@given(st.lists(violations, max_size=12))
def test_score_and_status_follow_the_definition(found):
    assert score_of(found) == max(0, 100 - sum(WEIGHTS[v.severity] for v in found))
    kinds = {v.severity for v in found}
    expected = "FAIL" if "error" in kinds else "WARN" if "warning" in kinds else "PASS"
    assert status_of(found) == expected


# messages

def one(text: str, fields: dict) -> Violation:
    report = Validator(ruleset(text)).validate(fields)
    assert len(report.violations) == 1
    return report.violations[0]


def test_default_message_is_description_then_error():
    v = one("rules:\n  r:\n    description: Needs a sender.\n    given: sender\n    then: {function: required}\n", {})
    assert v.message == "Needs a sender. (sender is missing)"
    assert (v.rule_id, v.severity, v.field) == ("r", "warning", "sender")


def test_default_message_without_description_is_the_error():
    assert one("rules:\n  r:\n    given: sender\n    then: {function: required}\n", {}).message == "sender is missing"


def test_message_template_placeholders():
    text = ("rules:\n  r:\n    description: No TBD.\n    given: content\n"
            "    message: '{{rule}}/{{field}}: {{description}} [{{ error }}] <{{value}}> {{other}}'\n"
            "    then: {function: forbidden_words, functionOptions: {words: [tbd]}}\n")
    v = one(text, {"content": "it is TBD"})
    assert v.message == "r/content: No TBD. [content contains the forbidden word 'TBD'] <TBD> {{other}}"


def test_value_placeholder_is_redacted_and_shortened():
    text = ("rules:\n  r:\n    given: content\n    message: '<{{value}}>'\n"
            "    then: {function: length, functionOptions: {max: 5}}\n")
    v = one(text, {"content": f"use {AWS_KEY} " + "word " * 40})
    assert AWS_KEY not in v.message
    assert len(v.message) <= 82
    assert v.message.endswith("…>")


def test_value_placeholder_of_a_list_field():
    text = ("rules:\n  r:\n    given: tags\n    message: '{{value}}'\n"
            "    then: {function: length, functionOptions: {max: 1}}\n")
    assert one(text, {"tags": ["a", "b"]}).message == "a, b"


def test_value_placeholder_of_a_missing_field_is_empty():
    text = "rules:\n  r:\n    given: sender\n    message: '[{{value}}]'\n    then: {function: required}\n"
    assert one(text, {}).message == "[]"


# fields

class Kind(Enum):
    TEXT = "text"


class Carrier:
    def rule_fields(self):
        return {"content": "hi", "sender": 7, "recipients": ("A", "B"), "type": Kind.TEXT, "tags": "solo"}


def test_normalize_fields_accepts_objects_enums_and_iterables():
    assert normalize_fields(Carrier()) == {
        "content": "hi", "sender": "7", "recipients": ["A", "B"], "type": "text", "priority": None,
        "tags": ["solo"],
    }


def test_non_iterable_list_value_becomes_one_item():
    assert normalize_fields({"recipients": 5})["recipients"] == ["5"]


def test_validate_rejects_what_is_not_a_message():
    with pytest.raises(TypeError, match="rule_fields"):
        Validator(RuleSet.empty()).validate(42)


def test_empty_rule_set_passes_everything():
    validator = Validator(RuleSet.empty())
    assert validator.validate({}).status == "PASS"
    assert len(validator.ruleset) == 0 and not validator.ruleset


def test_ruleset_helpers():
    assert THREE.ids == ("e", "w", "i", "o")
    assert [r.id for r in THREE] == list(THREE.ids)
    assert THREE.get("nope") is None
