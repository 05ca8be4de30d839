"""Every kind of rule-file problem, reported at its exact line and column."""
from __future__ import annotations

import pytest

from quarterdeck.core.validation import Diagnostic, check_rule_text


def diags(text: str) -> list[Diagnostic]:
    return check_rule_text(text, "f.yaml")[1]


def only(text: str) -> Diagnostic:
    found = diags(text)
    assert len(found) == 1, [str(d) for d in found]
    return found[0]


def at(diagnostic: Diagnostic) -> tuple[int, int]:
    return diagnostic.line, diagnostic.col


def col(line: str, needle: str) -> int:
    """1-based column where ``needle`` starts in ``line``."""
    return line.index(needle) + 1


GOOD = "rules:\n  r:\n    given: content\n    then: {function: required}\n"


def test_a_valid_file_has_no_diagnostics():
    rules, found = check_rule_text(GOOD, "f.yaml")
    assert found == []
    assert [rule.id for rule in rules] == ["r"]
    assert (rules[0].line, rules[0].col, rules[0].file) == (2, 3, "f.yaml")


def test_str_has_the_editor_format_and_zero_based_forms():
    d = only("rules:\n  r:\n    severity: warn\n    given: content\n    then: {function: required}\n")
    assert str(d) == (
        "f.yaml:3:15: error: invalid value 'warn' for 'severity'; expected one of: error, warning, info, off"
        " (did you mean 'warning'?) [rules.r.severity]"
    )
    assert (d.line0, d.col0) == (2, 14)
    assert (d.end_line, d.end_col) == (3, 19)
    assert d.is_error
    assert d.to_dict() == {
        "file": "f.yaml", "line": 3, "col": 15, "end_line": 3, "end_col": 19, "severity": "error",
        "message": d.message, "where": "rules.r.severity",
    }


def test_syntax_error_uses_the_problem_mark():
    d = only("rules:\n  r: [1, 2\n  b: 3\n")
    assert at(d) == (3, 4)
    assert d.where == "<yaml>"
    assert d.message.startswith("YAML syntax error: ")
    assert "started at 2:6" in d.message


def test_syntax_error_at_end_of_stream_falls_back_to_the_context_mark():
    d = only("rules:\n  r:\n    given: [content\n")
    assert at(d) == (3, 12)
    assert "never closed" in d.message


def test_unclosed_quote_points_at_the_opening_quote():
    d = only('rules:\n  r:\n    description: "abc\n')
    assert at(d) == (3, 18)


def test_second_document_is_a_syntax_error():
    assert at(only("rules: {}\n---\nrules: {}\n")) == (2, 1)


def test_forbidden_character_and_surrogate_are_positioned():
    assert at(only("rules:\n  r: a\x00\n")) == (2, 7)
    d = only("rules:\n  r: \ud800\n")
    assert at(d) == (2, 6)
    assert "surrogate" in d.message


@pytest.mark.parametrize("text", ["[" * 3000 + "]" * 3000, "[" * 3000, "a:\n" + "  - " * 2000 + "x\n"])
def test_deep_nesting_is_reported_not_raised(text):
    found = diags(text)
    assert found and found[0].is_error


def test_duplicate_key_points_at_the_second_occurrence():
    d = only("rules:\n  r:\n    given: content\n    given: sender\n    then: {function: required}\n")
    assert at(d) == (4, 5)
    assert d.where == "rules.r.given"
    assert "duplicate key 'given' (first defined at 3:5)" in d.message


def test_duplicate_rule_ids_in_one_file():
    text = GOOD + "  r:\n    given: sender\n    then: {function: required}\n"
    d = only(text)
    assert at(d) == (5, 3)
    assert "duplicate key 'r'" in d.message


def test_unknown_key_suggests_the_closest_name():
    d = only("rules:\n  r:\n    descripton: x\n    given: content\n    then: {function: required}\n")
    assert at(d) == (3, 5)
    assert "unknown key 'descripton'" in d.message
    assert "did you mean 'description'?" in d.message


