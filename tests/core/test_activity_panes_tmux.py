"""TmuxPaneWatcher against real tmux panes that show the fixture screens in turn.

Each pane runs a small shell script: it clears the screen, prints one fixture and waits for a
key before the next; the test presses the key, waits until tmux shows the new screen and samples.
One private tmux server per test, killed after it.
"""
from __future__ import annotations

import shlex
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from quarterdeck.core.activity import events
from quarterdeck.core.activity.watch.panes import TmuxPaneWatcher
from quarterdeck.core.activity.watch.tmux_sample import TmuxUnavailable

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "panes"


class Server:
    def __init__(self) -> None:
        self.socket = f"qd-panes-{uuid.uuid4().hex[:10]}"
        self.tmux("new-session", "-d", "-s", "w", "-x", "120", "-y", "40", "sleep 600")
        self.tmux("set-option", "-g", "remain-on-exit", "on")

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()

    def slideshow(self, *names: str) -> str:
        """A new pane that shows each fixture until a key is pressed; exits after the last."""
        steps = [f"printf '\\033[H\\033[2J\\033[3J'; cat {shlex.quote(str(FIXTURES / n))}; read -r _" for n in names]
        return self.run("; ".join(steps))

    def run(self, script: str) -> str:
        return self.tmux("new-window", "-d", "-t", "w:", "-P", "-F", "#{pane_id}", "sh -c " + shlex.quote(script))

    def shows(self, pane: str, text: str, within: float = 5.0) -> None:
        deadline = time.monotonic() + within
        while text not in (screen := self.tmux("capture-pane", "-p", "-J", "-t", pane)):
            assert time.monotonic() < deadline, f"{text!r} not on {pane}:\n{screen}"
            time.sleep(0.05)

    def exited(self, pane: str, within: float = 5.0) -> None:
        deadline = time.monotonic() + within
        while self.tmux("display-message", "-p", "-t", pane, "#{pane_dead}") != "1":
            assert time.monotonic() < deadline, f"{pane} did not exit"
            time.sleep(0.05)

    def next(self, pane: str, text: str) -> None:
        self.tmux("send-keys", "-t", pane, "Enter")
        self.shows(pane, text)

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


@pytest.fixture
def server():
    one = Server()
    yield one
    one.kill()


def kinds(found: list[events.ActivityEvent]) -> dict[str, tuple[str, str | None]]:
    return {e.agent_id: (e.kind, e.waits_for) for e in found}


def test_each_screen_change_is_one_event_and_an_unchanged_screen_none(server):
    claude = server.slideshow("claude-code/idle.real.txt", "claude-code/busy.real.txt",
                              "claude-code/permission-bash.real.txt", "claude-code/api-error-429.real.txt",
                              "claude-code/session-limit.source.txt")
    codex = server.slideshow("codex/idle.real.txt", "codex/busy-working.real.txt", "codex/usage-limit.real.txt")
    aider = server.slideshow("aider/question-git-repo.real.txt", "aider/busy.real.txt")
    server.shows(claude, "auto mode on")
    server.shows(codex, "Ask Codex to do anything")
    server.shows(aider, "No git repo found")
    watcher = TmuxPaneWatcher([("A-claude", claude, "claude-code"), ("A-codex", codex, "codex"),
                               ("A-aider", aider, "aider")], socket=server.socket)
    now = time.time()
    first = watcher.sample(now)
    assert kinds(first) == {"A-claude": ("seen_idle", None), "A-codex": ("seen_idle", None),
                            "A-aider": ("seen_needs_you", "question")}
    assert all(e.source == events.TMUX_WATCH and e.at == now for e in first)
    assert watcher.sample(now + 1) == [] and watcher.sample(now + 2) == []

    server.next(claude, "Hullaballooing")
    assert kinds(watcher.sample(now + 3)) == {"A-claude": ("seen_working", None)}
    server.next(codex, "Working (")
    server.next(aider, "Waiting for gpt-4o")
    assert kinds(watcher.sample(now + 4)) == {"A-codex": ("seen_working", None), "A-aider": ("seen_working", None)}
    server.next(claude, "Do you want to proceed?")
    (ask,) = watcher.sample(now + 5)
    assert (ask.kind, ask.waits_for, ask.name, ask.text) == (
        "seen_needs_you", "permission", "permission prompt in pane", "Do you want to proceed?")
    server.next(claude, "Request rejected (429)")
    (limited,) = watcher.sample(now + 6)
    assert limited.kind == "seen_rate_limited" and limited.detail is None
    server.next(claude, "session limit")
    (timed,) = watcher.sample(now + 7)  # the same kind, now with a reset time: a new state
    assert timed.kind == "seen_rate_limited" and timed.detail and timed.detail.endswith(":00:00Z")
    assert timed.name.startswith("usage limit in pane (resets ")
    server.next(codex, "hit your usage limit")
    (codex_limit,) = watcher.sample(now + 8)
    assert codex_limit.agent_id == "A-codex" and codex_limit.kind == "seen_rate_limited"
    assert watcher.sample(now + 9) == []
    assert watcher.tmux_calls and set(watcher.tmux_calls) == {1}  # one tmux process per sample

    server.tmux("send-keys", "-t", claude, "Enter")  # the script ends: remain-on-exit keeps the pane
    server.exited(claude)
    (ended,) = watcher.sample(now + 10)
    assert (ended.agent_id, ended.kind, ended.name) == ("A-claude", "seen_offline", "program exited in pane")
    server.tmux("kill-pane", "-t", codex)
    (gone,) = watcher.sample(now + 11)
    assert (gone.agent_id, gone.kind, gone.name) == ("A-codex", "seen_offline", "pane gone")
    assert watcher.tmux_calls[-1] == 2  # the pane after the gone one was read in a second call
    assert watcher.sample(now + 12) == []
    assert watcher.current()["A-aider"] is not None and watcher.current()["A-aider"].kind == "seen_working"


