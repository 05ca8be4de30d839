"""Each rule function, passing and failing, through a real rule set."""
from __future__ import annotations

import pytest

from quarterdeck.core.validation import Report, RuleSet, Validator, check_rule_text

AWS_KEY = "AKIA" + "QWERTYUIOPASDFGH"


def rule(given: str, function: str, options: str = "", extra: str = "") -> Validator:
    then = f"{{function: {function}" + (f", functionOptions: {options}" if options else "") + "}"
    text = f"rules:\n  r:\n    severity: error\n    given: {given}\n{extra}    then: {then}\n"
    rules, diagnostics = check_rule_text(text)
    assert diagnostics == [], [str(d) for d in diagnostics]
    return Validator(RuleSet(tuple(rules)))


def message(**fields) -> dict:
    base = {"content": "hello", "sender": "Captain", "recipients": ["Agent-1"], "type": "text",
            "priority": "normal", "tags": []}
    base.update(fields)
    return base


def errors(report: Report) -> list[str]:
    return [v.message for v in report.violations]


def spans(report: Report) -> list[tuple[int, int] | None]:
    return [v.span for v in report.violations]


# required

@pytest.mark.parametrize("content", ["x", "  x  "])
def test_required_passes_on_content(content):
    assert rule("content", "required").validate(message(content=content)).violations == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"content": ""}, "content is empty"),
        ({"content": " \n\t"}, "content is empty"),
        ({"content": None}, "content is missing"),
    ],
)
def test_required_fails_on_missing_or_blank(fields, expected):
    assert errors(rule("content", "required").validate(message(**fields))) == [expected]


def test_required_on_a_list_field():
    check = rule("recipients", "required")
    assert errors(check.validate(message(recipients=[]))) == ["recipients is empty"]
    assert errors(check.validate(message(recipients=["  "]))) == ["recipients is empty"]
    assert check.validate(message(recipients=["Agent-1"])).violations == []


def test_required_when_the_key_is_absent():
    fields = message()
    del fields["sender"]
    assert errors(rule("sender", "required").validate(fields)) == ["sender is missing"]


# length

def test_length_characters_with_overflow_span():
    check = rule("content", "length", "{min: 2, max: 5}")
    assert check.validate(message(content="abcde")).violations == []
    long = check.validate(message(content="abcdefgh"))
    assert errors(long) == ["content has 8 characters; at most 5 allowed"]
    assert spans(long) == [(5, 8)]
    short = check.validate(message(content="a"))
    assert errors(short) == ["content has 1 character; at least 2 needed"]
    assert spans(short) == [None]


def test_length_lines_counts_a_final_newline_once():
    check = rule("content", "length", "{unit: lines, max: 2}")
    assert check.validate(message(content="a\nb\n")).violations == []
    report = check.validate(message(content="a\nb\nc\nd"))
    assert errors(report) == ["content has 4 lines; at most 2 allowed"]
    assert spans(report) == [(4, 7)]


def test_length_lines_of_empty_text_is_zero():
    report = rule("content", "length", "{unit: lines, min: 1}").validate(message(content=""))
    assert errors(report) == ["content has 0 lines; at least 1 needed"]


def test_length_items_and_forbid():
    check = rule("recipients", "length", "{forbid: [1], max: 3}")
    assert check.validate(message(recipients=[])).violations == []
    assert check.validate(message(recipients=["a", "b"])).violations == []
    assert errors(check.validate(message(recipients=["a"]))) == ["recipients has exactly 1 item, which is not allowed"]
    assert errors(check.validate(message(recipients=list("abcd")))) == ["recipients has 4 items; at most 3 allowed"]


def test_length_skips_a_missing_field():
    assert rule("content", "length", "{min: 3}").validate(message(content=None)).violations == []


# pattern

def test_pattern_match():
    check = rule("content", "pattern", r"{match: '\S'}")
    assert check.validate(message(content=" x ")).violations == []
    assert errors(check.validate(message(content="   "))) == [r"content does not match /\S/"]


def test_pattern_not_match_reports_every_span():
    check = rule("content", "pattern", "{notMatch: 'ab+'}")
    assert check.validate(message(content="a b")).violations == []
    report = check.validate(message(content="xab abbb"))
    assert spans(report) == [(1, 3), (4, 8)]
    assert errors(report) == ["content matches /ab+/"] * 2


def test_pattern_spans_count_characters_not_bytes():
    report = rule("content", "pattern", "{notMatch: 'x'}").validate(message(content="é😀x"))
    assert spans(report) == [(2, 3)]


def test_pattern_findings_are_capped():
    report = rule("content", "pattern", "{notMatch: 'a'}").validate(message(content="a" * 500))
    assert len(report.violations) == 50
    many_items = rule("tags", "pattern", "{notMatch: 'a'}").validate(message(tags=["aaaa"] * 30))
    assert len(many_items.violations) == 50


def test_pattern_on_list_items_has_no_span():
    check = rule("tags", "pattern", "{match: '^[a-z]+$'}")
    assert check.validate(message(tags=["ok", "fine"])).violations == []
    report = check.validate(message(tags=["ok", "Bad"]))
    assert errors(report) == ["tags entry 'Bad' does not match /^[a-z]+$/"]
    assert spans(report) == [None]


