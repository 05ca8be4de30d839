"""`quarterdeck agents watch`: a real tmux pane that writes and then rests, watched by the command
as a person would run it (piped: one line per change), and the lock that keeps one watcher."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


@pytest.fixture
def tmux_env(tmp_path):
    """A tmux server of its own (TMUX_TMPDIR), torn down after the test."""
    folder = tmp_path / "tmux"
    folder.mkdir()
    env = {**os.environ, "TMUX_TMPDIR": str(folder)}
    env.pop("TMUX", None)
    yield env
    subprocess.run(["tmux", "kill-server"], env=env, capture_output=True, check=False)


def roster(tmp_path, *lines: str):
    path = tmp_path / "agents.yaml"
    path.write_text("agents:\n" + "".join(f"  - {line}\n" for line in lines), encoding="utf-8")
    return path


def run_watch(tmp_path, env, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "quarterdeck", "agents", "watch", "--roster", str(tmp_path / "agents.yaml"),
         "--data-dir", str(tmp_path / "data"), "--interval", "0.3", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def lines_until(proc: subprocess.Popen[str], wanted: str, deadline: float) -> list[str]:
    import selectors

    seen: list[str] = []
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    while time.monotonic() < deadline:
        if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line.rstrip("\n"))
        if wanted in line:
            return seen
    raise AssertionError(f"no {wanted!r} within the deadline; saw {seen}")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(2)  # Ctrl+C
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def test_a_pane_that_writes_then_rests_is_seen_working_then_idle(tmp_path, tmux_env):
    script = "for i in 1 2 3 4 5 6 7 8; do echo building step $i; sleep 0.4; done; exec sleep 120"
    subprocess.run(["tmux", "new-session", "-d", "-s", "w", "-x", "100", "-y", "20", "sh", "-c", script],
                   env=tmux_env, check=True)
    roster(tmp_path, '{id: Builder, transport: tmux, target: "w:0.0"}', "{id: Quiet, transport: dryrun}")
    proc = run_watch(tmp_path, tmux_env)
    try:
        start = time.monotonic()
        seen = lines_until(proc, "Builder working", start + 20)
        assert any("Quiet unknown" in line for line in seen)  # nothing watches a dry-run agent
        seen += lines_until(proc, "Builder idle", start + 30)
        idle = next(line for line in seen if "Builder idle" in line)
        assert "its pane is quiet" in idle
    finally:
        stop(proc)
    assert proc.returncode == 0
    # what it saw was recorded: a second, read-only look agrees
    once = subprocess.run([sys.executable, "-m", "quarterdeck", "agents", "watch", "--once", "--roster",
                           str(tmp_path / "agents.yaml"), "--data-dir", str(tmp_path / "data")],
                          env=tmux_env, capture_output=True, text=True, timeout=30)
    assert once.returncode == 0, once.stderr
    assert once.stdout.splitlines()[0].split() == ["AGENT", "STATE", "FOR", "SIGNAL", "WHY"]
    builder = next(line for line in once.stdout.splitlines() if line.startswith("Builder"))
    assert builder.split()[1] == "idle"


def test_a_second_watch_reads_what_the_first_records(tmp_path, tmux_env):
    subprocess.run(["tmux", "new-session", "-d", "-s", "w", "sh", "-c", "exec sleep 120"], env=tmux_env, check=True)
    roster(tmp_path, '{id: Builder, transport: tmux, target: "w:0.0"}')
    first = run_watch(tmp_path, tmux_env)
    try:
        lines_until(first, "Builder", time.monotonic() + 20)
        second = run_watch(tmp_path, tmux_env)
        try:
            assert second.stdout is not None
            line = second.stdout.readline()
            assert line.startswith(f"process {first.pid} watches the panes and windows")
        finally:
            stop(second)
    finally:
        stop(first)


def test_a_bad_interval_is_one_line(tmp_path, tmux_env):
    roster(tmp_path, "{id: Quiet, transport: dryrun}")
    done = subprocess.run([sys.executable, "-m", "quarterdeck", "agents", "watch", "--interval", "0", "--roster",
                           str(tmp_path / "agents.yaml"), "--data-dir", str(tmp_path / "data")],
                          env=tmux_env, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == ["quarterdeck: error: --interval must be a positive number of seconds"]
