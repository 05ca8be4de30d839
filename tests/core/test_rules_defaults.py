"""The bundled rule files: they load cleanly and judge realistic captain messages sensibly."""
from __future__ import annotations

from pathlib import Path

import pytest

from quarterdeck.core import resources
from quarterdeck.core.models import Message
from quarterdeck.core.validation import Validator, bundled_assets_dir, bundled_rules_dir, load_rule_files

AWS_KEY = "AKIA" + "QWERTYUIOPASDFGH"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
BRIEF = (
    "Agent-3, please take the parser refactor:\n\n"
    "1. Rebase feature/parser on main (last good commit 4f2a9c1).\n"
    "2. Split core/parse.py into lexer.py and grammar.py; keep each under 300 lines.\n"
    "3. Run `pytest tests/parser -q` and report failures as file:line.\n\n"
    "Reply with a short summary when done. Thanks!"
)


@pytest.fixture(scope="module")
def validator() -> Validator:
    ruleset, diagnostics = load_rule_files([bundled_rules_dir()])
    assert ruleset is not None, [str(d) for d in diagnostics]
    return Validator(ruleset)


def message(**fields) -> dict:
    base = {"content": BRIEF, "sender": "Captain", "recipients": ["Agent-3"], "type": "text",
            "priority": "normal", "tags": ["captain"]}
    base.update(fields)
    return base


def rules_hit(report) -> set[str]:
    return {v.rule_id for v in report.violations}


def test_bundled_rules_load_without_diagnostics():
    files = sorted(p.name for p in bundled_rules_dir().glob("*.yaml"))
    assert files == ["message.yaml", "quality.yaml", "security.yaml"]
    ruleset, diagnostics = load_rule_files([bundled_rules_dir()])
    assert diagnostics == []
    assert len(ruleset) >= 20


def test_a_clean_captain_message_passes(validator):
    report = validator.validate(message())
    assert report.to_dict() == {"status": "PASS", "score": 100, "violations": []}


def test_the_message_model_is_accepted(validator):
    msg = Message(sender="Captain", recipients=["Agent-1", "Agent-2"], content=BRIEF, tags=["captain", "wrapup"])
    assert validator.validate(msg).status == "PASS"


def test_a_broadcast_to_everyone_passes(validator):
    assert validator.validate(message(type="broadcast", recipients=[])).status == "PASS"


def test_an_aws_key_fails_with_its_span(validator):
    text = f"Use {AWS_KEY} to deploy the staging stack."
    report = validator.validate(message(content=text))
    assert report.status == "FAIL"
    start = text.index(AWS_KEY)
    hits = [v for v in report.violations if v.rule_id == "no-credentials"]
    assert [v.span for v in hits] == [(start, start + len(AWS_KEY))]
    assert all(AWS_KEY not in v.message for v in report.violations)


@pytest.mark.parametrize(
    "secret",
    [
        GITHUB_TOKEN,
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
        "xoxb-" + "1234567890-abcdefghijkl",
        "password = 'Zq8#rT2!vL9@wX4$'",
    ],
)
def test_other_credentials_fail(validator, secret):
    report = validator.validate(message(content=f"here you go:\n{secret}\nthanks"))
    assert "no-credentials" in rules_hit(report)
    assert report.status == "FAIL"


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"content": "   \n"}, "content-not-blank"),
        ({"sender": ""}, "sender-required"),
        ({"recipients": []}, "recipients-required"),
        ({"type": "broadcast", "recipients": ["Agent-1"]}, "broadcast-not-single-recipient"),
        ({"recipients": ["Agent-1", "Agent-1"]}, "recipients-unique"),
        ({"recipients": [f"Agent-{i}" for i in range(51)]}, "max-recipients"),
        ({"recipients": ["agent 1"]}, "recipient-name-format"),
        ({"type": "memo"}, "type-allowed"),
        ({"priority": "high"}, "priority-allowed"),
        ({"tags": ["Urgent!"]}, "tags-format"),
        ({"content": "x" * 8001}, "content-max-length"),
        ({"content": "Stop \x1b[2J now"}, "no-control-characters"),
        ({"content": "ok\u202eevil"}, "no-hidden-text"),
    ],
)
def test_each_error_rule_catches_its_case(validator, fields, rule):
    report = validator.validate(message(**fields))
    assert rule in rules_hit(report)
    assert report.status == "FAIL"


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        ("x" * 4001, "content-long"),
        ("line\n" * 151, "content-max-lines"),
        ("Lorem ipsum dolor sit amet", "placeholder-text"),
        ("Owner: TBD", "placeholder-text"),
        ("Hello {{ agent_id }}, start now", "unfilled-template-slot"),
        ("You are Agent-Agent-5", "doubled-agent-prefix"),
        ("/compact the context and continue", "leading-command-character"),
    ],
)
def test_each_warning_rule_catches_its_case(validator, content, rule):
    report = validator.validate(message(content=content))
    assert rule in rules_hit(report)
    assert report.status == "WARN"


def test_unknown_tags_only_warn(validator):
    report = validator.validate(message(tags=["captain", "refactor"]))
    assert (report.status, rules_hit(report)) == ("WARN", {"tags-known"})


def test_a_todo_is_only_info(validator):
    report = validator.validate(message(content="Fix the TODO in parser.py"))
    assert (report.status, report.score, rules_hit(report)) == ("PASS", 98, {"todo-marker"})


@pytest.mark.parametrize(
    "content",
    [
        "See commit 4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f for the fix.",
        "Emoji are fine: 👨‍👩‍👧 and so are zero-width joiners in scripts.",
        "Read ./docs/todo.md and the TODOs list; autodo is a word too.",
        "Paths like /tmp are fine mid-sentence; only a leading slash is risky.",
    ],
)
def test_ordinary_text_does_not_trip_rules(validator, content):
    assert validator.validate(message(content=content)).status == "PASS"


def test_bundled_directories_resolve_in_a_checkout():
    assert bundled_rules_dir() == Path(resources.__file__).resolve().parent.parent / "rules"
    assert bundled_assets_dir().name == "assets"


def test_bundled_dir_prefers_the_frozen_then_the_wheel_location(tmp_path, monkeypatch):
    frozen = tmp_path / "frozen"
    (frozen / "rules").mkdir(parents=True)
    package = tmp_path / "site" / "core"
    (package / "_bundled" / "rules").mkdir(parents=True)
    monkeypatch.setattr(resources, "_PACKAGE_DIR", package)
    assert bundled_rules_dir() == package / "_bundled" / "rules"
    monkeypatch.setattr("sys._MEIPASS", str(frozen), raising=False)
    assert bundled_rules_dir() == frozen / "rules"


def test_missing_bundled_dir_names_every_place_tried(tmp_path, monkeypatch):
    monkeypatch.setattr(resources, "_PACKAGE_DIR", tmp_path / "core")
    monkeypatch.delattr("sys._MEIPASS", raising=False)
    with pytest.raises(FileNotFoundError, match="_bundled"):
        bundled_rules_dir()
