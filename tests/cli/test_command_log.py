"""What `quarterdeck serve`, `send` and `onboard` write to quarterdeck.log (quarterdeck.core.logsetup):
the start, the stop and each delivery's outcome; measured on the real file."""
from __future__ import annotations

import logging
import os
import random
import signal
import stat
import string
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quarterdeck.cli.common import log_in_one_line
from quarterdeck.cli.main import main
from quarterdeck.core.models import Message
from quarterdeck.core.store import Store, default_db_path

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30.0
TOKEN = "ghp_" + "".join(random.Random(11).choices(string.ascii_letters + string.digits, k=36))


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(f"agents:\n  - {{id: Good, transport: inbox, path: {tmp_path / 'good'}}}\n", encoding="utf-8")
    return path


def the_log(data_dir: Path) -> Path:
    return data_dir / "logs" / "quarterdeck.log"


def test_serve_logs_its_start_each_delivery_and_its_stop(tmp_path, roster):
    if os.name != "posix":
        pytest.skip("SIGTERM is POSIX")
    data_dir = tmp_path / "data"
    env = {**os.environ, "QUARTERDECK_LOG_LEVEL": "INFO"}
    proc = subprocess.Popen([sys.executable, "-m", "quarterdeck.cli.main", "serve", "--port", "0", "--poll", "0.05",
                             "--data-dir", str(data_dir), "--roster", str(roster)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("serving http://127.0.0.1:"), first + proc.stderr.read()
        with Store(default_db_path(data_dir)) as store:
            store.enqueue(Message(sender="Captain", content="for the log", recipients=["Good"]), [("Good", "inbox")])
        deadline = time.monotonic() + WAIT
        while "to Good: delivered" not in (the_log(data_dir).read_text(encoding="utf-8")
                                           if the_log(data_dir).exists() else ""):
            assert time.monotonic() < deadline, "no delivery logged"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    text = the_log(data_dir).read_text(encoding="utf-8")
    lines = [line.split(" ", 2)[2] for line in text.splitlines()]  # without the date and time
    assert any(line.startswith(f"INFO quarterdeck.serve: serve started (pid {proc.pid}): http://127.0.0.1:")
               for line in lines), text
    assert any(line.startswith("INFO quarterdeck.deliveries: delivery 1 to Good: delivered (attempt 1; ")
               and "submitted" in line for line in lines), text
    assert "INFO quarterdeck.serve: serve stopping on SIGTERM, after the delivery in flight" in lines
    assert "INFO quarterdeck.serve: serve stopped: 1 delivered, 0 failed by this process; 0 queued left in " \
           "the outbox" in lines
    assert stat.S_IMODE(the_log(data_dir).stat().st_mode) == 0o600


def test_serve_refused_at_the_command_line_makes_no_log(tmp_path, roster, capsys):
    data_dir = tmp_path / "data"
    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(data_dir),
                 "--roster", str(roster)]) == 2
    assert not data_dir.exists()


def test_send_logs_each_outcome_and_leaves_logging_as_it_was(tmp_path, roster, capsys):
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    data_dir = tmp_path / "data"
    assert main(["send", "--roster", str(roster), "--data-dir", str(data_dir), "-a", "Good", "-m", "hello"]) == 0
    text = the_log(data_dir).read_text(encoding="utf-8")
    assert "INFO quarterdeck.deliveries: delivery 1 to Good: delivered (attempt 1; " in text
    assert (list(root.handlers), root.level) == before


def test_a_dry_run_send_logs_nothing(tmp_path, roster, capsys):
    data_dir = tmp_path / "data"
    assert main(["send", "--dry-run", "--roster", str(roster), "--data-dir", str(data_dir), "-a", "Good",
                 "-m", "hello"]) == 0
    assert not data_dir.exists()


def test_the_level_from_the_environment_applies_to_a_command(tmp_path, roster, capsys, monkeypatch):
    monkeypatch.setenv("QUARTERDECK_LOG_LEVEL", "WARNING")
    data_dir = tmp_path / "data"
    assert main(["send", "--roster", str(roster), "--data-dir", str(data_dir), "-a", "Good", "-m", "hello"]) == 0
    assert "delivered" not in (the_log(data_dir).read_text(encoding="utf-8") if the_log(data_dir).exists() else "")


def test_the_one_line_stderr_log_redacts_a_secret_in_an_attached_error(capsys):
    handler = log_in_one_line()
    try:
        try:
            raise RuntimeError(f"the server refused {TOKEN}")
        except RuntimeError:
            logging.getLogger("quarterdeck.test").exception("posting failed")
    finally:
        logging.getLogger().removeHandler(handler)
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert "quarterdeck: posting failed: RuntimeError: the server refused [REDACTED:github_token]" in err
