"""TmuxDelivery into the real agent CLIs, each at its own input prompt in a private tmux server.

``scripts/install-agent-clis.sh`` (run by ``scripts/bootstrap.sh``) installs pinned versions of
Codex CLI (npm ``@openai/codex``) and Claude Code (npm ``@anthropic-ai/claude-code``) into
``.agent-clis/``; a CLI that is not there is skipped, saying how to install it. Each CLI runs in a
temporary HOME and working folder with a dummy API key, its telemetry, update checks and error
reports switched off by the variables and settings it documents, and its API pointed at a closed
local port, so nothing leaves the machine: a submitted message ends in a connection error printed
below it, which is fine here. Its first-run screens are skipped by seeding its config (onboarding
done, folder trusted, key approved, logged in with the key) and, should one still show, answered
with send-keys. Each test checks the verdict, that it names its evidence, and that the message
left the input line (the rows from the prompt down to the cursor).
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from quarterdeck.core.delivery.contract import DeliveryRequest
from quarterdeck.core.delivery.errors import SUBMITTED
from quarterdeck.core.transports.tmux.client import TmuxClient
from quarterdeck.core.transports.tmux.transport import TmuxDelivery
from quarterdeck.core.transports.tmux.verdict import compact, read_input, tail_needle

ROOT = Path(__file__).resolve().parents[2]
CLIS = Path(os.environ.get("AGENT_CLIS_DIR") or ROOT / ".agent-clis")
if not CLIS.is_absolute():
    CLIS = ROOT / CLIS
INSTALL = "run scripts/install-agent-clis.sh (needs node and npm)"
READY_WITHIN = 25.0  # seconds for a CLI to show its input prompt; seen: Codex ~1 s, Claude ~2-9 s

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

# Nothing listens on port 9 (discard) here: API calls fail at once, offline, without DNS.
CLOSED = "http://127.0.0.1:9"
QUIET = {
    "NO_UPDATE_NOTIFIER": "1",
    "NPM_CONFIG_UPDATE_NOTIFIER": "false",
    "DO_NOT_TRACK": "1",
}


@dataclass
class Cli:
    """How to bring one agent CLI to its input prompt."""

    kind: str  # the TmuxDelivery agent kind
    package: str
    binary: str
    prompt: str  # the character that starts the input line
    env: Callable[[Path], dict[str, str]]
    seed: Callable[[Path, Path, Path], None]  # (binary, home, cwd) -> writes its config
    # first-run screens: (regular expression over the screen, tmux keys that answer it)
    screens: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @property
    def path(self) -> Path:
        return CLIS / "node_modules" / ".bin" / self.binary

    def version(self) -> str:
        try:
            meta = json.loads((CLIS / "node_modules" / self.package / "package.json").read_text())
        except (OSError, ValueError):
            return "?"
        return meta.get("version", "?")


CODEX_KEY = "sk-dummy-quarterdeck-0000000000000000000000"
CLAUDE_KEY = "sk-ant-api03-dummy-quarterdeck-00000000000000000000"


def codex_env(home: Path) -> dict[str, str]:
    return {"CODEX_HOME": str(home / ".codex"), "OPENAI_API_KEY": CODEX_KEY,
            "OPENAI_BASE_URL": f"{CLOSED}/v1"}


def codex_seed(binary: Path, home: Path, cwd: Path) -> None:
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(
        f"openai_base_url = \"{CLOSED}/v1\"\n"
        "check_for_update_on_startup = false\n"
        "hide_full_access_warning = true\n"
        "[analytics]\nenabled = false\n"
        "[feedback]\nenabled = false\n"
        f"[projects.{json.dumps(str(cwd))}]\ntrust_level = \"trusted\"\n",
        encoding="utf-8",
    )
    # Logged in with an API key, so it skips its sign-in screen (checked only on a request).
    subprocess.run([str(binary), "login", "--with-api-key"], input=CODEX_KEY, text=True,
                   capture_output=True, timeout=30, cwd=cwd, env=agent_env(home, codex_env(home)),
                   check=True)


def claude_env(home: Path) -> dict[str, str]:
    return {
        "ANTHROPIC_API_KEY": CLAUDE_KEY,
        "ANTHROPIC_BASE_URL": CLOSED,
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",  # = autoupdater, telemetry, error reports off
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
    }


def claude_seed(binary: Path, home: Path, cwd: Path) -> None:
    config = {
        "hasCompletedOnboarding": True,
        "theme": "dark",
        "autoUpdates": False,
        "customApiKeyResponses": {"approved": [CLAUDE_KEY[-20:]], "rejected": []},
        "projects": {str(cwd): {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True}},
    }
    conf = home / ".claude"
    conf.mkdir(parents=True, exist_ok=True)
    for where in (conf / ".claude.json", home / ".claude.json"):
        where.write_text(json.dumps(config), encoding="utf-8")


CLAUDE = Cli(
    "claude-code", "@anthropic-ai/claude-code", "claude", "❯", claude_env, claude_seed,
    screens=(
        (r"Yes, I trust this folder", ("2",)),  # "Quick safety check" of the folder
        (r"(?i)use this API key\?", ("Up", "Enter")),  # 1. Yes / 2. No (recommended)
        (r"(?i)choose the text style", ("Enter",)),  # theme
        (r"(?i)press enter to continue", ("Enter",)),
    ),
)
CODEX = Cli(
    "codex", "@openai/codex", "codex", "›", codex_env, codex_seed,
    screens=(
        (r"(?i)do you trust the (contents|files) of this|trust this folder\?", ("1",)),
        (r"(?i)update available", ("Escape",)),
        (r"(?i)press enter to continue", ("Enter",)),
    ),
)


def agent_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TMUX", "OPENAI_", "ANTHROPIC_", "CLAUDE", "CODEX"))}
    env.update(QUIET, HOME=str(home), TERM="xterm-256color", LANG=env.get("LANG", "C.UTF-8"), **extra)
    return env


class Agent:
    """One CLI at its prompt in its own private tmux server."""

    def __init__(self, cli: Cli, tmp: Path) -> None:
        self.cli = cli
        self.socket = f"qd-real-{uuid.uuid4().hex[:12]}"
        self.home = tmp / "home"
        self.cwd = self.home / "project"
        self.cwd.mkdir(parents=True)
        self.pane = ""
        self.started = False

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              timeout=10, check=True)
        return done.stdout.strip()

    def start(self) -> None:
        self.cli.seed(self.cli.path, self.home, self.cwd)
        env = agent_env(self.home, self.cli.env(self.home))
        command = "exec env -i " + " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(env.items()))
        command += " " + shlex.quote(str(self.cli.path))
        self.started = True
        self.pane = self.tmux("new-session", "-d", "-s", "agent", "-x", "160", "-y", "40",
                              "-c", str(self.cwd), "-P", "-F", "#{pane_id}", command)
        self.tmux("set-option", "-t", "agent", "remain-on-exit", "on")

    def shows(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-t", self.pane)

    def dead(self) -> bool:
        return self.tmux("display-message", "-p", "-t", self.pane, "#{pane_dead}") == "1"

    def input_rows(self) -> list[str]:
        """The input line: the rows from the last prompt row at or above the cursor, to the cursor."""
        _, screen = TmuxClient(self.pane, self.socket).screen(self.pane)
        rows = screen.upto_cursor()
        for start in range(len(rows) - 1, -1, -1):
            if rows[start].lstrip().startswith(self.cli.prompt):
                return rows[start:]
        return rows[-1:]

    def at_prompt(self) -> bool:
        try:
            rows = self.input_rows()
        except subprocess.SubprocessError:
            return False
        return bool(rows) and rows[0].lstrip().startswith(self.cli.prompt)

    def wait_for_prompt(self, within: float = READY_WITHIN) -> float:
        """Answer first-run screens until the input prompt shows; the seconds it took."""
        began = time.monotonic()
        answered: dict[str, int] = {}
        stable = same = 0
        last = ""
        while True:
            screen = self.shows()
            if self.dead():
                pytest.skip(f"{self.cli.binary} {self.cli.version()} exited before its prompt:\n{screen}")
            for pattern, keys in self.cli.screens:
                if re.search(pattern, screen) and answered.get(pattern, 0) < 3:
                    answered[pattern] = answered.get(pattern, 0) + 1
                    self.tmux("send-keys", "-t", self.pane, *keys)
                    time.sleep(0.5)
                    break
            else:
                # the prompt, and the same screen for a second (five polls): the CLI has settled. A
                # slow host showed Codex's prompt while it was still starting, and the Enter pressed
                # then was taken seconds later. A screen that keeps changing at the prompt (a clock)
                # is taken after ten polls with the prompt.
                stable = stable + 1 if self.at_prompt() else 0
                same = same + 1 if stable and screen == last else 0
                last = screen
                if same >= 5 or stable >= 10:
                    return time.monotonic() - began
            if time.monotonic() - began > within:
                pytest.skip(f"{self.cli.binary} {self.cli.version()} did not reach its input prompt "
                            f"offline within {within:.0f} s; its screen:\n{screen}")
            time.sleep(0.2)

    def kill(self) -> None:
        if self.started:
            subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)
        # Codex 0.169.0 starts a detached app-server daemon from its CODEX_HOME that outlives the
        # pane: end every process run from this agent's private HOME, by its id.
        for _ in range(20):
            left = processes_under(self.home)
            if not left:
                return
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)


def processes_under(home: Path) -> list[int]:
    """Ids of the processes whose command line names a path under ``home``."""
    mark = str(home).encode() + b"/"
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if mark in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(params=[CODEX, CLAUDE], ids=lambda cli: cli.binary)
def agent(request):
    cli: Cli = request.param
    if not cli.path.exists():
        pytest.skip(f"{cli.package} is not installed in {CLIS}: {INSTALL}")
    # Not under /tmp: Codex refuses to put its helper links there (it warns and goes on).
    tmp = Path(tempfile.mkdtemp(prefix=f"qd-{cli.binary}-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
    one = Agent(cli, tmp)
    try:
        one.start()
        one.wait_for_prompt()
        yield one
    finally:
        one.kill()
        for _ in range(40):  # a CLI may still write its session files as it exits
            shutil.rmtree(tmp, ignore_errors=True)
            if not tmp.exists():
                break
            time.sleep(0.05)


def deliver(agent: Agent, text: str):
    transport = TmuxDelivery(agent.pane, socket=agent.socket, agent=agent.cli.kind)
    return transport.deliver(DeliveryRequest(agent_id="Agent-1", text=text), threading.Event())


def still_in_input(agent: Agent, text: str, token: str) -> str | None:
    """Why the message still looks to be in the input line, or None."""
    line = "\n".join(agent.input_rows())
    if token in line:
        return f"the message is in the input line:\n{line}"
    if re.search(r"\[Pasted", line):
        return f"the paste placeholder is in the input line:\n{line}"
    _, screen = TmuxClient(agent.pane, agent.socket).screen(agent.pane)
    if read_input(screen, compact(tail_needle(text))).at_cursor:
        return "the text before the cursor ends with the message"
    return None


def assert_left_the_input(agent: Agent, text: str, token: str, within: float = 3.0) -> None:
    """The input no longer holds the message, on two reads in a row: Codex redraws its whole
    screen as it moves a submitted message into its history, and a read in between may see the
    old input row at the bottom."""
    deadline = time.monotonic() + within
    clear = 0
    while clear < 2:
        why = still_in_input(agent, text, token)
        clear = 0 if why else clear + 1
        assert time.monotonic() < deadline or not why, f"{why}\n---\n{agent.shows()}"
        time.sleep(0.1)


def test_a_short_message_is_submitted_on_the_first_enter(agent):
    token = f"qd{uuid.uuid4().hex[:8]}"
    text = f"reply with the word {token}"
    receipt = deliver(agent, text)
    assert receipt.verdict == SUBMITTED, f"{receipt.detail}\n{agent.shows()}"
    assert receipt.evidence, receipt.detail
    assert "press 2" not in receipt.detail, receipt.detail
    assert_left_the_input(agent, text, token)


def test_a_long_multiline_paste_shown_as_a_placeholder_is_submitted(agent):
    # Over 1000 characters: Codex shows "[Pasted Content N chars]", Claude Code
    # "[Pasted text #1 +N lines]" in the input instead of the text.
    token = f"qd{uuid.uuid4().hex[:8]}"
    steps = [f"step {i}: run the whole suite again and report every failure with its traceback "
             f"and the fix you tried ({token}-{i})" for i in range(1, 13)]
    text = "please do these in order\n" + "\n".join(steps) + f"\nthen stop {token}"
    assert len(text) > 1000 and text.count("\n") >= 12
    receipt = deliver(agent, text)
    assert receipt.verdict == SUBMITTED, f"{receipt.detail}\n{agent.shows()}"
    assert receipt.evidence, receipt.detail
    assert "paste placeholder seen" in receipt.detail, receipt.detail
    assert "press 2" not in receipt.detail, receipt.detail
    assert_left_the_input(agent, text, token)
