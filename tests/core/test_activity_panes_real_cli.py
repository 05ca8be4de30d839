"""TmuxPaneWatcher on the real agent CLIs' first screens (``.agent-clis``, offline).

Seeded as tests/core/test_tmux_real_agents.py seeds them, each CLI reaches its input prompt: the
watcher must say idle, by its input prompt. Without credentials Codex shows its sign-in screen:
the watcher must say it needs you to log in. A CLI that is not installed is skipped, saying how.
"""
from __future__ import annotations

import os
import shlex
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from test_tmux_real_agents import CLAUDE, CODEX, INSTALL, Agent, Cli, agent_env

from quarterdeck.core.activity import events
from quarterdeck.core.activity.watch.panes import TmuxPaneWatcher

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def scratch(cli: Cli) -> Path:
    if not cli.path.exists():
        pytest.skip(f"{cli.package} is not installed: {INSTALL}")
    # Not under /tmp: Codex refuses to put its helper links there (it warns and goes on).
    where = "/var/tmp" if os.path.isdir("/var/tmp") else None
    return Path(tempfile.mkdtemp(prefix=f"qd-panes-{cli.binary}-", dir=where))


def watch_until(agent: Agent, kind: str, seen_kind: str, within: float = 25.0) -> events.ActivityEvent:
    """Sample once a second until the watcher reports ``seen_kind``; the event."""
    watcher = TmuxPaneWatcher([("Agent-1", agent.pane, kind)], socket=agent.socket)
    deadline = time.monotonic() + within
    reported: list[events.ActivityEvent] = []
    while time.monotonic() < deadline:
        reported += watcher.sample(time.time())
        if reported and reported[-1].kind == seen_kind:
            return reported[-1]
        time.sleep(1.0)
    pytest.fail(f"{agent.cli.binary} {agent.cli.version()}: the watcher reported {reported} "
                f"instead of {seen_kind}; its screen:\n{agent.shows()}")


def cleanup(agent: Agent, tmp: Path) -> None:
    agent.kill()
    for _ in range(40):
        shutil.rmtree(tmp, ignore_errors=True)
        if not tmp.exists():
            break
        time.sleep(0.05)


@pytest.mark.parametrize("cli", [CODEX, CLAUDE], ids=lambda cli: cli.binary)
def test_a_real_cli_at_its_prompt_is_seen_idle(cli):
    tmp = scratch(cli)
    agent = Agent(cli, tmp)
    try:
        agent.start()
        agent.wait_for_prompt()
        seen = watch_until(agent, cli.kind, events.SEEN_IDLE)
        assert seen.name == "input prompt in pane", seen
        assert seen.text and seen.text.startswith(cli.prompt), seen
        assert seen.source == events.TMUX_WATCH
    finally:
        cleanup(agent, tmp)


def test_codex_without_credentials_is_seen_waiting_for_a_login():
    tmp = scratch(CODEX)
    agent = Agent(CODEX, tmp)
    try:
        (agent.home / ".codex").mkdir(parents=True)
        env = agent_env(agent.home, {"CODEX_HOME": str(agent.home / ".codex")})
        command = "exec env -i " + " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(env.items()))
        agent.started = True
        agent.pane = agent.tmux("new-session", "-d", "-s", "agent", "-x", "120", "-y", "40", "-c", str(agent.cwd),
                                "-P", "-F", "#{pane_id}", f"{command} {shlex.quote(str(CODEX.path))}")
        seen = watch_until(agent, CODEX.kind, events.SEEN_NEEDS_YOU)
        assert (seen.waits_for, seen.name) == (events.LOGIN, "login screen in pane"), seen
        assert "Sign in with ChatGPT" in (seen.text or "")
    finally:
        cleanup(agent, tmp)