def test_unknown_top_level_key():
    d = only(GOOD + "extends: other.yaml\n")
    assert at(d) == (5, 1)
    assert "expected one of: rules, version" in d.message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("    description: [a]\n", "'description' must be a string, not a list"),
        ("    message: 3\n", "'message' must be a string, not the number 3"),
        ("    when: [type]\n", "'when' must be a mapping, not a list"),
    ],
)
def test_wrong_types_point_at_the_value(line, expected):
    d = only("rules:\n  r:\n" + line + "    given: content\n    then: {function: required}\n")
    assert (d.line, d.message) == (3, expected)
    assert d.col == line.index(":") + 3


def test_bad_enum_values_for_severity_given_and_unit():
    text = (
        "rules:\n  r:\n    severity: fatal\n    given: body\n    then:\n      function: length\n"
        "      functionOptions: {unit: bytes, max: 3}\n"
    )
    found = diags(text)
    assert [(d.line, d.col, d.where) for d in found] == [
        (3, 15, "rules.r.severity"),
        (4, 12, "rules.r.given"),
        (7, 31, "rules.r.then.functionOptions.unit"),
    ]
    assert "expected one of: content, sender, recipients, type, priority, tags" in found[1].message


def test_unknown_function_lists_the_functions():
    d = only("rules:\n  r1:\n    severity: error\n    given: content\n    then:\n      function: regex\n")
    assert at(d) == (6, 17)
    assert d.message.startswith("unknown function 'regex'; expected one of: required, length, pattern,")


def test_unknown_and_missing_function_options():
    text = "rules:\n  r:\n    given: recipients\n    then:\n      function: max_recipients\n" \
           "      functionOptions: {maxx: 3}\n"
    missing, unknown = diags(text)
    assert at(missing) == (6, 7)
    assert missing.message == "missing required key 'max' in the options of 'max_recipients'; add it"
    assert at(unknown) == (6, 25)
    assert "unknown key 'maxx'" in unknown.message and "did you mean 'max'?" in unknown.message


def test_options_for_a_function_without_options():
    d = only("rules:\n  r:\n    given: content\n    then: {function: required, functionOptions: {x: 1}}\n")
    assert at(d) == (4, 50)


def test_missing_options_are_reported_at_then_when_function_options_are_absent():
    d = only("rules:\n  r:\n    given: content\n    then: {function: pattern}\n")
    assert at(d) == (4, 11)
    assert d.message == "pattern needs 'match', 'notMatch' or both"


def test_invalid_and_non_re2_regexes_point_at_the_regex():
    text = (
        "rules:\n  r:\n    given: content\n    then:\n      function: pattern\n      functionOptions:\n"
        "        match: '(?<=a)b'\n        notMatch: '(a'\n"
    )
    lookbehind, unclosed = diags(text)
    assert at(lookbehind) == (7, 16)
    assert "no lookaround or backreferences" in lookbehind.message
    assert at(unclosed) == (8, 19)
    assert "missing )" in unclosed.message


def test_backreference_is_rejected_with_the_hint():
    text = "rules:\n  r:\n    given: content\n    then: {function: pattern, functionOptions: {match: '(a)\\1'}}\n"
    d = only(text)
    assert at(d) == (4, col(text.splitlines()[3], "'(a)"))
    assert "backreferences" in d.message


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_empty_file(text):
    d = only(text)
    assert (at(d), d.where) == ((1, 1), "<document>")
    assert "empty" in d.message


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "a list"), ("just text\n", "the string"), ("~\n", "null")])
def test_not_a_mapping(text, kind):
    d = only(text)
    assert at(d) == (1, 1)
    assert f"must be a mapping with a 'rules' key, not {kind}" in d.message


def test_rules_must_be_a_mapping_and_not_empty():
    assert only("rules:\n").message == "'rules' must be a mapping, not null"
    empty = only("rules: {}\n")
    assert (at(empty), empty.severity) == ((1, 8), "warning")


def test_rule_body_must_be_a_mapping():
    d = only("rules:\n  r: 5\n")
    assert at(d) == (2, 6)
    assert "rule 'r' must be a mapping" in d.message


