"""Building blocks of the rule engine, tested on their own."""
from __future__ import annotations

import pytest

from quarterdeck.core.model_errors import describe, suggest
from quarterdeck.core.validation import check_rule_text
from quarterdeck.core.validation.options import LengthOptions, PatternOptions
from quarterdeck.core.validation.regexes import compile_regex, literal_alternation
from quarterdeck.core.validation.schema import to_diagnostics
from quarterdeck.core.validation.spec import Key, Spec
from quarterdeck.core.validation.textsearch import TextPattern, char_offsets, utf8
from quarterdeck.core.validation.yamlnodes import NodeIndex, offset_to_mark, parse_document, where_of


def test_where_of_renders_keys_and_indexes():
    assert where_of(("rules", "r", "then", "functionOptions", "values", 2)) == "rules.r.then.functionOptions.values[2]"
    assert where_of((0, "a")) == "[0].a"
    assert where_of(()) == ""


@pytest.mark.parametrize(
    ("text", "offset", "expected"),
    [
        ("ab\ncd", 4, (1, 1)), ("a\r\nb", 3, (1, 0)), ("a\rb\x85c\u2028d", 6, (3, 0)), ("é€", 2, (0, 2)),
        ("ab", 9, (0, 2)),
    ],
)
def test_offset_to_mark_counts_yaml_line_breaks(text, offset, expected):
    mark = offset_to_mark(text, offset)
    assert (mark.line, mark.column) == expected


def test_forbidden_character_after_crlf_lines():
    d = check_rule_text("rules:\r\n  r: a\x00\r\n", "f.yaml")[1][0]
    assert (d.line, d.col) == (2, 7)


def test_node_index_lookups():
    document, diagnostics = parse_document("a:\n  b: [x, y]\n", "f.yaml")
    assert diagnostics == []
    index: NodeIndex = document.index
    assert document.data == {"a": {"b": ["x", "y"]}}
    assert index.value_node(("a", "b", 1)).value == "y"
    assert index.key_node(("a", "b", 1)) is None
    assert index.key_node(("a", "b")).value == "b"
    assert index.value_node(()) is index.root
    assert index.value_node(("nope",)) is None
    assert index.nearest(("a", "b", 7, "z")) == ("a", "b")
    assert index.nearest(("q",)) == ()


def test_yaml_one_two_booleans_and_other_scalars():
    document, _ = parse_document("a: off\nb: yes\nc: true\nd: 3\ne: 1.5\nf: ~\ng: 2024-01-02\n", "f.yaml")
    data = document.data
    assert (data["a"], data["b"], data["c"], data["d"], data["e"], data["f"]) == ("off", "yes", True, 3, 1.5, None)
    assert describe(data["g"]) == "a date"


def test_a_date_where_text_belongs_is_described():
    text = "rules:\n  r:\n    description: 2024-01-02\n    given: content\n    then: {function: required}\n"
    assert check_rule_text(text)[1][0].message == "'description' must be a string, not a date"


def test_describe_and_suggest():
    assert [describe(v) for v in (None, True, 3, "x", [], {})] == [
        "null", "the boolean true", "the number 3", "the string 'x'", "a list", "a mapping"]
    assert suggest("warn", ["error", "warning"]) == " (did you mean 'warning'?)"
    assert suggest("zzz", ["error", "warning"]) == ""


def test_unlisted_errors_fall_back_to_their_message():
    document, _ = parse_document("name: ABC\n", "f.yaml")
    error = {"type": "string_pattern_mismatch", "loc": ("name",), "msg": "String should match pattern '^[a-z]+$'",
             "input": "ABC", "ctx": {}}
    (d,) = to_diagnostics([error], file="f.yaml", index=document.index, base=(), allowed=["name"], subject="the file")
    assert (d.line, d.col, d.where) == (1, 7, "name")
    assert d.message == "'name': String should match pattern '^[a-z]+$'"


class _Pair(Spec):
    left: int
    right: list[str]
    KEYS = {"left": Key("int", gt=0, alias="Left"), "right": Key("list", list, items=Key("str"))}


