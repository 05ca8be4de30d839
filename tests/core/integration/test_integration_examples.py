"""The README's integration examples (examples/integration_*.py) run as written and say what they claim."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import quarterdeck.cli.main
from quarterdeck.cli import deadletter_cmd

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "QUARTERDECK_DATA_DIR": str(tmp_path / "data"),
            "QUARTERDECK_CONFIG_DIR": str(tmp_path / "config"), "PYTHONPATH": str(ROOT)}


def run_example(name, env):
    done = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines(), done.stderr


def test_decorator_example(env):
    out, _ = run_example("integration_decorator.py", env)
    assert out == ["{'user_id': 42, 'name': 'Ann'}", "attempts: 3",
                   "refused: update_user_profile: invalid input: data is empty", "ok: 1 invalid: 1"]


def test_service_example(env):
    out, _ = run_example("integration_service.py", env)
    assert out == ["reserved 2 x SKU-1", "7", *["restock failed"] * 5,
                   "refused: circuit breaker 'InventoryService.restock' is OPEN; next trial in 30.0s"]


def test_wsgi_example(env):
    out, err = run_example("integration_wsgi.py", env)
    assert out[0] == '201 {"created": "Ann"}'
    assert out[1].startswith("422 ") and json.loads(out[1][4:])["violations"][0]["message"] == \
        "email is missing"
    assert out[2:4] == ["500 ['correlation_id', 'error']", "200 UNKNOWN"]
    assert 'route="/crash",status="500"} 1.0' in out[4]
    assert "S3cr3t" not in err and "[REDACTED:generic_assignment]" in err


def test_asgi_example(env):
    out, _ = run_example("integration_asgi.py", env)
    assert out[0] == "201 {'id': 'SKU-1'}"
    assert out[1].startswith("422 ") and "sku has 14 characters; at most 12 allowed" in out[1]


def test_health_metrics_example(env):
    out, _ = run_example("integration_health_metrics.py", env)
    assert out[:2] == ["DOWN DOWN OPEN", '{"ok": 1, "failed": 5, "rejected": 0, "invalid": 0}']
    assert 'quarterdeck_operation_calls_total{operation="charge_card",outcome="failed"} 5.0' in out[2]


def test_events_example_and_its_command_line_replay(env, monkeypatch, capsys):
    out, _ = run_example("integration_events.py", env)
    assert out == [
        "dead_lettered failed 3",
        "1 user.created ann@example.com ConnectionError: mail server unreachable",
        "2 user.created bob@example.com ConnectionError: mail server unreachable",
        "welcome mail sent to ann@example.com",
        "replayed",
        "still waiting: 1",
    ]
    # The README goes on with `quarterdeck deadletter ...` from the repository root.
    monkeypatch.setenv("QUARTERDECK_DATA_DIR", env["QUARTERDECK_DATA_DIR"])
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    assert deadletter_cmd in quarterdeck.cli.main.COMMAND_MODULES
    assert quarterdeck.cli.main.main(["deadletter", "list"]) == 0
    assert "    2  user.created" in capsys.readouterr().out
    assert quarterdeck.cli.main.main(["deadletter", "replay", "--all",
                          "--processor", "examples.integration_events:processor"]) == 0
    out = capsys.readouterr().out
    assert "welcome mail sent to bob@example.com" in out and "1 replayed, 0 failed again" in out
    assert quarterdeck.cli.main.main(["deadletter", "purge"]) == 0
    assert capsys.readouterr().out.strip() == "0 dead letter(s) removed"
