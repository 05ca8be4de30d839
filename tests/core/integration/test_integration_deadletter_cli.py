"""`quarterdeck deadletter list|replay|purge` over a real store and a processor loaded by name."""
from __future__ import annotations

import json
import os
import sys
import textwrap
import uuid

import pytest

import quarterdeck.cli.main
from quarterdeck.cli import deadletter_cmd
from quarterdeck.core.integration import DeadLetterStore
from quarterdeck.core.integration.defaults import DEAD_LETTER_FILE

APP = '''
from quarterdeck.core.integration import CoordinationEventProcessor
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.resilience import BreakerRegistry

RECEIVED = []
processor = CoordinationEventProcessor(monitor=Monitor(), breakers=BreakerRegistry(),
                                       error_config={"max_retries": 0})


@processor.handler("user.created")
def created(payload):
    if payload.get("fail"):
        raise ConnectionError("the directory is still down")
    RECEIVED.append(payload)


def make():
    return processor


not_a_processor = 42
'''


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    assert deadletter_cmd in quarterdeck.cli.main.COMMAND_MODULES


@pytest.fixture
def app(tmp_path, monkeypatch):
    """An importable application module holding the processor; returns (module name, module)."""
    name = f"evtapp_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / f"{name}.py").write_text(textwrap.dedent(APP))
    monkeypatch.syspath_prepend(str(folder))
    return name


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    with DeadLetterStore(folder / DEAD_LETTER_FILE) as store:
        store.add("user.created", {"user_id": 1}, reason="failed", error="ConnectionError: down",
                  attempts=4, event_id="e-1")
        store.add("user.created", {"user_id": 2, "fail": True}, reason="failed",
                  error="ConnectionError: down", attempts=4)
        store.add("order.paid", {"order_id": 9}, reason="no_handler", error="NoHandler: none",
                  attempts=0)
    return folder


def run(capsys, *argv):
    code = quarterdeck.cli.main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def entries(data_dir):
    with DeadLetterStore(data_dir / DEAD_LETTER_FILE) as store:
        return store.list()


def test_list_shows_the_entries(capsys, data_dir):
    code, out, _ = run(capsys, "deadletter", "list", "--data-dir", str(data_dir))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["ID", "TYPE", "REASON", "TRIES", "REPLAYS"]
    assert lines[1].split()[:5] == ["1", "user.created", "failed", "4", "0"]
    assert "3 dead letter(s)" in out
    code, out, _ = run(capsys, "deadletter", "list", "--data-dir", str(data_dir), "--json",
                       "--type", "order.paid")
    assert [(e["id"], e["payload"]) for e in json.loads(out)] == [(3, {"order_id": 9})]


def test_replay_hands_the_event_to_the_applications_handler(capsys, data_dir, app):
    code, out, _ = run(capsys, "deadletter", "replay", "1", "--processor", f"{app}:processor",
                       "--data-dir", str(data_dir))
    assert code == 0 and "#1 user.created: replayed" in out
    assert __import__(app).RECEIVED == [{"user_id": 1}]
    assert [e.id for e in entries(data_dir)] == [2, 3]


def test_replay_all_reports_events_that_fail_again(capsys, data_dir, app):
    code, out, _ = run(capsys, "deadletter", "replay", "--all", "--processor", f"{app}:make",
                       "--data-dir", str(data_dir))
    assert code == 1
    assert "#2 user.created: failed again (failed): ConnectionError: the directory is still down" in out
    assert "#3 order.paid: failed again (no_handler)" in out and "1 replayed, 2 failed again" in out
    left = entries(data_dir)
    assert [(e.id, e.replays) for e in left] == [(2, 1), (3, 1)]


@pytest.mark.parametrize("argv, message", [
    (["1", "--all"], "not both"),
    ([], "not both"),
    (["99"], "no dead letter #99"),
])
def test_replay_usage_problems(capsys, data_dir, app, argv, message):
    code, _, err = run(capsys, "deadletter", "replay", *argv, "--processor", f"{app}:processor",
                       "--data-dir", str(data_dir))
    assert code == 2 and message in err


@pytest.mark.parametrize("spec, message", [
    ("nocolon", "give MODULE:ATTR"),
    ("no_such_module_xyz:processor", "cannot be loaded"),
    ("{app}:missing", "cannot be loaded"),
    ("{app}:not_a_processor", "is not a CoordinationEventProcessor (it is of type int)"),
])
def test_processors_that_cannot_be_loaded(capsys, data_dir, app, spec, message):
    code, _, err = run(capsys, "deadletter", "replay", "1", "--processor", spec.format(app=app),
                       "--data-dir", str(data_dir))
    assert code == 2 and message in err
    assert len(entries(data_dir)) == 3


def test_purge_deletes_without_replaying(capsys, data_dir):
    code, out, _ = run(capsys, "deadletter", "purge", "--data-dir", str(data_dir), "--older-than", "1")
    assert code == 0 and out.strip() == "0 dead letter(s) removed"
    code, out, _ = run(capsys, "deadletter", "purge", "--data-dir", str(data_dir), "--type", "order.paid")
    assert out.strip() == "1 dead letter(s) removed"
    run(capsys, "deadletter", "purge", "--data-dir", str(data_dir))
    assert entries(data_dir) == []


def test_nothing_is_created_where_no_store_exists(capsys, tmp_path, app):
    empty = tmp_path / "nothing"
    code, out, _ = run(capsys, "deadletter", "list", "--data-dir", str(empty))
    assert code == 0 and "no dead letters" in out
    assert run(capsys, "deadletter", "list", "--data-dir", str(empty), "--json")[1].strip() == "[]"
    assert "0 dead letter(s) removed" in run(capsys, "deadletter", "purge", "--data-dir", str(empty))[1]
    code, out, _ = run(capsys, "deadletter", "replay", "--all", "--processor", f"{app}:processor",
                       "--data-dir", str(empty))
    assert code == 0 and "no dead letters" in out
    code, _, err = run(capsys, "deadletter", "replay", "4", "--processor", f"{app}:processor",
                       "--data-dir", str(empty))
    assert code == 2 and "no store" in err
    assert not empty.exists()


def test_the_data_dir_defaults_to_the_user_data_dir(capsys, monkeypatch, data_dir):
    monkeypatch.setenv("QUARTERDECK_DATA_DIR", str(data_dir))
    code, out, _ = run(capsys, "deadletter", "list")
    assert code == 0 and "3 dead letter(s)" in out


def test_processor_modules_are_found_in_the_current_directory(capsys, monkeypatch, tmp_path, data_dir):
    folder = tmp_path / "project"
    folder.mkdir()
    name = f"cwdapp_{uuid.uuid4().hex[:8]}"
    (folder / f"{name}.py").write_text(textwrap.dedent(APP))
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", os.getcwd())])
    code, out, _ = run(capsys, "deadletter", "replay", "1", "--processor", f"{name}:processor",
                       "--data-dir", str(data_dir))
    assert code == 0 and "replayed" in out and sys.path[0] == ""
