"""The one logging set-up (quarterdeck.core.logsetup), measured on a real file: secrets redacted,
rotation, the level from QUARTERDECK_LOG_LEVEL, the files private whatever the umask."""
from __future__ import annotations

import logging
import os
import random
import stat
import string
from pathlib import Path

import pytest

from quarterdeck.core.logsetup import (
    LEVEL_ENV,
    LOG_FILE_NAME,
    current_log,
    log_file,
    log_level,
    logging_to_file,
    setup_logging,
    stop_logging,
)

TOKEN = "ghp_" + "".join(random.Random(7).choices(string.ascii_letters + string.digits, k=36))
log = logging.getLogger("quarterdeck.test.logsetup")


@pytest.fixture(autouse=True)
def _undone():
    level = logging.getLogger().level
    yield
    stop_logging()
    assert logging.getLogger().level == level


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def written(handler: logging.Handler) -> str:
    assert isinstance(handler, logging.FileHandler)
    handler.flush()
    return Path(handler.baseFilename).read_text(encoding="utf-8")


def test_the_log_is_in_the_data_folder_and_private(tmp_path, loose_umask):
    handler = setup_logging(tmp_path / "data", env={})
    log.info("serve started")
    path = tmp_path / "data" / "logs" / LOG_FILE_NAME
    assert log_file(tmp_path / "data") == path
    assert "INFO quarterdeck.test.logsetup: serve started" in written(handler)
    assert (mode(path.parent), mode(path)) == (0o700, 0o600)
    assert current_log() == path


def test_without_a_data_dir_the_log_follows_quarterdeck_data_dir(tmp_path):
    assert log_file(env={"QUARTERDECK_DATA_DIR": str(tmp_path)}) == tmp_path / "logs" / LOG_FILE_NAME


def test_a_logged_secret_is_redacted_in_the_file_message_arguments_and_traceback(tmp_path):
    handler = setup_logging(tmp_path, env={})
    log.warning("pasting %s into Agent-1", TOKEN)
    log.info(f"inline {TOKEN}")
    try:
        raise ValueError(f"bad credential {TOKEN}")
    except ValueError:
        log.exception("delivery crashed")
    text = written(handler)
    assert TOKEN not in text
    assert "pasting [REDACTED:github_token] into Agent-1" in text
    assert "inline [REDACTED:github_token]" in text
    assert "ValueError: bad credential [REDACTED:github_token]" in text


def test_an_older_readable_log_is_made_private(tmp_path, loose_umask):
    path = tmp_path / "logs" / LOG_FILE_NAME
    path.parent.mkdir()
    path.write_text("from an older version\n", encoding="utf-8")
    path.chmod(0o644)
    setup_logging(tmp_path, env={})
    assert mode(path) == 0o600


def test_the_file_rotates_keeping_three_older_files_all_private(tmp_path, loose_umask):
    handler = setup_logging(tmp_path, env={}, max_bytes=2000)
    for n in range(400):
        log.info("line %04d %s", n, "x" * 40)
    handler.flush()
    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert files == [LOG_FILE_NAME, *(f"{LOG_FILE_NAME}.{n}" for n in (1, 2, 3))]
    for name in files:
        path = tmp_path / "logs" / name
        assert path.stat().st_size <= 2000
        assert mode(path) == 0o600
    assert "line 0399" in written(handler)
    assert "line 0399" not in (tmp_path / "logs" / f"{LOG_FILE_NAME}.1").read_text(encoding="utf-8")


def test_the_level_comes_from_the_environment(tmp_path):
    handler = setup_logging(tmp_path, env={LEVEL_ENV: "warning"})
    log.info("routine")
    log.warning("worth a look")
    text = written(handler)
    assert "worth a look" in text and "routine" not in text
    assert logging.getLogger().level == logging.WARNING


def test_debug_is_written_when_asked_and_info_is_the_default(tmp_path):
    handler = setup_logging(tmp_path, env={LEVEL_ENV: "DEBUG"})
    log.debug("detail")
    assert "DEBUG quarterdeck.test.logsetup: detail" in written(handler)
    assert log_level({}) == (logging.INFO, None)
    assert log_level({LEVEL_ENV: "15"}) == (15, None)


def test_a_level_that_is_none_falls_back_to_info_and_says_so(tmp_path):
    handler = setup_logging(tmp_path, env={LEVEL_ENV: "chatty"})
    log.info("still logged")
    text = written(handler)
    assert "QUARTERDECK_LOG_LEVEL='chatty' is not a log level" in text and "still logged" in text


def test_set_up_twice_for_one_file_adds_one_handler_and_another_file_moves_the_log(tmp_path):
    first = setup_logging(tmp_path / "a", env={})
    assert setup_logging(tmp_path / "a", env={}) is first
    assert sum(h is first for h in logging.getLogger().handlers) == 1
    second = setup_logging(tmp_path / "b", env={})
    assert first not in logging.getLogger().handlers and second in logging.getLogger().handlers
    log.info("moved")
    assert "moved" in written(second) and "moved" not in written(first)


def test_a_command_s_logging_is_undone_when_it_ends(tmp_path):
    before = list(logging.getLogger().handlers)
    with logging_to_file(tmp_path) as handler:
        log.info("during the command")
    log.info("after the command")
    assert logging.getLogger().handlers == before
    text = (tmp_path / "logs" / LOG_FILE_NAME).read_text(encoding="utf-8")
    assert "during the command" in text and "after the command" not in text
    assert handler not in logging.getLogger().handlers and current_log() is None