def test_missing_required_rule_keys_point_at_the_rule_id():
    found = diags("rules:\n  my-rule:\n    description: x\n")
    assert [(at(d), d.where) for d in found] == [((2, 3), "rules.my-rule.given"), ((2, 3), "rules.my-rule.then")]


def test_invalid_rule_id_suggests_a_fixed_one():
    d = only("rules:\n  Bad_Id:\n    given: content\n    then: {function: required}\n")
    assert at(d) == (2, 3)
    assert "(e.g. 'bad-id')" in d.message


def test_all_problems_in_a_file_are_collected():
    text = (
        "rules:\n"
        "  one:\n    severity: warn\n    given: content\n    then: {function: required}\n"
        "  two:\n    given: sender\n    then: {function: nope}\n"
        "  three:\n    given: tags\n    then: {function: pattern, functionOptions: {match: '('}}\n"
    )
    assert [d.line for d in diags(text)] == [3, 8, 11]


def test_when_problems():
    text = "rules:\n  r:\n    given: content\n    when: {colour: red, priority: 3}\n    then: {function: required}\n"
    colour, priority = diags(text)
    assert at(colour) == (4, 12)
    assert "unknown key 'colour' in 'when'" in colour.message
    assert at(priority) == (4, 35)
    assert "needs a value or a non-empty list of values" in priority.message


def test_when_value_no_message_can_have_is_a_warning():
    rules, found = check_rule_text(
        "rules:\n  r:\n    given: content\n    when: {type: [brodcast, text]}\n    then: {function: required}\n"
    )
    assert len(rules) == 1
    d = found[0]
    assert (d.severity, at(d)) == ("warning", (4, 18))
    assert "type 'brodcast'" in d.message


def test_unknown_message_placeholder_is_a_warning():
    rules, found = check_rule_text(
        "rules:\n  r:\n    given: content\n    message: 'bad {{valu}}'\n    then: {function: required}\n"
    )
    assert len(rules) == 1
    assert [(d.severity, at(d)) for d in found] == [("warning", (4, 14))]
    assert "{{value}}" in found[0].message


def test_given_must_suit_the_function():
    d = diags("rules:\n  r:\n    given: content\n    then: {function: max_recipients, functionOptions: {max: -1}}\n")
    assert [at(x) for x in d] == [(3, 12), (4, 61)]
    assert "only works on: recipients" in d[0].message
    assert d[1].message == "'max' must be at least 0, not -1"


@pytest.mark.parametrize(
    ("options", "target", "expected"),
    [
        ("{unit: items, max: 1}", "items", "unit 'items' counts list entries, but 'content' is text"),
        ("{min: 5, max: 2}", "{min", "'min' (5) is greater than 'max' (2); swap them"),
        ("{}", "{}", "length needs at least one of 'min', 'max' or 'forbid'"),
        ("{forbid: [x]}", "x]", "'forbid[0]' must be a whole number, not the string 'x'"),
    ],
)
def test_length_option_problems(options, target, expected):
    line = f"    then: {{function: length, functionOptions: {options}}}"
    d = only(f"rules:\n  r:\n    given: content\n{line}\n")
    assert (d.line, d.col) == (4, col(line, target))
    assert expected in d.message


def test_list_unit_on_a_list_field():
    text = "rules:\n  r:\n    given: tags\n    then: {function: length, functionOptions: {unit: lines, max: 1}}\n"
    assert "but 'tags' is a list; use items" in only(text).message


def test_option_type_and_item_problems():
    text = (
        "rules:\n  r:\n    given: content\n    then:\n      function: forbidden_words\n"
        "      functionOptions: {words: ['a', ' '], caseSensitive: 'no'}\n"
    )
    blank, flag = diags(text)
    assert (at(blank), blank.where) == ((6, col(text.splitlines()[5], "' '")), "rules.r.then.functionOptions.words[1]")
    assert flag.message == "'caseSensitive' must be true or false, not the string 'no'"


def test_secret_detector_names_are_checked():
    text = (
        "rules:\n  r:\n    given: content\n    then:\n      function: secrets\n"
        "      functionOptions: {detectors: [aws], minEntropy: 0}\n"
    )
    kind, entropy = diags(text)
    line = text.splitlines()[5]
    assert at(kind) == (6, col(line, "aws"))
    assert "aws_access_key_id" in kind.message
    assert at(entropy) == (6, col(line, "0}"))


