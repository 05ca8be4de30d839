"""The panel takes `quarterdeck send`'s message over DATA_DIR/quarterdeck.sock once it has painted (a real
panel process on the test's display, a real tmux pane): the send is delivered by the panel and prints what
the in-process path prints; a roster saved by the panel is what a send is compared with afterwards; a
stop-all in the panel makes the send do the work itself; the socket goes when the panel quits."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import uuid

import pytest
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
from test_concurrent_send import QUARTERDECK, ROOT, Fleet, wait_until

from quarterdeck.core.handoff.wire import Lines, connect, socket_path

pytestmark = [pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
              pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="the panel needs a display")]


def listening(path) -> bool:
    try:
        connect(path, 1.0).close()
    except OSError:
        return False
    return True


def hello(path) -> dict:
    with connect(path, 5.0) as sock:
        return Lines(sock).next() or {}


def send(fleet: Fleet, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(QUARTERDECK), "send", "--roster", str(fleet.roster), *args],
                          env={**fleet.env, "QUARTERDECK_DEBUG": "1"}, cwd=ROOT, text=True, capture_output=True,
                          timeout=60)


def test_the_panel_takes_a_send_after_its_first_paint_and_removes_its_socket_when_it_quits(tmp_path):
    fleet = Fleet(tmp_path, agents=("Agent-1",))
    panel = subprocess.Popen([str(QUARTERDECK), "gui", "--roster", str(fleet.roster), "--quit-after", "20000"],
                             env=fleet.env, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sock = socket_path(fleet.data)
    try:
        wait_until(lambda: listening(sock) or panel.poll() is not None, "the panel to listen", timeout=40)
        assert panel.poll() is None, panel.communicate()
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        token = f"panel-{uuid.uuid4().hex[:8]}"
        done = send(fleet, "-a", "Agent-1", "-m", f"To the panel {token}.")
        assert done.returncode == 0, done.stderr
        assert "does the work itself" not in done.stderr, done.stderr
        assert done.stdout.split()[:2] == ["Agent-1", "submitted"], done.stdout
        wait_until(lambda: fleet.arrivals(token)["Agent-1"] == 1, "the panel's delivery")

        # a stop-all halts the panel: a send then does the work itself (and delivers, as it does today)
        stop = subprocess.run([str(QUARTERDECK), "stop"], env=fleet.env, cwd=ROOT, text=True, capture_output=True,
                              timeout=60)
        assert stop.returncode == 0, stop.stderr
        wait_until(lambda: hello(sock).get("stopped"), "the panel to hear of the stop")
        stopped = send(fleet, "-a", "Agent-1", "-m", f"While stopped {token}.")
        assert stopped.returncode == 0, stopped.stderr
        assert "is stopped (stop all)" in stopped.stderr, stopped.stderr
        wait_until(lambda: fleet.arrivals(f"While stopped {token}") == {"Agent-1": 1}, "the send's own delivery")

        # the roster file changes under the panel: a send no longer means the same, it does the work itself
        roster = yaml.safe_load(fleet.roster.read_text(encoding="utf-8"))
        fleet.roster.write_text(yaml.safe_dump({"agents": [*roster["agents"], {
            "id": "Agent-9", "transport": "inbox", "path": str(tmp_path / "in9")}]}), encoding="utf-8")
        changed = send(fleet, "-a", "Agent-9", "-m", "To the new agent.")
        assert changed.returncode == 0, changed.stderr
        assert "reads another roster" in changed.stderr, changed.stderr
    finally:
        try:
            panel.communicate(timeout=60)  # --quit-after: the panel closes its window as a person would
        finally:
            fleet.close()
    assert not sock.exists(), "the panel removes its socket when it quits"
