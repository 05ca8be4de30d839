"""A relay process typing into a real tmux pane: the pane runs ``cat > FILE``, so what was submitted
is read back from the file: each message once, a duplicate entry never typed again."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import Captain, RelayProcess, write_roster

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def pane(tmp_path):
    """A tmux pane on a server of its own (``TMUX_TMPDIR``) running ``cat > FILE``."""
    folder = Path(tempfile.mkdtemp(prefix="qd-relay-tmux-"))
    env = {key: value for key, value in os.environ.items() if key != "TMUX"}
    env["TMUX_TMPDIR"] = str(folder)
    out = tmp_path / "pane.txt"
    target = subprocess.run(
        ["tmux", "-f", "/dev/null", "new-session", "-d", "-s", f"relay-{uuid.uuid4().hex[:8]}", "-x", "120",
         "-y", "30", "-P", "-F", "#{session_name}:#{window_index}.#{pane_index}",
         f"exec cat > {shlex.quote(str(out))}"],
        env=env, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    try:
        deadline = time.monotonic() + 10
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        yield env, target, out
    finally:
        subprocess.run(["tmux", "kill-server"], env=env, capture_output=True, timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_relay_types_into_a_tmux_pane_once_per_delivery(tmp_path, pane, redis_server: RedisServer) -> None:
    env, target, out = pane
    roster = write_roster(tmp_path / "agents.yaml", [{"id": "Agent-7", "transport": "tmux", "target": target}])
    relay = RelayProcess("box-2", roster, redis_server.url, tmp_path / "data", env=env).start()
    captain = Captain(redis_server.url)
    try:
        first, message = captain.send("box-2", "Agent-7", "first line for the pane")
        captain.send("box-2", "Agent-7", "", message=message, delivery=first)  # the same entry twice
        second, _ = captain.send("box-2", "Agent-7", "second line for the pane")
        final = captain.wait_final({first, second}, timeout=60)
        assert [final[d].state for d in (first, second)] == ["delivered", "delivered"], final
        assert captain.states_of(first) == ["sending", "delivered"]
        print(f"tmux receipt: verdict {final[first].verdict!r}, evidence {final[first].evidence!r}")
        assert final[first].verdict == "submitted" and final[first].evidence
        time.sleep(0.5)
        text = out.read_text()
        assert text.count("first line for the pane") == 1 and text.count("second line for the pane") == 1, text
        assert text.index("first line") < text.index("second line")
        assert "1 repeated entries ignored" in relay.stop()
    finally:
        relay.close()