def test_a_number_too_large_for_a_float_is_not_a_number():
    """An integer past a float's range is a wrong type, as any other non-number (not an internal error)."""
    big = "9" * 400
    line = f"    then: {{function: secrets, functionOptions: {{minEntropy: {big}}}}}"
    d = only(f"rules:\n  r:\n    given: content\n{line}\n")
    assert (at(d), d.message) == ((4, col(line, big)), f"'minEntropy' must be a number, not the number {big}")


def test_empty_values_list():
    d = only("rules:\n  r:\n    given: type\n    then: {function: enumeration, functionOptions: {values: []}}\n")
    assert d.message == "'values' needs at least 1 entry"


def test_then_must_be_a_mapping_and_needs_a_function():
    assert only("rules:\n  r:\n    given: type\n    then: [a]\n").message == "'then' must be a mapping, not a list"
    d = only("rules:\n  r:\n    given: type\n    then: {functionOptions: {}}\n")
    assert at(d) == (4, 5)
    assert "missing required key 'function'" in d.message


def test_version_must_be_one():
    d = diags("version: 2\n" + GOOD)[0]
    assert (at(d), d.message) == ((1, 10), "invalid value 2 for 'version'; expected one of: 1")


def test_merge_keys_and_complex_keys_are_rejected():
    d = diags("rules:\n  r:\n    given: content\n    then:\n      <<: {function: required}\n")
    assert [at(x) for x in d] == [(4, 5), (5, 7)]
    assert "merge keys" in d[1].message
    complex_key = diags("rules:\n  ? [a]\n  : 1\n")
    assert any(at(x) == (2, 5) and "plain name" in x.message for x in complex_key)


def test_unreadable_tagged_scalar_is_reported_once():
    d = only("rules:\n  r:\n    given: content\n    severity: !!int abc\n    then: {function: required}\n")
    assert at(d) == (4, 15)
    assert "cannot read 'abc'" in d.message


def test_recursive_alias_is_reported():
    d = only("rules: &a\n  r: *a\n")
    assert at(d) == (1, 8)
    assert "alias" in d.message


def test_alias_bomb_is_reported_not_expanded():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 10)]
    d = diags("\n".join(lines) + "\n")
    assert any("too many aliases" in x.message for x in d)


def test_too_deep_nesting_after_parsing():
    text = "rules:\n  r:\n    description: " + "[" * 70 + "]" * 70 + "\n"
    assert any("nested deeper" in d.message for d in diags(text))


def test_anchors_and_aliases_are_fine():
    text = (
        "rules:\n  a:\n    given: content\n    then: &req {function: required}\n"
        "  b:\n    given: sender\n    then: *req\n"
    )
    rules, found = check_rule_text(text)
    assert found == []
    assert [r.id for r in rules] == ["a", "b"]


def test_columns_count_code_points():
    d = only("rules:\n  r:\n    description: 'é€😀'\n    severity: x\n    given: content\n"
             "    then: {function: required}\n")
    assert at(d) == (4, 15)
    d = only("rules:\n  r: {description: 'é€😀', severity: x, given: content, then: {function: required}}\n")
    assert at(d) == (2, 37)


def test_severity_off_stays_a_string():
    rules, found = check_rule_text(
        "rules:\n  r:\n    severity: off\n    given: content\n    then: {function: required}\n")
    assert found == []
    assert (rules[0].severity, rules[0].enabled) == ("off", False)


def test_yes_is_not_a_boolean_option():
    text = "rules:\n  r:\n    given: content\n    then: {function: forbidden_words, functionOptions: {words: [a], " \
           "caseSensitive: yes}}\n"
    assert only(text).message == "'caseSensitive' must be true or false, not the string 'yes'"


def test_warnings_are_reported_next_to_errors_in_the_same_rule():
    text = "rules:\n  r:\n    given: content\n    message: '{{nope}}'\n    then: {function: nope}\n"
    assert [(d.line, d.severity) for d in diags(text)] == [(4, "warning"), (5, "error")]
