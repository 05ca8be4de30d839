"""FieldRules and ErrorConfig: what each rule key checks, and bad settings refused up front."""
from __future__ import annotations

import logging

import pytest
from integration_support import SECRET

from quarterdeck.core.delivery.errors import PermanentError, RetryableError
from quarterdeck.core.integration import ErrorConfig, FieldRules, ValidationError
from quarterdeck.core.integration.rules import MISSING, as_field_value, lookup
from quarterdeck.core.resilience import CallNotPermitted, State
from quarterdeck.core.validation import RuleStore, Validator, bundled_rules_dir, load_rule_files


def messages(rules, values):
    return [v.message for v in FieldRules(rules).check(values)]


def test_required_fields_treat_none_blank_and_empty_collections_as_missing():
    rules = {"required_fields": ["a", "b", "c", "d", "e", "f"]}
    found = messages(rules, {"a": None, "b": "  ", "c": [], "d": {}, "e": 0, "f": False})
    assert found == ["a is missing", "b is empty", "c is empty", "d is empty"]


def test_lengths_count_characters_of_text_and_items_of_collections():
    rules = {"max_length": {"name": 3, "tags": 2}, "min_length": {"code": 4}}
    assert messages(rules, {"name": "abcd", "tags": ["x", "y", "z"], "code": "ab"}) == [
        "code has 2 characters; at least 4 needed",
        "name has 4 characters; at most 3 allowed",
        "tags has 3 items; at most 2 allowed",
    ]
    assert messages(rules, {"name": "abc", "tags": ("x",), "code": "abcd"}) == []
    assert messages(rules, {}) == []  # absent fields are only required_fields' business


def test_types_accept_python_types_and_json_names_but_never_bool_as_a_number():
    rules = {"field_types": {"n": "integer", "x": "number", "flag": bool, "items": ("array", dict),
                             "s": str, "o": "object"}}
    ok = {"n": 3, "x": 1.5, "flag": True, "items": {"a": 1}, "s": "t", "o": {}}
    assert messages(rules, ok) == []
    bad = {"n": True, "x": "1", "flag": 1, "items": "a", "s": b"t", "o": []}
    assert messages(rules, bad) == [
        "n must be int, not bool", "x must be int or float, not str", "flag must be bool, not int",
        "items must be list or tuple or dict, not str", "s must be str, not bytes",
        "o must be Mapping, not list"]


def test_patterns_allowed_values_and_secrets():
    rules = {"patterns": {"email": r"^[^@\s]+@[^@\s]+$"}, "allowed_values": {"role": ["admin", 7]},
             "no_secrets": ["note"]}
    found = messages(rules, {"email": "nope", "role": "root", "note": f"use {SECRET} please"})
    assert found[0] == r"email does not match /^[^@\s]+@[^@\s]+$/"
    assert found[1] == "role 'root' is not allowed; expected one of: admin, 7"
    assert found[2].startswith("note contains a possible github token")
    assert SECRET not in " ".join(found)
    assert messages(rules, {"email": "a@b.c", "role": 7, "note": "fine"}) == []


def test_violation_texts_never_repeat_a_secret():
    found = messages({"allowed_values": {"mode": ["a"]}}, {"mode": f"x {SECRET}"})
    assert SECRET not in found[0] and "[REDACTED:github_token]" in found[0]


def test_message_rules_use_the_captains_rule_set():
    store = RuleStore([bundled_rules_dir()])
    store.reload()
    ruleset, _ = load_rule_files(sorted(bundled_rules_dir().glob("*.yaml")))
    for checker in (store, Validator(ruleset)):
        rules = FieldRules({"message_rules": {"message": checker}})
        good = {"message": {"content": "Please rebase on main and rerun the tests.", "sender": "Captain",
                            "recipients": ["Agent-1"], "type": "text", "priority": "normal"}}
        assert rules.check(good) == []
        found = [v.message for v in rules.check({"message": {"content": " ", "sender": "Captain",
                                                             "recipients": ["a", "a"]}})]
        assert "message.content: A message needs content that is not just whitespace. " \
               "(content is empty) [content-not-blank]" in found
        assert any("[recipients-unique]" in text for text in found)
        assert rules.check({"message": 42}) and rules.check({}) == []


