"""`quarterdeck send --broadcast` as a user runs it: the installed command, three xterm chat panes
(GUI transport) and two panes of a private tmux server, each pane running ``cat > FILE``."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
import yaml
from xterm_desk import XTERM_PASTE, wait_until

ROOT = Path(__file__).resolve().parents[2]
QUARTERDECK = Path(sys.executable).with_name("quarterdeck")  # the command installed beside this Python

TEXT = (
    "Status check é 你好 🚀\n"
    "echo \"$HOME\" `whoami` $(id -u) 'single' \\backslash ; ls | wc -l & cat > out < in\n"
    "last line: done."
)

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class PrivateTmux:
    """A tmux server of its own: ``TMUX_TMPDIR`` names a fresh folder for its socket, so the
    roster's plain ``target`` reaches it from any process started with ``env``."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="qd-tmux-"))
        self.env = {key: value for key, value in os.environ.items() if key != "TMUX"}
        self.env["TMUX_TMPDIR"] = str(self.folder)
        self.session = f"qd-e2e-{uuid.uuid4().hex[:8]}"
        self.started = False

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", *args], env=self.env, capture_output=True, text=True,
                              timeout=10, check=True)
        return done.stdout.strip()

    def cat_pane(self, out: Path) -> str:
        """A new pane whose shell runs ``cat > out``; returns its ``session:window.pane`` target."""
        command = f"exec cat > {shlex.quote(str(out))}"
        where = "#{session_name}:#{window_index}.#{pane_index}"
        if not self.started:
            self.started = True
            target = self.tmux("-f", "/dev/null", "new-session", "-d", "-s", self.session,
                               "-x", "160", "-y", "40", "-P", "-F", where, command)
        else:
            target = self.tmux("split-window", "-t", f"{self.session}:", "-P", "-F", where, command)
        wait_until(out.exists, f"cat in tmux pane {target}")
        return target

    def close(self) -> None:
        if self.started:
            subprocess.run(["tmux", "kill-server"], env=self.env, capture_output=True, timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def private_tmux():
    server = PrivateTmux()
    yield server
    server.close()


def quarterdeck(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(QUARTERDECK), *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def expected_for(agent_id: str) -> bytes:
    return f"[C2A] Captain → {agent_id} | BROADCAST\n{TEXT}\n".encode()


@pytest.mark.x11
def test_broadcast_from_the_command_line_reaches_xterms_and_tmux_panes_byte_for_byte(
        xterms, empty_clipboard, private_tmux, tmp_path):
    terms = xterms(3)
    panes = [(f"Tmux-{n}", private_tmux.cat_pane(tmp_path / f"tmux-{n}.txt"), tmp_path / f"tmux-{n}.txt")
             for n in (1, 2)]
    agents = [{"id": f"Gui-{n}", "transport": "gui", "chat": list(term.point),
               "paste_keys": list(XTERM_PASTE), "submit_keys": ["enter"]}
              for n, term in enumerate(terms, 1)]
    agents += [{"id": agent_id, "transport": "tmux", "target": target} for agent_id, target, _ in panes]
    roster = tmp_path / "agents.yaml"
    roster.write_text(yaml.safe_dump({"agents": agents}, allow_unicode=True), encoding="utf-8")
    env = {**private_tmux.env, "QUARTERDECK_DATA_DIR": str(tmp_path / "data"),
           "QUARTERDECK_CONFIG_DIR": str(tmp_path / "config"), "LC_ALL": "C.UTF-8"}

    sent = quarterdeck(env, "send", "--roster", str(roster), "--broadcast", "-m", TEXT)

    assert sent.returncode == 0, sent.stdout + sent.stderr
    outcomes = {line.split()[0]: line.split()[1] for line in sent.stdout.splitlines()}
    # xterms give no read-back (unverified); the tmux panes show the text leave the input (submitted)
    assert outcomes == {agent["id"]: "unverified" if agent["id"].startswith("Gui") else "submitted"
                        for agent in agents}, sent.stdout
    assert len(sent.stdout.splitlines()) == len(agents)
    for n, term in enumerate(terms, 1):
        assert term.wait_for(expected_for(f"Gui-{n}")) == expected_for(f"Gui-{n}")
    for agent_id, _, out in panes:
        wait_until(lambda out=out, agent_id=agent_id: len(out.read_bytes()) >= len(expected_for(agent_id)),
                   f"{agent_id}'s text")
        assert out.read_bytes() == expected_for(agent_id)

    history = quarterdeck(env, "history", "--json")
    assert history.returncode == 0, history.stderr
    listed = json.loads(history.stdout)
    assert listed["total"] == len(agents)
    assert sorted((row["agent"], row["state"], row["content"]) for row in listed["rows"]) == sorted(
        (agent["id"], "delivered", TEXT) for agent in agents)
    assert len({row["message_id"] for row in listed["rows"]}) == 1