def test_a_spec_reports_every_problem_strictly_and_is_read_only():
    made, errors = _Pair.check({"Left": True, "right": ["a", 3], "extra": 1})
    assert made is None
    assert [(e["type"], e["loc"], e["msg"]) for e in errors] == [
        ("int_type", ("Left",), "Input should be a valid integer"),
        ("string_type", ("right", 1), "Input should be a valid string"),
        ("extra_forbidden", ("extra",), "Extra inputs are not permitted")]
    assert _Pair.check({"Left": 0})[1][0]["msg"] == "Input should be greater than 0"
    assert _Pair.check([])[1][0]["type"] == "dict_type"
    made, errors = _Pair.check({"Left": 2})
    assert made is not None and errors == [] and (made.left, made.right) == (2, [])
    assert made.as_written() == {"Left": 2} and _Pair.keys_as_written() == ["Left", "right"]
    assert repr(made) == "_Pair(left=2, right=[])"
    with pytest.raises(AttributeError, match="read-only"):
        made.left = 3
    assert _Pair(left=1).right is not _Pair(left=1).right  # a new empty list each
    with pytest.raises(TypeError, match="needs 'left'"):
        _Pair()


def test_options_keep_what_was_written_and_check_across_keys_last():
    options, _ = PatternOptions.check({"notMatch": "x"})
    assert options is not None and options.not_match == "x" and options.as_written() == {"notMatch": "x"}
    _, errors = LengthOptions.check({"min": 5, "max": 2})
    assert [(e["loc"], e["msg"]) for e in errors] == [
        ((), "Value error, 'min' (5) is greater than 'max' (2); swap them")]
    _, errors = LengthOptions.check({"min": -1, "max": -2})  # the keys first: no check across them
    assert [e["loc"] for e in errors] == [("min",), ("max",)]


def test_compile_regex_errors_are_value_errors():
    with pytest.raises(ValueError, match="missing \\)"):
        compile_regex("(a")
    with pytest.raises(ValueError, match="not valid Unicode"):
        compile_regex("\ud800")
    assert compile_regex("A", case_sensitive=False).search("a") is not None


def test_literal_alternation_escapes_and_orders_longest_first():
    assert literal_alternation(("a", "a.b", "a")) == "a\\.b|a"


def test_text_pattern_empty_matches_advance_by_character():
    pattern = TextPattern("x*")
    assert pattern.spans("ab", 10) == [(0, 0), (1, 1), (2, 2)]
    assert pattern.spans("é😀", 10) == [(0, 0), (1, 1), (2, 2)]
    assert pattern.spans("xxé", 10) == [(0, 2), (2, 2), (3, 3)]
    assert pattern.spans("abc", 2) == [(0, 0), (1, 1)]


def test_text_pattern_offsets_with_lone_surrogates():
    pattern = TextPattern("b")
    assert pattern.spans("a\ud800b", 5) == [(2, 3)]
    assert pattern.search("a\ud800") is False


def test_utf8_and_char_offsets():
    long_text = "é" * 300
    assert utf8(long_text) is utf8(long_text)
    data = utf8("aé😀b")
    assert char_offsets("aé😀b", data, [0, 1, 3, 7, 8]) == {0: 0, 1: 1, 3: 2, 7: 3, 8: 4}
    assert char_offsets("abc", b"abc", [2, 1]) == {1: 1, 2: 2}


def test_surrogates_in_messages_never_raise():
    from quarterdeck.core.validation import Validator, bundled_rules_dir, load_rule_files

    ruleset, _ = load_rule_files([bundled_rules_dir()])
    report = Validator(ruleset).validate({"content": "hi \ud800 TBD", "sender": "C\udfff", "recipients": ["A-1"]})
    spans = [v.span for v in report.violations if v.rule_id == "placeholder-text"]
    assert spans == [(5, 8)]



def test_pure_python_loader_fallback_reports_deep_nesting(monkeypatch):
    import yaml

    from quarterdeck.core.validation import yamlnodes

    monkeypatch.setattr(yamlnodes, "_LOADER", yaml.SafeLoader)
    d = check_rule_text("[" * 5000, "f.yaml")[1][0]
    assert (d.line, d.col, d.message) == (1, 1, "YAML is nested too deeply")
    assert check_rule_text("rules:\n  r:\n    given: content\n    then: {function: required}\n")[1] == []
