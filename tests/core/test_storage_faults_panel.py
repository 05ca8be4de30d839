"""The panel's background runner meets a storage fault: the caller's error handler gets the one
clear line, ``sig_fault`` carries it for the window's banner, and the next job runs as usual."""
from __future__ import annotations

import errno

import pytest

pytest.importorskip("pytestqt")

from quarterdeck.core.store import Store, default_db_path
from quarterdeck.core.store.faults import StorageFault
from quarterdeck.gui.jobs import Jobs


@pytest.fixture
def jobs(qtbot):
    runner = Jobs()
    yield runner
    runner.shutdown()


def test_a_damaged_outbox_reaches_the_handler_and_the_banner_signal(jobs, qtbot, tmp_path):
    db = default_db_path(tmp_path / "data")
    db.parent.mkdir()
    db.write_bytes(b"not a database at all " * 100)
    errors: list[BaseException] = []
    with qtbot.waitSignal(jobs.sig_fault, timeout=5000) as fault:
        jobs.run(lambda: Store(db), on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    (line,) = fault.args
    assert line == str(errors[0]) and isinstance(errors[0], StorageFault) and errors[0].kind == "corrupt"
    assert str(db) in line and "doctor --repair" in line and "\n" not in line
    done: list[int] = []
    jobs.run(lambda: 42, done.append)  # the runner keeps going
    qtbot.waitUntil(lambda: done == [42], timeout=5000)


def test_a_full_disk_without_a_handler_is_still_reported_once(jobs, qtbot, tmp_path):
    failed: list[str] = []
    jobs.sig_job_failed.connect(failed.append)

    def write():
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x.md"))

    with qtbot.waitSignal(jobs.sig_fault, timeout=5000) as fault:
        jobs.run(write)
    assert "is full" in fault.args[0] and str(tmp_path / "x.md") in fault.args[0]
    assert failed == []  # one report, not two


def test_a_missing_file_is_left_to_the_caller(jobs, qtbot, tmp_path):
    """A file that is not there is the caller's business (a rule file, a template), not a banner."""
    faults: list[str] = []
    jobs.sig_fault.connect(faults.append)
    errors: list[BaseException] = []
    jobs.run(lambda: (tmp_path / "gone.yaml").read_text(), on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], FileNotFoundError) and faults == []
