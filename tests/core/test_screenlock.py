"""ScreenLock across real processes sharing one lock file."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from quarterdeck.core.delivery.errors import Cancelled
from quarterdeck.core.paths import user_data_dir
from quarterdeck.core.transports.gui.screenlock import ScreenBusy, ScreenLock

ROOT = Path(__file__).resolve().parents[2]

HOLDER = """
import sys, threading
sys.path.insert(0, sys.argv[2])
from quarterdeck.core.transports.gui.screenlock import ScreenLock
with ScreenLock(sys.argv[1]).hold(threading.Event()):
    print("held", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""

WORKER = """
import os, sys, threading, time
sys.path.insert(0, sys.argv[2])
from quarterdeck.core.transports.gui.screenlock import ScreenLock
lock, log = ScreenLock(sys.argv[1]), sys.argv[3]
for _ in range(int(sys.argv[4])):
    with lock.hold(threading.Event()):
        with open(log, "a") as f:
            f.write(f"enter {os.getpid()}\\n")
        time.sleep(0.002)
        with open(log, "a") as f:
            f.write(f"exit {os.getpid()}\\n")
"""


def spawn(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock until it is told to let go."""
    path = tmp_path / "screen.lock"
    proc = spawn(HOLDER, str(path), str(ROOT))
    assert proc.stdout.readline() == "held\n"
    yield path, proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    for stream in (proc.stdin, proc.stdout):
        stream.close()


class WatchedStop(threading.Event):
    """A stop event that reports when a waiter first sleeps on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.set()
        return super().wait(timeout)


def test_second_process_waits_until_the_first_releases(holder):
    path, proc = holder
    lock = ScreenLock(path)
    assert lock.holder() == proc.pid
    with pytest.raises(ScreenBusy, match=f"process {proc.pid}"):
        with lock.hold(threading.Event(), timeout=0.1):
            pass
    stop = WatchedStop()
    seen: list[object] = []

    def wait_for_screen() -> None:
        with lock.hold(stop):
            seen.append(lock.holder())

    waiter = threading.Thread(target=wait_for_screen)
    waiter.start()
    assert stop.waiting.wait(10)
    assert seen == [] and waiter.is_alive()
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "released\n"
    waiter.join(10)
    assert seen == [os.getpid()]
    assert lock.holder() is None


def test_stop_interrupts_a_waiter_promptly(holder):
    path, proc = holder
    stop = WatchedStop()
    result: dict[str, object] = {}

    def wait_for_screen() -> None:
        try:
            with ScreenLock(path).hold(stop):
                result["acquired"] = True
        except Cancelled as exc:
            result["cancelled_at"] = time.monotonic()
            result["error"] = exc

    waiter = threading.Thread(target=wait_for_screen)
    waiter.start()
    assert stop.waiting.wait(10)
    stopped_at = time.monotonic()
    stop.set()
    waiter.join(10)
    assert "acquired" not in result
    assert "stopped" in str(result["error"])
    assert result["cancelled_at"] - stopped_at < 1.0
    assert ScreenLock(path).holder() == proc.pid


def test_stop_already_set_takes_nothing(tmp_path):
    lock = ScreenLock(tmp_path / "screen.lock")
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        with lock.hold(stop):
            pytest.fail("entered the body although stop was set")
    assert lock.holder() is None


def test_many_processes_never_overlap(tmp_path):
    path, log = tmp_path / "screen.lock", tmp_path / "log.txt"
    workers = [spawn(WORKER, str(path), str(ROOT), str(log), "25") for _ in range(3)]
    for w in workers:
        assert w.wait(timeout=60) == 0
        w.stdin.close()
        w.stdout.close()
    lines = log.read_text().splitlines()
    assert len(lines) == 3 * 25 * 2
    for enter, leave in zip(lines[::2], lines[1::2], strict=True):
        assert enter.startswith("enter ") and leave == "exit " + enter.split()[1]
    assert {line.split()[1] for line in lines} == {str(w.pid) for w in workers}


def test_lock_of_a_killed_holder_is_free_again(holder):
    path, proc = holder
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    lock = ScreenLock(path)
    with lock.hold(threading.Event(), timeout=5):
        assert lock.holder() == os.getpid()


def test_threads_of_one_process_exclude_each_other_too(tmp_path):
    path = tmp_path / "screen.lock"
    with ScreenLock(path).hold(threading.Event()):
        with pytest.raises(ScreenBusy, match=f"process {os.getpid()}"):
            with ScreenLock(path).hold(threading.Event(), timeout=0.05):
                pass


def test_default_lock_file_lives_in_the_user_data_folder():
    lock = ScreenLock()
    assert lock.path == user_data_dir() / "screen.lock"
    with lock.hold(threading.Event()):
        assert lock.path.read_text().strip() == str(os.getpid())
    assert lock.path.read_text().strip() == ""