def test_a_plain_program_is_working_while_its_screen_changes_then_idle(server):
    pane = server.run("for i in 1 2 3 4 5 6 7 8; do echo step $i; sleep 0.25; done; echo done; sleep 600")
    watcher = TmuxPaneWatcher([("A-plain", pane, "plain")], socket=server.socket, quiet_after=1.0)
    server.shows(pane, "step 1")
    start = time.time()
    assert watcher.sample(start) == []  # one look: not yet known whether it changes
    server.shows(pane, "step 3")
    (working,) = watcher.sample(time.time())
    assert (working.kind, working.name) == ("seen_working", "screen changing")
    server.shows(pane, "done")
    time.sleep(0.1)
    settled = time.time()
    assert watcher.sample(settled) == []  # changed just now: still working
    (idle,) = watcher.sample(settled + 1.5)
    assert (idle.kind, idle.name) == ("seen_idle", "screen quiet 1 s")
    assert watcher.sample(settled + 10) == []


def test_a_quiet_pane_seen_first_is_idle_after_quiet_after(server):
    pane = server.run("echo ready; sleep 600")
    server.shows(pane, "ready")
    watcher = TmuxPaneWatcher([("A-plain", pane, "plain")], socket=server.socket, quiet_after=2.0)
    now = time.time()
    assert watcher.sample(now) == [] and watcher.sample(now + 1) == []
    assert kinds(watcher.sample(now + 2)) == {"A-plain": ("seen_idle", None)}


def test_a_resize_redraws_the_pane_but_is_no_work(server):
    # a client attaching in a smaller terminal resizes the pane: the text re-wraps, nobody worked
    pane = server.run("for i in $(seq 1 30); do echo a long line of text that will wrap number $i; done; sleep 600")
    server.shows(pane, "number 30")
    watcher = TmuxPaneWatcher([("A", pane, "plain")], socket=server.socket, quiet_after=2.0)
    now = time.time()
    watcher.sample(now)
    assert kinds(watcher.sample(now + 2)) == {"A": ("seen_idle", None)}
    before = server.tmux("capture-pane", "-p", "-J", "-t", pane)
    server.tmux("resize-window", "-t", pane, "-x", "50", "-y", "12")
    deadline = time.monotonic() + 5
    while server.tmux("capture-pane", "-p", "-J", "-t", pane) == before:
        assert time.monotonic() < deadline, "the resize changed nothing on the screen"
        time.sleep(0.05)
    assert watcher.sample(now + 3) == []  # redrawn, not working
    assert watcher.sample(now + 6) == []  # and still idle after the settle time
    # a real change after the resize settled is work again
    server.tmux("respawn-pane", "-k", "-t", pane, "sh -c 'echo fresh output; sleep 600'")
    server.shows(pane, "fresh output")
    assert kinds(watcher.sample(now + 8)) == {"A": ("seen_working", None)}


def test_a_busy_screen_without_progress_is_stalled_until_it_moves(server):
    pane = server.slideshow("codex/busy-working.real.txt", "codex/busy-reconnecting.real.txt")
    server.shows(pane, "Working (")
    watcher = TmuxPaneWatcher([("A-codex", pane, "codex")], socket=server.socket, stall_after=60)
    now = time.time()
    assert kinds(watcher.sample(now)) == {"A-codex": ("seen_working", None)}
    assert watcher.sample(now + 59) == []
    (stalled,) = watcher.sample(now + 61)
    assert stalled.kind == "seen_stalled" and stalled.name == "no progress in pane for 1 min while working"
    assert "esc to interrupt" in (stalled.text or "")
    server.next(pane, "Reconnecting")
    assert kinds(watcher.sample(now + 62)) == {"A-codex": ("seen_working", None)}


