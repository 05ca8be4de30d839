"""The demo swarm: simulated agent chat windows for a first start, typed into by real GUI delivery.

``DemoSwarm.start(count, workdir)`` launches ``python -m quarterdeck.gui.demo.swarm`` (see gui/demo/swarm.py)
as a separate process with its own QApplication, so its windows are ordinary top-level windows
that Quarterdeck must reach through the X server exactly as it reaches Cursor or VS Code: a
click, a paste, Enter. Nothing is faked on the way; the swarm only records what arrives.

The handle is Qt-free and does no waiting in ``start``: ``wait_ready`` (meant for a background
thread) returns the roster file once the swarm has placed its windows and written it.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from quarterdeck.gui.demo.transcript import Entry, parse_transcript

__all__ = ["DemoSwarm"]

ROSTER_NAME = "agents.yaml"
LOG_NAME = "swarm.log"
_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the gui package


class DemoSwarm:
    """A running swarm process and the folder it writes its roster and transcripts into."""

    def __init__(self, count: int, workdir: Path, process: subprocess.Popen, log: IO[bytes]) -> None:
        self.count = count
        self.workdir = Path(workdir)
        self.roster_path = self.workdir / ROSTER_NAME
        self.log_path = self.workdir / LOG_NAME
        self.process = process
        self._log = log
        self._closed = False

    @classmethod
    def start(cls, count: int, workdir: Path, *, env: dict[str, str] | None = None) -> DemoSwarm:
        """Launch the swarm and return at once; a previous run's roster is removed first."""
        workdir = Path(workdir).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / ROSTER_NAME).unlink(missing_ok=True)
        env = dict(os.environ if env is None else env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(_ROOT), env.get("PYTHONPATH"))))
        log = open(workdir / LOG_NAME, "wb")
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "quarterdeck.gui.demo.swarm", "--agents", str(count), "--dir", str(workdir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
        except BaseException:
            log.close()
            raise
        return cls(count, workdir, process, log)

    def __repr__(self) -> str:
        return f"DemoSwarm(count={self.count}, pid={self.process.pid}, workdir={str(self.workdir)!r})"

    def __enter__(self) -> DemoSwarm:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = 30.0, *, poll: float = 0.05) -> Path:
        """Block until the roster file exists and return it; RuntimeError if the swarm dies or is late."""
        deadline = time.monotonic() + timeout
        while True:
            if self.roster_path.exists():
                return self.roster_path
            code = self.process.poll()
            if code is not None:
                raise RuntimeError(f"the demo swarm exited (code {code}) before its windows were up; "
                                   f"its last output:\n{self.output_tail()}")
            if time.monotonic() >= deadline:
                raise RuntimeError(f"the demo swarm's windows were not up after {timeout:g} s; "
                                   f"its last output:\n{self.output_tail()}")
            time.sleep(poll)

    def output_tail(self, limit: int = 2000) -> str:
        """The end of what the swarm printed (its stdout and stderr share ``swarm.log``)."""
        try:
            data = self.log_path.read_bytes()
        except OSError as exc:
            return f"(no output: {exc})"
        text = data[-limit:].decode("utf-8", "replace").strip()
        return text or "(no output)"

    def transcript(self, agent_id: str) -> str:
        """Everything ``agent_id`` has received so far, in the transcript file format."""
        try:
            return (self.workdir / "transcripts" / f"{agent_id}.txt").read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def entries(self, agent_id: str) -> list[Entry]:
        """``transcript(agent_id)`` as records: each submission (and each new-chat marker)."""
        return parse_transcript(self.transcript(agent_id))

    def messages(self, agent_id: str) -> list[str]:
        """The texts ``agent_id`` has received, one per submission, exactly as submitted."""
        return [entry.text for entry in self.entries(agent_id) if entry.kind == "message"]

    def close(self, grace: float = 3.0) -> None:
        """Terminate the swarm (killed if it has not quit after ``grace`` seconds); safe to repeat."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(grace)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        finally:
            self._log.close()
