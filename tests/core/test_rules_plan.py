"""A validator keeps what each rule found in the values it read lately and skips the pattern checks one RE2
set scan says find nothing (``validation.plan``). Its reports must be exactly what running every rule
on every message gives: compared on generated messages whose fields repeat (kept) and vary (scanned),
with the bundled rules and a rule set of conditional, positive, negative and case-blind patterns, lengths
(characters, lines, forbidden sizes), required and secret rules (each skipped on a text its cheap test
clears)."""
from __future__ import annotations

import functools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from quarterdeck.core.validation import Report, RuleSet, Validator, bundled_rules_dir, load_rule_files, load_rule_texts
from quarterdeck.core.validation.engine import merge_overlapping, normalize_fields
from quarterdeck.core.validation.messages import render
from quarterdeck.core.validation.model import Violation
from quarterdeck.core.validation.plan import MEMO_ENTRIES, SCAN_AFTER, plan_of

MIXED = """\
rules:
  sender-shape: {given: sender, severity: error, then: {function: pattern, functionOptions: {match: '^[A-Z]\\w*$'}}}
  urgent-words:
    given: content
    when: {priority: urgent}
    then: {function: forbidden_words, functionOptions: {words: [asap, now], caseSensitive: false}}
  shouting: {given: content, severity: info, then: {function: pattern, functionOptions: {notMatch: '[A-Z]{4,}'}}}
  starts-well:
    given: content
    when: {type: [broadcast]}
    then: {function: pattern, functionOptions: {match: '^(Team|All)', notMatch: 'todo'}}
  no-tbd: {given: content, then: {function: forbidden_words, functionOptions: {words: [TBD, to be done]}}}
  tags-shape: {given: tags, then: {function: pattern, functionOptions: {notMatch: '^x'}}}
  keys: {given: content, severity: info, then: {function: secrets, functionOptions: {detectors: [high_entropy]}}}
  short: {given: content, then: {function: length, functionOptions: {max: 60}}}
  sized: {given: content, then: {function: length, functionOptions: {min: 3, forbid: [5, 6]}}}
  two-lines: {given: content, severity: info, then: {function: length, functionOptions: {unit: lines, max: 2}}}
  said: {given: sender, then: {function: required}}
"""
WORDS = ["Team", "All", "asap", "NOW", "now", "TBD", "to be done", "todo", "SHOUT", "ok", "{{ slot }}", "/run",
         "agent-agent-7", "\x1b[1m", "\u200b", "é", "TODO", "lorem ipsum", "password=Zk8#qL2m!xR9vT4w",
         "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "Xq7Lm2Rt9Vb4Nc8Kd3Hs6Jf1Pw5Zy0Ae", "\n", " "]


@functools.cache  # one rule set (and plan) per text: the set scan is built once a plan checked SCAN_AFTER texts
def rule_set(text: str | None = None) -> RuleSet:
    ruleset, diagnostics = load_rule_texts([("mixed.yaml", text)]) if text else load_rule_files([bundled_rules_dir()])
    assert ruleset is not None, diagnostics
    return ruleset


def every_rule(ruleset: RuleSet, message: dict) -> Report:
    """Each enabled rule that applies, run on its field, in rule order (the definition)."""
    fields = normalize_fields(message)
    found = []
    for rule in ruleset.enabled():
        if rule.when and not rule.applies(fields):
            continue
        value = fields[rule.given]
        for finding in rule.check(value):
            span = finding.span if rule.given == "content" else None
            found.append((rule, Violation(rule.id, rule.severity, render(rule, finding, value), rule.given, span)))
    return Report.of(merge_overlapping(found))


def message(rng: random.Random) -> dict:
    return {
        "content": "".join(rng.choice(WORDS) + rng.choice([" ", "", ". "]) for _ in range(rng.randint(0, 6))),
        "sender": rng.choice(["Captain", "captain", "Ops-2", "", None]),
        "recipients": rng.sample(["A1", "A2", "A2", "bad name", "x1"], rng.randint(0, 3)),
        "type": rng.choice(["text", "broadcast", "onboarding"]),
        "priority": rng.choice(["normal", "urgent"]),
        "tags": rng.sample(["captain", "xtra", "Wrap"], rng.randint(0, 2)),
    }


def test_reports_equal_every_rules_with_repeated_and_new_values():
    rng = random.Random(14)
    for ruleset in (rule_set(), rule_set(MIXED)):
        pool = [message(rng) for _ in range(60)]  # repeats: values seen lately are kept
        messages = [rng.choice(pool) if rng.random() < 0.5 else message(rng) for _ in range(3 * MEMO_ENTRIES)]
        violations = 0
        for sample in messages:
            got = Validator(ruleset).validate(sample)
            assert got == every_rule(ruleset, sample), sample
            violations += len(got.violations)
        assert violations > len(messages)  # the messages did break rules, in several fields
        assert plan_of(ruleset)._scan is not None and plan_of(ruleset)._scan.usable  # past SCAN_AFTER texts


def test_a_validator_used_for_a_few_texts_does_not_build_the_set_scan():
    ruleset = rule_set(MIXED + "  one-off: {given: content, then: {function: length, functionOptions: {max: 9}}}\n")
    samples = [{"content": f"TBD {n} asap", "sender": "Captain", "priority": "urgent"} for n in range(2 * SCAN_AFTER)]
    for n, sample in enumerate(samples):
        assert Validator(ruleset).validate(sample) == every_rule(ruleset, sample)
        if n < SCAN_AFTER // 2:
            assert plan_of(ruleset)._scan is None
    assert plan_of(ruleset)._scan is not None


def test_a_validator_made_again_for_the_same_rules_gives_the_same_reports():
    ruleset, rng = rule_set(MIXED), random.Random(3)
    samples = [message(rng) for _ in range(40)]
    first = [Validator(ruleset).validate(s) for s in samples]
    assert [Validator(ruleset).validate(s) for s in samples] == first == [every_rule(ruleset, s) for s in samples]


@settings(max_examples=200)
@given(st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join), st.text(max_size=40),
       st.sampled_from(["text", "broadcast"]), st.sampled_from(["normal", "urgent"]))
def test_reports_equal_every_rules_on_any_content(words, text, kind, priority):
    for ruleset in (rule_set(), rule_set(MIXED)):
        for content in (words, text, words + text):
            sample = {"content": content, "sender": "Captain", "recipients": ["A1", "A2"], "type": kind,
                      "priority": priority}
            assert Validator(ruleset).validate(sample) == every_rule(ruleset, sample)