def test_a_ticking_timer_alone_is_no_progress(server):
    pane = server.run("i=0; while :; do printf '\\033[H\\033[2J◦ Working (%ss • esc to interrupt)\\n› Ask\\n' $i; "
                      "i=$((i+1)); sleep 0.3; done")
    server.shows(pane, "Working (")
    watcher = TmuxPaneWatcher([("A-codex", pane, "codex")], socket=server.socket, stall_after=1.0)
    now = time.time()
    assert kinds(watcher.sample(now)) == {"A-codex": ("seen_working", None)}
    time.sleep(0.7)  # the timer moved on screen
    (stalled,) = watcher.sample(now + 1.5)
    assert stalled.kind == "seen_stalled"


def test_an_agent_that_ended_back_at_the_shell_is_offline_whatever_its_screen_still_shows(server):
    # an interactive shell in the pane runs "the agent" (a screen left behind and a pause), then
    # waits at its prompt below that screen
    shell = server.tmux("new-window", "-d", "-t", "w:", "-P", "-F", "#{pane_id}",
                        "env -i PS1='$ ' TERM=xterm-256color PATH=/usr/bin:/bin bash --norc --noprofile")
    server.shows(shell, "$")
    watcher = TmuxPaneWatcher([("A-claude", shell, "claude-code"), ("A-plain", shell, "plain")],
                              socket=server.socket)
    fixture = FIXTURES / "claude-code" / "api-error-429.real.txt"
    server.tmux("send-keys", "-t", shell, f"clear; cat {shlex.quote(str(fixture))}; sleep 2", "Enter")
    server.shows(shell, "Request rejected (429)")
    now = time.time()
    assert kinds(watcher.sample(now))["A-claude"] == ("seen_rate_limited", None)  # sleep holds the terminal
    deadline = time.monotonic() + 5
    while not (found := watcher.sample(time.time())) and time.monotonic() < deadline:
        time.sleep(0.2)
    ended = {e.agent_id: e for e in found}
    assert (ended["A-claude"].kind, ended["A-claude"].name) == ("seen_offline", "agent ended: shell prompt in pane")
    assert watcher.current()["A-plain"] is not None and watcher.current()["A-plain"].kind == "seen_idle"


def test_a_target_that_names_a_pane_again_starts_afresh(server):
    server.tmux("new-window", "-d", "-t", "w:", "-n", "cx", "echo first; sleep 600")
    server.shows("w:cx", "first")
    watcher = TmuxPaneWatcher([("A-1", "w:cx", "codex")], socket=server.socket, quiet_after=2)
    now = time.time()
    assert watcher.sample(now) == []
    assert kinds(watcher.sample(now + 3)) == {"A-1": ("seen_idle", None)}
    server.tmux("kill-window", "-t", "w:cx")
    assert kinds(watcher.sample(now + 4)) == {"A-1": ("seen_offline", None)}
    server.tmux("new-window", "-d", "-t", "w:", "-n", "cx", "echo second; sleep 600")
    server.shows("w:cx", "second")
    assert watcher.sample(now + 5) == []  # a new screen without a pattern: one look tells nothing yet
    (back,) = watcher.sample(now + 7)
    assert (back.kind, back.name) == ("seen_idle", "screen quiet 2 s, no input prompt seen")


def test_a_server_that_is_gone_makes_every_pane_gone(server):
    pane = server.run("echo hi; sleep 600")
    server.shows(pane, "hi")
    watcher = TmuxPaneWatcher([("A-1", pane, "plain"), ("A-2", "w:0", "plain")], socket=server.socket)
    watcher.sample(time.time())
    server.kill()
    assert {(e.agent_id, e.kind, e.name) for e in watcher.sample(time.time() + 10)} == {
        ("A-1", "seen_offline", "pane gone"), ("A-2", "seen_offline", "pane gone")}


def test_an_unknown_agent_kind_is_refused_when_the_watcher_is_made():
    with pytest.raises(ValueError, match="no screen patterns for agent kind 'windsurf'"):
        TmuxPaneWatcher([("A-1", "%1", "windsurf")])


def test_without_tmux_a_sample_says_so_and_reports_nothing():
    watcher = TmuxPaneWatcher([("A-1", "%1", "plain")], binary="qd-no-such-tmux")
    with pytest.raises(TmuxUnavailable, match="tmux is not installed"):
        watcher.sample(time.time())
    assert watcher.current() == {"A-1": None}