def test_dotted_lookup_walks_mappings_and_attributes():
    class User:
        profile = {"email": "a@b"}

    assert lookup({"u": User()}, "u.profile.email") == "a@b"
    assert lookup({"u": None}, "u.name") is MISSING
    assert lookup({"u": {"x": 1}}, "u.y") is MISSING
    assert as_field_value(b"raw") == "raw" and as_field_value({1, 2}) in (["1", "2"], ["2", "1"])
    assert as_field_value(3.5) == "3.5" and as_field_value(MISSING) is None


@pytest.mark.parametrize("rules, message", [
    ({"requires": ["a"]}, "unknown rule key"),
    ({"required_fields": ["a", ""]}, "non-empty strings"),
    ({"required_fields": None}, "required_fields takes a field name or a list of them, not NoneType"),
    ({"no_secrets": 5}, "no_secrets takes a field name or a list of them, not int"),
    ({"max_length": ["a"]}, "takes a mapping"),
    ({"max_length": {"a": -1}}, "max_length for 'a'"),
    ({"max_length": {"a": "3"}}, "max_length for 'a'"),
    ({"patterns": {"a": "("}}, "patterns for 'a'"),
    ({"allowed_values": {"a": "abc"}}, "allowed_values for 'a' takes a list of values, not str"),
    ({"allowed_values": {"a": 5}}, "allowed_values for 'a' takes a list of values, not int"),
    ({"field_types": {"a": "text"}}, "neither a type"),
    ({"field_types": {"a": ()}}, "at least one type"),
    ({"message_rules": {"m": object()}}, "Validator or RuleStore"),
])
def test_bad_rule_sets_fail_when_compiled(rules, message):
    with pytest.raises(ValueError, match=message):
        FieldRules(rules)


def test_validation_error_carries_violations_and_a_json_form():
    rules = FieldRules({"required_fields": ["a"]})
    assert FieldRules.of(rules) is rules and not FieldRules() and rules.roots == {"a"}
    with pytest.raises(ValidationError) as invalid:
        rules.validate({}, "op")
    assert isinstance(invalid.value, ValueError)
    assert invalid.value.to_dict() == {"error": "validation failed", "violations": [
        {"rule": "required_fields", "severity": "error", "message": "a is missing", "field": "a",
         "span": None}]}


# -- ErrorConfig ----------------------------------------------------------------------------------

def test_error_config_builds_cores_retry_policy():
    config = ErrorConfig.of({"max_retries": 2, "base_delay": 0.1, "backoff_multiplier": 3,
                             "error_severity": "high", "retry_on": KeyError})
    assert config.policy.max_attempts == 3
    assert [config.policy.delay(n) for n in (1, 2)] == pytest.approx([0.1, 0.3])
    assert config.error_severity == "HIGH" and config.log_level == logging.ERROR
    assert config.retry_on == (KeyError,)
    assert ErrorConfig.of(config) is config and ErrorConfig.of(None) == ErrorConfig()


@pytest.mark.parametrize("config, message", [
    ({"retries": 3}, "unknown error_config key"),
    ({"error_severity": "URGENT"}, "error_severity must be one of"),
    ({"retry_on": ["ConnectionError"]}, "exception classes"),
    ({"max_retries": -1}, "max_retries"),
    ({"backoff_multiplier": 0.5}, "multiplier"),
])
def test_bad_error_configs_are_refused(config, message):
    with pytest.raises(ValueError, match=message):
        ErrorConfig.of(config)


def test_which_errors_are_retryable():
    config = ErrorConfig()
    assert config.retryable(ConnectionRefusedError()) and config.retryable(TimeoutError())
    assert config.retryable(RetryableError()) and not config.retryable(PermanentError())
    assert not config.retryable(ValueError())
    everything = ErrorConfig(retry_on=(Exception,))
    assert not everything.retryable(CallNotPermitted("x", State.OPEN, 1.0))
    assert not everything.retryable(PermanentError())