def test_pattern_spans_are_only_kept_for_content():
    report = rule("sender", "pattern", "{notMatch: 'x'}").validate(message(sender="axb"))
    assert spans(report) == [None]


def test_pattern_is_linear_time_on_a_catastrophic_regex():
    check = rule("content", "pattern", "{match: '^(a+)+$'}")
    assert len(check.validate(message(content="a" * 5000 + "!")).violations) == 1


# enumeration

def test_enumeration_on_a_text_field():
    check = rule("type", "enumeration", "{values: [text, broadcast]}")
    assert check.validate(message(type="text")).violations == []
    assert errors(check.validate(message(type="memo"))) == [
        "type 'memo' is not allowed; expected one of: text, broadcast"
    ]


def test_enumeration_checks_every_list_item():
    check = rule("tags", "enumeration", "{values: [captain, wrapup]}")
    assert check.validate(message(tags=["captain", "wrapup"])).violations == []
    assert errors(check.validate(message(tags=["captain", "x", "y"]))) == [
        "tags entry 'x' is not allowed; expected one of: captain, wrapup",
        "tags entry 'y' is not allowed; expected one of: captain, wrapup",
    ]


def test_enumeration_skips_a_missing_field():
    assert rule("type", "enumeration", "{values: [text]}").validate(message(type=None)).violations == []


# forbidden_words

def test_forbidden_words_whole_words_case_insensitive_by_default():
    check = rule("content", "forbidden_words", "{words: [todo, lorem ipsum]}")
    assert check.validate(message(content="todos, todo_list, autodo, xtodo")).violations == []
    report = check.validate(message(content="TODO: Lorem Ipsum dolor (todo)"))
    assert spans(report) == [(0, 4), (6, 17), (25, 29)]
    assert errors(report)[0] == "content contains the forbidden word 'TODO'"


def test_forbidden_words_adjacent_and_unicode_boundaries():
    check = rule("content", "forbidden_words", "{words: [tbd]}")
    assert spans(check.validate(message(content="tbd tbd"))) == [(0, 3), (4, 7)]
    assert check.validate(message(content="étbd tbdé tbd̃")).violations == []


def test_forbidden_words_prefers_a_shorter_word_when_the_longer_one_is_not_whole():
    check = rule("content", "forbidden_words", "{words: [lorem, lorem ipsum]}")
    assert spans(check.validate(message(content="lorem ipsumx"))) == [(0, 5)]


def test_forbidden_words_with_punctuation_edges():
    check = rule("content", "forbidden_words", "{words: ['<insert']}")
    assert spans(check.validate(message(content="name: <insert name>"))) == [(6, 13)]


def test_forbidden_words_case_sensitive():
    check = rule("content", "forbidden_words", "{words: [TODO], caseSensitive: true}")
    assert check.validate(message(content="todo")).violations == []
    assert len(check.validate(message(content="TODO")).violations) == 1


def test_forbidden_words_escape_regex_characters():
    check = rule("content", "forbidden_words", "{words: ['a.b']}")
    assert check.validate(message(content="axb")).violations == []
    assert spans(check.validate(message(content="see a.b now"))) == [(4, 7)]


# secrets

def test_secrets_reports_the_span_and_never_the_raw_value():
    text = f"deploy with {AWS_KEY} now"
    report = rule("content", "secrets", "{detectors: [aws_access_key_id]}").validate(message(content=text))
    start = text.index(AWS_KEY)
    assert spans(report) == [(start, start + len(AWS_KEY))]
    assert AWS_KEY not in report.violations[0].message
    assert "aws access key id" in report.violations[0].message


def test_secrets_passes_clean_text():
    check = rule("content", "secrets")
    assert check.validate(message(content="Please rebase feature/login on main.")).violations == []


def test_secrets_respects_the_detector_subset():
    check = rule("content", "secrets", "{detectors: [jwt]}")
    assert check.validate(message(content=f"key {AWS_KEY}")).violations == []


# max_recipients and unique

def test_max_recipients():
    check = rule("recipients", "max_recipients", "{max: 2}")
    assert check.validate(message(recipients=["a", "b"])).violations == []
    assert errors(check.validate(message(recipients=["a", "b", "c"]))) == ["3 recipients named; at most 2 allowed"]


def test_unique():
    check = rule("recipients", "unique")
    assert check.validate(message(recipients=["a", "b"])).violations == []
    assert errors(check.validate(message(recipients=["a", "b", "a", "a", "b"]))) == [
        "recipients names 'a' more than once",
        "recipients names 'b' more than once",
    ]


# when

def test_when_limits_a_rule_to_matching_messages():
    check = rule("recipients", "required", extra="    when: {type: [text, onboarding]}\n")
    assert check.validate(message(type="broadcast", recipients=[])).violations == []
    assert len(check.validate(message(type="text", recipients=[])).violations) == 1


def test_when_on_a_list_field_means_contains_any():
    check = rule("content", "length", "{max: 3}", extra="    when: {tags: [wrapup, captain]}\n")
    assert check.validate(message(content="long text", tags=["other"])).violations == []
    assert len(check.validate(message(content="long text", tags=["x", "captain"])).violations) == 1


def test_when_on_a_missing_field_never_holds():
    check = rule("content", "length", "{max: 3}", extra="    when: {priority: urgent}\n")
    assert check.validate(message(content="long text", priority=None)).violations == []
