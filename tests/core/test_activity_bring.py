"""Bringing an agent forward: a tmux agent's pane selected (and shown by the attached client) on a
real tmux server of the test's own; agents with nothing to bring forward are refused clearly.
(A GUI agent's window being raised is driven on a real display: tests/x11/test_attention_x11.py.)"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from quarterdeck.core.activity.bring import BringError, bring, bring_forward
from quarterdeck.core.models import Agent, DryRunTransport, GuiTransport, InboxTransport, TmuxTransport

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Server:
    """A tmux server of its own (``TMUX_TMPDIR`` names a fresh folder for its socket)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="qd-bring-"))
        monkeypatch.setenv("TMUX_TMPDIR", str(self.folder))
        monkeypatch.delenv("TMUX", raising=False)
        self.clients: list[subprocess.Popen] = []

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True, timeout=10).stdout.strip()

    def attach(self, session: str) -> str:
        """A client attached to ``session`` in a pseudo-terminal (``script``); its name (tty)."""
        before = set(self("list-clients", "-F", "#{client_name}").split())
        self.clients.append(subprocess.Popen(["script", "-qfc", f"tmux attach -t {session}", "/dev/null"],
                                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL, env={**os.environ, "TERM": "xterm"}))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            new = set(self("list-clients", "-F", "#{client_name}").split()) - before
            if new:
                return new.pop()
            time.sleep(0.05)
        raise TimeoutError("the tmux client did not attach")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-server"], capture_output=True, timeout=10)
        for client in self.clients:
            client.stdin.close()
            client.kill()
            client.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def server(monkeypatch):
    if shutil.which("script") is None:
        pytest.skip("script (util-linux) is not installed")
    made = Server(monkeypatch)
    # the agent's pane is swarm:1.0; window 0 and pane 1.1 are in front to begin with
    made("-f", "/dev/null", "new-session", "-d", "-s", "swarm", "-x", "100", "-y", "30", "sleep 600")
    made("new-window", "-t", "swarm:1", "sleep 600")
    made("split-window", "-t", "swarm:1", "sleep 600")
    made("select-window", "-t", "swarm:0")
    made("-f", "/dev/null", "new-session", "-d", "-s", "other", "sleep 600")
    yield made
    made.close()


def tmux_agent(target: str = "swarm:1.0") -> Agent:
    return Agent(id="Agent-7", transport=TmuxTransport(target=target))


def test_with_no_client_the_pane_is_selected_and_the_attach_command_given(server):
    pane = server("display-message", "-p", "-t", "swarm:1.0", "#{pane_id}")
    brought = bring(tmux_agent())
    assert server("display-message", "-p", "-t", "swarm", "#{window_index}.#{pane_index} #{pane_id}") == f"1.0 {pane}"
    assert brought.attach == "tmux attach -t swarm"
    assert brought.text == (f"Agent-7: tmux pane {pane} (swarm:1.0) selected; no tmux client is attached: "
                            "run tmux attach -t swarm")
    assert bring_forward(tmux_agent()) == brought.text


def test_an_attached_client_on_another_session_is_switched_to_the_pane(server):
    client = server.attach("other")
    pane = server("display-message", "-p", "-t", "swarm:1.0", "#{pane_id}")
    text = bring_forward(tmux_agent())
    assert server("display-message", "-p", "-c", client, "#{session_name} #{pane_id}") == f"swarm {pane}"
    assert text.startswith(f"Agent-7: tmux pane {pane} (swarm:1.0) selected, shown in the client {client}")


def test_a_client_already_on_the_session_is_left_there_and_shows_the_pane(server):
    client = server.attach("swarm")
    pane = server("display-message", "-p", "-t", "swarm:1.0", "#{pane_id}")
    assert server("display-message", "-p", "-c", client, "#{pane_id}") != pane
    bring_forward(tmux_agent())
    assert server("display-message", "-p", "-c", client, "#{pane_id}") == pane


def test_a_pane_that_is_gone_is_a_clear_error(server):
    with pytest.raises(BringError, match=r"Agent-7's tmux pane swarm:5 cannot be selected: .*can't find window"):
        bring_forward(tmux_agent("swarm:5"))


@pytest.mark.parametrize(("transport", "said"), [
    (InboxTransport(path=Path("/srv/inbox/7")), "Agent-7 is reached through an inbox folder: it has no window or pane"),
    (DryRunTransport(), "Agent-7 is reached through a dry run: it has no window or pane"),
    (GuiTransport(chat=(400, 900)), "Agent-7 has a screen point but no window bound to it"),
])
def test_agents_with_nothing_to_bring_forward_are_refused_in_words(transport, said):
    with pytest.raises(BringError, match=said):
        bring_forward(Agent(id="Agent-7", transport=transport))