def test_an_unwritable_log_folder_costs_only_the_log(tmp_path, capsys):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the data folder should be", encoding="utf-8")
    handler = setup_logging(blocked, env={})
    log.warning("a warning")
    assert isinstance(handler, logging.NullHandler)
    assert capsys.readouterr().err == ""  # the command says what is wrong with the folder, once
    assert current_log() is None


def test_at_debug_an_unwritable_log_folder_says_why(tmp_path, capsys):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the data folder should be", encoding="utf-8")
    setup_logging(blocked, env={"QUARTERDECK_LOG_LEVEL": "DEBUG"})
    err = capsys.readouterr().err
    assert f"the log {blocked / 'logs' / LOG_FILE_NAME} cannot be written (" in err


class FullDisk:
    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def seek(self, *args: int) -> int:
        return 0

    def tell(self) -> int:
        return 0


def test_a_log_that_cannot_be_written_loses_records_quietly(tmp_path, capsys):
    handler = setup_logging(tmp_path, env={})
    assert isinstance(handler, logging.FileHandler)
    handler.stream.close()
    handler.stream = FullDisk()
    for n in range(3):
        log.warning("record %d", n)
    assert capsys.readouterr().err == ""  # no traceback per record, no line of its own


def test_at_debug_a_log_that_cannot_be_written_says_so_once(tmp_path, capsys):
    handler = setup_logging(tmp_path, env={"QUARTERDECK_LOG_LEVEL": "DEBUG"})
    assert isinstance(handler, logging.FileHandler)
    handler.stream.close()
    handler.stream = FullDisk()
    for n in range(3):
        log.warning("record %d", n)
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"quarterdeck: the log {tmp_path / 'logs' / LOG_FILE_NAME} cannot be written (")
    assert "No space left on device" in err and "Traceback" not in err


def test_with_no_older_files_to_keep_the_log_is_never_cut(tmp_path):
    handler = setup_logging(tmp_path, env={}, max_bytes=500, backups=0)
    for n in range(50):
        log.info("line %04d %s", n, "x" * 40)
    text = written(handler)
    assert "line 0000" in text and "line 0049" in text
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == [LOG_FILE_NAME]


def test_a_log_that_is_not_a_regular_file_is_never_moved_aside(tmp_path):
    path = tmp_path / "logs" / LOG_FILE_NAME
    path.parent.mkdir()
    path.symlink_to(os.devnull)
    setup_logging(tmp_path, env={}, max_bytes=50)
    for n in range(5):
        log.info("line %04d %s", n, "x" * 80)
    assert sorted(p.name for p in path.parent.iterdir()) == [LOG_FILE_NAME] and path.is_symlink()


def test_the_log_handler_is_a_file_handler_of_its_own_not_logging_handlers(tmp_path):
    import subprocess
    import sys

    probe = ("import sys\nfrom pathlib import Path\nfrom quarterdeck.core.logsetup import setup_logging\n"
             f"setup_logging(Path({str(tmp_path)!r}), env={{}})\nprint('logging.handlers' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"


def test_a_rotation_that_fails_loses_the_record_quietly_and_the_log_goes_on(tmp_path, capsys, monkeypatch):
    handler = setup_logging(tmp_path, env={}, max_bytes=200)

    def refuse(src: str, dst: str) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    for n in range(10):
        log.info("line %04d %s", n, "x" * 40)
    assert capsys.readouterr().err == ""  # no traceback per record
    monkeypatch.undo()
    log.info("after the disk came back %s", "y" * 300)
    assert "after the disk came back" in written(handler)
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == [LOG_FILE_NAME, f"{LOG_FILE_NAME}.1"]


class Counted(logging.Formatter):
    calls = 0

    def format(self, record: logging.LogRecord) -> str:
        Counted.calls += 1
        return super().format(record)


class NoSeek:
    """A stream that refuses to be sought: the handler counts the file's length instead."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def __getattr__(self, name: str):
        if name in ("seek", "tell"):
            raise AssertionError(f"the log stream was asked {name}()")
        return getattr(self.stream, name)


def test_the_file_s_length_is_counted_from_its_size_at_open_and_each_record_s_bytes(tmp_path):
    path = tmp_path / "logs" / LOG_FILE_NAME
    path.parent.mkdir()
    path.write_text("o" * 1500 + "\n", encoding="utf-8")  # left by an earlier run
    handler = setup_logging(tmp_path, env={}, max_bytes=2000)
    assert isinstance(handler, logging.FileHandler)
    assert handler.size == 1501
    handler.setFormatter(Counted("%(message)s"))
    handler.stream = NoSeek(handler.stream)
    log.info("déjà vu ✓ %s", "x" * 100)  # é, à: a byte more each; ✓: two more
    assert handler.size == 1501 + len("déjà vu ✓ ") + 100 + 1 + 4 == path.stat().st_size
    for n in range(3):
        log.info("line %d %s", n, "y" * 200)
    assert Counted.calls == 4  # once per record
    assert (tmp_path / "logs" / f"{LOG_FILE_NAME}.1").read_text(encoding="utf-8").startswith("o" * 1500)
    assert handler.size == path.stat().st_size < 2000  # counted afresh after the rotation
    assert written(handler).startswith("line 1 ")
