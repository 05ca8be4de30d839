"""`quarterdeck config show`: effective values, their sources, and clear errors."""
from __future__ import annotations

import json

from quarterdeck.cli.main import main


def test_show_defaults_and_env_source(monkeypatch, capsys):
    monkeypatch.setenv("COORDINATION_MAX_RETRIES", "7")
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("max_retries"))
    assert "7" in line and "COORDINATION_MAX_RETRIES" in line


def test_show_json_with_file(tmp_path, capsys):
    cfg = tmp_path / "coordination.yaml"
    cfg.write_text("base_delay: 0.25\n", encoding="utf-8")
    assert main(["--config", str(cfg), "config", "show", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "0.25" in json.dumps(data)


def test_bad_value_names_field_and_source(tmp_path, capsys):
    cfg = tmp_path / "coordination.yaml"
    cfg.write_text("max_retries: 3\nbase_delay: soon\n", encoding="utf-8")
    assert main(["--config", str(cfg), "config", "show"]) == 2
    err = capsys.readouterr().err
    assert "base_delay" in err and f"{cfg}:2:" in err


def test_a_folder_of_an_unknown_users_home_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "coordination.yaml"
    cfg.write_text("validation_rules_path: ~no-such-user-qd/rules\n", encoding="utf-8")
    assert main(["--config", str(cfg), "config", "show"]) == 2
    err = capsys.readouterr().err
    assert "validation_rules_path: invalid value '~no-such-user-qd/rules' (~no-such-user-qd/rules: no home folder is " \
           "known for '~no-such-user-qd'; write the folder out in full) from " in err and f"{cfg}:1:" in err
    monkeypatch.setenv("QUARTERDECK_DATA_DIR", "~no-such-user-qd/data")
    assert main(["history"]) == 2
    assert capsys.readouterr().err.strip() == (
        "quarterdeck: error: QUARTERDECK_DATA_DIR=~no-such-user-qd/data: no home folder is known for "
        "'~no-such-user-qd'; write the folder out in full")
