"""`quarterdeck rules check` and `quarterdeck validate`, driven as a user types them."""
from __future__ import annotations

import io
import json

import pytest

from quarterdeck.cli.main import main

AWS_KEY = "AKIA" + "QWERTYUIOPASDFGH"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_bundled_rules_check_clean(capsys):
    code, out, _ = run(capsys, "rules", "check")
    assert code == 0
    assert out.startswith("ok: ")
    for name in ("message.yaml", "quality.yaml", "security.yaml"):
        assert name in out


def test_broken_rule_file_reports_line_and_column(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  r1:\n    severity: error\n    given: content\n"
                   "    then:\n      function: regex\n", encoding="utf-8")
    code, out, _ = run(capsys, "rules", "check", str(bad))
    assert code == 1
    assert f"{bad}:6:17: error:" in out
    assert "regex" in out
    assert "were not loaded" in out


def test_missing_rules_path_is_a_clear_error(tmp_path, capsys):
    code, _, err = run(capsys, "rules", "check", str(tmp_path / "nope"))
    assert code == 2
    assert "no such rules file or folder" in err


def test_validate_clean_message_passes(capsys):
    code, out, _ = run(capsys, "validate", "-a", "Agent-1",
                       "-m", "Please rebase feature/login on main and run the tests.")
    assert code == 0
    assert out.startswith("PASS  score 100/100")


def test_validate_secret_fails_with_span_in_json(capsys):
    text = f"deploy with {AWS_KEY} now"
    code, out, _ = run(capsys, "validate", "-a", "Agent-1", "--json", "-m", text)
    assert code == 1
    report = json.loads(out)
    assert report["status"] == "FAIL"
    spans = [v["span"] for v in report["violations"] if v["field"] == "content" and v["span"]]
    start = text.index(AWS_KEY)
    assert [start, start + len(AWS_KEY)] in spans


def test_validate_reads_standard_input(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("   \n"))
    code, out, _ = run(capsys, "validate", "-a", "Agent-1", "-")
    assert code == 1
    assert out.startswith("FAIL")


def test_validate_without_recipients_judges_the_content_as_a_broadcast(capsys):
    code, out, _ = run(capsys, "validate", "-m", "Please rebase feature/login on main and run the tests.")
    assert code == 0, out
    assert out.startswith("PASS  score 100/100  (checked as a broadcast to everyone")
    assert "recipients-required" not in out
    code, out, _ = run(capsys, "validate", "--json", "-m", f"deploy with {AWS_KEY} now")
    report = json.loads(out)
    assert code == 1 and report["checked_as"] == "broadcast"
    assert [v["rule"] for v in report["violations"]] == ["no-credentials"]  # the content, nothing else


def test_validate_without_message_explains(capsys):
    code, _, err = run(capsys, "validate")
    assert code == 2
    assert "-m TEXT" in err


def test_validate_with_broken_rules_refuses(tmp_path, capsys):
    (tmp_path / "r.yaml").write_text("rules: [\n", encoding="utf-8")
    code, _, err = run(capsys, "validate", "--rules", str(tmp_path), "-m", "hi")
    assert code == 2
    assert "r.yaml:" in err


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("quarterdeck ")
