"""One secret is one problem: overlapping findings of rules built on the same check are merged."""
from __future__ import annotations

from quarterdeck.core.validation import Validator, bundled_rules_dir, load_rule_files, load_rule_texts

TOKEN = "ghp_aJer8GFWcNzTFM2aCVpCUGMjVCy9y1kPAr82"
TWO_RULES = """
version: 1
rules:
  no-credentials:
    severity: error
    given: content
    then: {function: secrets, functionOptions: {detectors: [github_token]}}
  no-high-entropy-strings:
    severity: SEVERITY
    given: content
    then: {function: secrets, functionOptions: {detectors: [high_entropy]}}
  placeholder-text:
    severity: warning
    given: content
    then: {function: forbidden_words, functionOptions: {words: [FIXME]}}
"""


def fields(content: str) -> dict:
    return {"content": content, "sender": "Captain", "recipients": ["Agent-1"], "type": "text",
            "priority": "normal", "tags": []}


def validator(severity: str = "error") -> Validator:
    ruleset, problems = load_rule_texts([("r.yaml", TWO_RULES.replace("SEVERITY", severity))])
    assert ruleset is not None, problems
    return Validator(ruleset)


def test_a_github_token_counts_once_with_the_bundled_rules():
    ruleset, _ = load_rule_files([bundled_rules_dir()])
    report = Validator(ruleset).validate(fields(f"token {TOKEN} here"))
    assert [v.rule_id for v in report.violations] == ["no-credentials"]
    assert (report.score, report.status) == (75, "FAIL")
    assert report.violations[0].span == (6, 6 + len(TOKEN))


def test_the_stronger_finding_is_kept_whatever_the_rule_order():
    report = validator("warning").validate(fields(f"token {TOKEN}"))
    assert [(v.rule_id, v.severity) for v in report.violations] == [("no-credentials", "error")]
    # both errors: the earlier rule (the specific detector) wins
    assert [v.rule_id for v in validator("error").validate(fields(TOKEN)).violations] == ["no-credentials"]


def test_findings_of_other_checks_or_other_places_are_not_merged():
    text = f"FIXME {TOKEN} and again {TOKEN}"
    report = validator().validate(fields(text))
    assert [v.rule_id for v in report.violations] == ["no-credentials", "no-credentials", "placeholder-text"]
    assert report.score == 100 - 10 - 25 - 25
