"""The panel watches the roster's panes when no other process does (gui/activity/watching.py):
a real tmux pane's work reaches the activity feed; a second panel on the same data folder reads."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from quarterdeck.core.models import Agent, TmuxTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.activity.feed import feed_for
from quarterdeck.gui.activity.watching import PanelWatching

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


@pytest.fixture
def tmux_server(tmp_path, monkeypatch):
    folder = tmp_path / "tmux"
    folder.mkdir()
    monkeypatch.setenv("TMUX_TMPDIR", str(folder))
    monkeypatch.delenv("TMUX", raising=False)
    yield
    subprocess.run(["tmux", "kill-server"], capture_output=True, check=False)


def test_the_panel_watches_a_pane_and_the_feed_shows_it(make_ctx, qtbot, tmux_server):
    script = "for i in 1 2 3 4 5 6; do echo compiling $i; sleep 0.3; done; exec sleep 120"
    subprocess.run(["tmux", "new-session", "-d", "-s", "p", "sh", "-c", script], check=True)
    ctx = make_ctx(roster=Roster((Agent(id="Builder", transport=TmuxTransport(target="p:0.0")),)))
    states: list[str] = []
    feed_for(ctx).sig_activities.connect(lambda found, _now: states.append(found["Builder"].state))
    watching = PanelWatching(ctx)
    watching.start()
    try:
        assert watching.watching
        qtbot.waitUntil(lambda: "working" in states, timeout=15_000)
        qtbot.waitUntil(lambda: states[-1] == "idle", timeout=20_000)
        # a second panel on the same data folder leaves the watching to the first
        other = PanelWatching(ctx)
        with qtbot.waitSignal(ctx.sig_status, timeout=2000) as said:
            other.start()
        assert not other.watching
        assert "watches the agents' panes and windows" in said.args[0]
        other.shutdown()
    finally:
        watching.shutdown()
    assert not watching.watching and watching.lock.claim()  # released for the next one
    watching.lock.release()
