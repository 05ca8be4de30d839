"""A whole fleet of real parts for fault tests (issue 14): one real redis-server, two ``quarterdeck
relay`` processes with inbox agents (and a tmux pane on the first), and the captain as separate
``quarterdeck`` processes (``send --broadcast``, ``history --json``, ``agents list --json``).

``Fleet.account()`` is the check every fault test ends with: each delivery the captain's history
holds is accounted for (delivered, failed, cancelled, uncertain, or queued with a reason), none
arrived twice anywhere, a delivered one arrived exactly once, a cancelled or not-typed one never.
``SkewedRelay`` runs a relay under ``faketime`` (its wall clock off by ``offset`` seconds).
"""
from __future__ import annotations

import glob
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from relay_parts import ROOT, RelayProcess, inbox_texts, write_roster

FINAL = {"delivered", "failed", "cancelled", "uncertain", "expired"}
SHIM = Path(__file__).resolve().parent / "faketime_shim"


class Pane:
    """A tmux pane on a server of its own running ``cat > FILE``: what was submitted is in the file."""

    def __init__(self, folder: Path) -> None:
        self.tmux_dir = Path(tempfile.mkdtemp(prefix="qd-fleet-tmux-"))
        self.env = {k: v for k, v in os.environ.items() if k != "TMUX"}
        self.env["TMUX_TMPDIR"] = str(self.tmux_dir)
        self.out = folder / "pane.txt"
        self.target = subprocess.run(
            ["tmux", "-f", "/dev/null", "new-session", "-d", "-s", f"fleet-{uuid.uuid4().hex[:8]}", "-x", "160",
             "-y", "40", "-P", "-F", "#{session_name}:#{window_index}.#{pane_index}",
             f"exec cat > {shlex.quote(str(self.out))}"],
            env=self.env, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        deadline = time.monotonic() + 10
        while not self.out.exists() and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-server"], env=self.env, capture_output=True, timeout=10)
        shutil.rmtree(self.tmux_dir, ignore_errors=True)


def libfaketime() -> str:
    """libfaketime's path (Debian package libfaketime, pulled in by faketime)."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1")) + sorted(
        glob.glob("/usr/lib/faketime/libfaketime.so.1"))
    if not found:
        pytest.skip("missing tools: libfaketime is not installed (Debian package faketime)")
    return found[0]


def skewed_env(offset: float) -> dict[str, str]:
    """What ``faketime -f +30s`` sets, for the process itself (the wrapper forks: kill -9 must reach the
    relay): libfaketime preloaded, the wall clock ``offset`` seconds off, the monotonic one true."""
    return {"LD_PRELOAD": libfaketime(), "FAKETIME": f"{offset:+.0f}", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "PYTHONPATH": os.pathsep.join(p for p in (str(SHIM), os.environ.get("PYTHONPATH", "")) if p)}


class SkewedRelay(RelayProcess):
    """A relay whose wall clock is ``offset`` seconds off (libfaketime; see faketime_shim)."""

    def __init__(self, *args: object, offset: float, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.env.update(skewed_env(offset))


class Fleet:
    """Relays M1 (inbox agents A1.., a tmux pane agent T1) and M2 (inbox agents B1..); the captain has
    one local inbox agent L1. ``stagger``: a relay's --stagger (default 0); ``skew``: a relay's clock offset."""

    def __init__(self, tmp_path: Path, url: str, *, per_relay: int = 6, stagger: dict[str, float] | None = None,
                 skew: dict[str, float] | None = None) -> None:
        self.tmp, self.url = tmp_path, url
        self.pane = Pane(tmp_path) if shutil.which("tmux") else None
        self.inboxes: dict[str, Path] = {"L1": tmp_path / "inbox-L1"}
        m1 = [{"id": f"A{n}", "transport": "inbox", "path": str(tmp_path / f"inbox-A{n}")} for n in range(per_relay)]
        m2 = [{"id": f"B{n}", "transport": "inbox", "path": str(tmp_path / f"inbox-B{n}")} for n in range(per_relay)]
        self.inboxes |= {a["id"]: Path(a["path"]) for a in m1 + m2}
        if self.pane is not None:
            m1.append({"id": "T1", "transport": "tmux", "target": self.pane.target})
        self.agents = {"M1": [a["id"] for a in m1], "M2": [a["id"] for a in m2]}
        self.relays: dict[str, RelayProcess] = {}
        for name, agents in (("M1", m1), ("M2", m2)):
            roster = write_roster(tmp_path / f"{name}.yaml", agents)
            env = self.pane.env if self.pane is not None else None
            offset = (skew or {}).get(name)
            relay_args = ("--stagger", str((stagger or {}).get(name, 0)))
            if offset is None:
                self.relays[name] = RelayProcess(name, roster, url, tmp_path / f"{name}-data", env=env,
                                                 extra=relay_args)
            else:
                self.relays[name] = SkewedRelay(name, roster, url, tmp_path / f"{name}-data", env=env,
                                                extra=relay_args, offset=offset)
        self.captain_data = tmp_path / "captain"
        self.captain_roster = write_roster(tmp_path / "captain.yaml", [
            {"id": "L1", "transport": "inbox", "path": str(self.inboxes["L1"])}])

    def start(self) -> Fleet:
        for relay in self.relays.values():
            relay.start()
        return self

    def close(self) -> None:
        for relay in self.relays.values():
            relay.close()
        if self.pane is not None:
            self.pane.close()

    # -- the captain, as the user runs it ---------------------------------------------------------
    def argv(self, *args: str, broker: bool = True, roster: bool = True) -> list[str]:
        return [sys.executable, "-m", "quarterdeck", "--data-dir", str(self.captain_data),
                *(("--roster", str(self.captain_roster)) if roster else ()),
                *(("--broker", self.url) if broker else ()), *args]

    def run(self, *args: str, broker: bool = True, roster: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(*args, broker=broker, roster=roster), cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def broadcast(self, text: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """``quarterdeck send --broadcast -m TEXT`` running (it ends once every recipient has an outcome)."""
        return subprocess.Popen(self.argv("send", "--broadcast", "--stagger", "0", "-m", text), cwd=ROOT,
                                env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, stdin=subprocess.DEVNULL)

    def history(self) -> list[dict[str, object]]:
        done = self.run("history", "--json", "--limit", "100000", broker=False)
        assert done.returncode == 0, done.stderr
        return list(json.loads(done.stdout)["rows"])

    def agents_list(self) -> dict[str, dict[str, object]]:
        done = self.run("agents", "list", "--json")
        assert done.returncode in (0, 1), done.stderr
        return {str(a["id"]): a for a in json.loads(done.stdout)}

    # -- what arrived ----------------------------------------------------------------------------
    def arrived(self, agent: str, text: str) -> int:
        if agent == "T1":
            assert self.pane is not None
            return self.pane.out.read_text(errors="replace").count(text)
        return sum(1 for t in inbox_texts(self.inboxes[agent]) if t.rstrip("\n").endswith(text))

    def every_agent(self) -> list[str]:
        return ["L1", *self.agents["M1"], *self.agents["M2"]]

    def account(self, texts: list[str]) -> Counter[str]:
        """The check every fault test ends with (see the module docstring); the states counted."""
        rows = [r for r in self.history() if str(r["content"]) in texts]
        assert len(rows) == len(texts) * len(self.every_agent()), (len(rows), len(texts))
        counts: Counter[str] = Counter()
        for row in rows:
            agent, text, state = str(row["agent"]), str(row["content"]), str(row["state"])
            arrived = self.arrived(agent, text)
            where = (agent, state, row["reason"], arrived)
            assert arrived <= 1, f"arrived twice: {where}"
            if state == "delivered":
                assert arrived == 1, f"delivered but not there: {where}"
            elif state in ("cancelled", "expired") or (state == "failed" and row["verdict"] == "not_typed"):
                assert arrived == 0, f"typed though it says not: {where}"
            elif state not in FINAL:
                assert state in ("queued", "waiting") and row["reason"], f"not accounted for: {where}"
            counts[state] += 1
        return counts

    def wait_arrived(self, agents: list[str], text: str, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while sum(self.arrived(a, text) for a in agents) < count:
            assert time.monotonic() < deadline, f"{count} of {agents} did not get {text!r} in {timeout} s"
            time.sleep(0.02)
