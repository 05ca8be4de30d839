"""Storage faults made for real: a full disk (a small tmpfs), a damaged file, a lock held by another
connection, a read-only mount and a missing folder. Each ends every command that touches the
outbox with one line (what, where, what to do) and its own exit code, never a traceback."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from quarterdeck.cli.common import EXIT_STORAGE
from quarterdeck.cli.main import main
from quarterdeck.core.store import Store, default_db_path
from quarterdeck.core.store.faults import StorageFault, from_os_error, from_sqlite

COMMANDS = (["status"], ["history"], ["contracts", "list"], ["send", "-a", "Agent-1", "-m", "hello"])
WHAT_TO_DO = {"full": "free some space", "corrupt": "quarterdeck doctor --repair", "locked": "let it finish",
              "readonly": "writable", "missing": "create it"}


@pytest.fixture
def roster(tmp_path) -> Path:
    path = tmp_path / "agents.yaml"
    path.write_text(f"agents:\n  - {{id: Agent-1, transport: inbox, path: {tmp_path / 'inbox'}}}\n",
                    encoding="utf-8")
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def fault_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if not ln.startswith("quarterdeck: note:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def check_every_command(capsys, roster: Path, data: Path, kind: str) -> list[str]:
    seen = []
    for command in COMMANDS:
        extra = [] if command[0] == "contracts" else ["--roster", str(roster)]
        code, _, err = run(capsys, *command, *extra, "--data-dir", str(data))
        line = fault_line(err)
        assert code == EXIT_STORAGE[kind], (command, code, err)
        assert str(data) in line and WHAT_TO_DO[kind] in line, line
        if command[0] == "send":
            assert "message not accepted, nothing was queued" in line
        seen.append(line)
    return seen


@contextlib.contextmanager
def mounted(target: Path, *options: str, source: str = "tmpfs", fstype: str | None = "tmpfs"):
    target.mkdir(parents=True, exist_ok=True)
    cmd = ["mount", *(["-t", fstype] if fstype else []), *options, source, str(target)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip()}); needs root")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def fill(folder: Path) -> None:
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)
    assert os.statvfs(folder).f_bavail == 0


def test_full_disk(tmp_path, roster, capsys):
    with mounted(tmp_path / "small", "-o", "size=512k") as disk:
        data = disk / "data"
        code, out, _ = run(capsys, "send", "-a", "Agent-1", "-m", "before the disk filled", "--roster",
                           str(roster), "--data-dir", str(data))
        assert code == 0, out
        fill(disk)
        lines = check_every_command(capsys, roster, data, "full")
        assert "is full" in lines[0]
        (disk / "filler").unlink()
        code, out, _ = run(capsys, "history", "--json", "--roster", str(roster), "--data-dir", str(data))
        assert code == 0 and '"total": 1' in out and "hello" not in out  # the refused send left nothing


def test_damaged_file(tmp_path, roster, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "quarterdeck.sqlite3").write_bytes(b"this is not a database " * 200)
    lines = check_every_command(capsys, roster, data, "corrupt")
    assert "is damaged (SQLite: file is not a database)" in lines[0]


def test_lock_held_by_another_connection(tmp_path, roster, capsys, monkeypatch):
    monkeypatch.setattr("quarterdeck.core.store.db.BUSY_TIMEOUT_S", 0.2)
    data = tmp_path / "data"
    Store(default_db_path(data)).close()
    holder = sqlite3.connect(default_db_path(data), isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        lines = check_every_command(capsys, roster, data, "locked")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "is locked by another process (SQLite: database is locked)" in lines[0]


def test_read_only_mount(tmp_path, roster, capsys):
    source, view = tmp_path / "rw", tmp_path / "ro"
    source.mkdir()
    Store(default_db_path(source / "data")).close()
    with mounted(view, "--bind", source=str(source), fstype=None):
        done = subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=False)
        assert done.returncode == 0
        lines = check_every_command(capsys, roster, view / "data", "readonly")
    assert "cannot be written" in lines[0] and "mounted read-only" in lines[0]


def test_missing_folder(tmp_path, roster, capsys):
    (tmp_path / "not-a-folder").write_text("a file where a folder should be")
    data = tmp_path / "not-a-folder" / "data"
    lines = check_every_command(capsys, roster, data, "missing")
    assert "cannot be reached: a folder on its way is missing" in lines[0]


def test_serve_and_subprocesses_print_one_line(tmp_path, roster):
    data = tmp_path / "data"
    data.mkdir()
    (data / "quarterdeck.sqlite3").write_bytes(b"\xff" * 8192)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for command in (["serve", "--port", "0"], ["status"], ["send", "-a", "Agent-1", "-m", "hi"], ["health"]):
        done = subprocess.run([sys.executable, "-m", "quarterdeck.cli.main", *command, "--roster", str(roster),
                               "--data-dir", str(data)], capture_output=True, text=True, timeout=60,
                              env=env, cwd=Path(__file__).parents[2], check=False)
        assert done.returncode == EXIT_STORAGE["corrupt"], (command, done.stderr)
        fault_line(done.stderr)


def test_kinds_from_sqlite_codes_and_os_errors(tmp_path):
    path = tmp_path / "q.sqlite3"
    for text, kind in (("database or disk is full", "full"), ("file is not a database", "corrupt"),
                       ("database disk image is malformed", "corrupt"), ("database is locked", "locked"),
                       ("attempt to write a readonly database", "readonly")):
        fault = from_sqlite(sqlite3.OperationalError(text), path)
        assert isinstance(fault, StorageFault) and fault.kind == kind and str(path) in str(fault)
    assert from_sqlite(sqlite3.IntegrityError("UNIQUE constraint failed"), path) is None
    assert from_os_error(OSError(28, "No space left on device", str(path))).kind == "full"
    assert from_os_error(OSError(30, "Read-only file system", str(path))).kind == "readonly"
    assert from_os_error(FileNotFoundError(2, "No such file or directory", str(path))).kind == "missing"


def test_a_worker_retrying_a_fault_logs_one_line_a_minute(tmp_path, capsys):
    """What ``serve`` shows while its delivery worker keeps meeting a damaged outbox."""
    import logging

    from quarterdeck.cli.common import log_in_one_line

    handler = log_in_one_line()
    try:
        fault = from_sqlite(sqlite3.DatabaseError("file is not a database"), tmp_path / "q.sqlite3")
        for _ in range(3):
            try:
                raise fault
            except StorageFault:
                logging.getLogger("quarterdeck.core.service").exception("the delivery worker could not work the outbox")
    finally:
        logging.getLogger().removeHandler(handler)
    err = capsys.readouterr().err
    assert err.splitlines() == [f"quarterdeck: the delivery worker could not work the outbox: {fault}"]


def test_an_os_error_without_a_file_name_is_placed_in_the_data_folder(tmp_path, roster, capsys, monkeypatch):
    def no_space(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("quarterdeck.core.store.owner.Lease.__init__", no_space)
    data = tmp_path / "data"
    code, _, err = run(capsys, "send", "-a", "Agent-1", "-m", "hi", "--roster", str(roster), "--data-dir", str(data))
    assert code == EXIT_STORAGE["full"]
    assert fault_line(err).startswith(f"quarterdeck: message not accepted, nothing was queued: the disk holding "
                                      f"{data} is full (No space left on device)")


def test_a_disk_that_fills_after_the_message_was_queued(tmp_path, roster, capsys, monkeypatch):
    """The message is in the outbox when the disk fills (as typing starts): the line says it is
    stored and where to look, not that it was refused."""
    from quarterdeck.core.store import outbox

    with mounted(tmp_path / "small", "-o", "size=512k") as disk:
        data = disk / "data"
        started = outbox.Store.mark_started

        def fill_then_start(self, delivery_id):
            fill(disk)
            return started(self, delivery_id)

        monkeypatch.setattr(outbox.Store, "mark_started", fill_then_start)
        code, _, err = run(capsys, "send", "-a", "Agent-1", "-m", "queued, then the disk filled",
                           "--roster", str(roster), "--data-dir", str(data))
        monkeypatch.setattr(outbox.Store, "mark_started", started)
        (disk / "filler").unlink()
        line = fault_line(err)
        assert code == EXIT_STORAGE["full"], err
        assert line.startswith("quarterdeck: the message is stored; 'quarterdeck status' shows each delivery: "
                               f"the disk holding {data / 'quarterdeck.sqlite3'} is full")
        code, out, _ = run(capsys, "history", "--json", "--roster", str(roster), "--data-dir", str(data))
        assert code == 0 and "queued, then the disk filled" in out


def test_the_doctor_advice_names_the_folder_of_the_file_as_one_shell_word() -> None:
    from quarterdeck.core.store.faults import explain, shell_word

    assert "run 'quarterdeck doctor --repair --data-dir /srv/relay/data' to keep" in explain(
        "corrupt", Path("/srv/relay/data/relay.sqlite"), "SQLite: file is not a database")
    assert shell_word("/home/me/relay data") == '"/home/me/relay data"'
    assert shell_word('/tmp/say "hi"') == "'/tmp/say \"hi\"'"
    assert shell_word("/tmp/it's") == '"/tmp/it\'s"'  # in double quotes, a quote is a letter
