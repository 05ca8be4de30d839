"""Real parts for relay tests: a ``quarterdeck relay`` process, and the test playing the captain.

``RelayProcess`` runs ``python -m quarterdeck relay`` as a separate process (its own data dir, a
roster file) and waits for its start line; ``stop()`` sends SIGTERM and checks it exits 0,
``kill()`` is ``kill -9``. ``Captain`` XADDs delivery entries and control entries, and reads
receipts from its ``qd:receipts:<captain>`` (``qd:receipts`` for a captain without an id).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polling
import redis
import yaml

from quarterdeck.core.models import Message
from quarterdeck.core.relay.protocol import KEYS, ControlEntry, DeliveryEntry, Receipt

ROOT = Path(__file__).resolve().parents[1]
FINAL = {"delivered", "failed", "cancelled", "uncertain"}


def write_roster(path: Path, agents: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"agents": agents}), encoding="utf-8")
    return path


def inbox_texts(folder: Path) -> list[str]:
    """Every message file an inbox agent received, oldest first: the ``.md`` files, as a reader takes
    them (a ``.incoming-*.tmp`` being written, or left by a kill, is no message)."""
    if not folder.exists():
        return []
    return [f.read_text(encoding="utf-8") for f in sorted(folder.iterdir())
            if f.is_file() and f.name.endswith(".md") and not f.name.startswith(".")]


class RelayProcess:
    def __init__(self, name: str, roster: Path, url: str, data_dir: Path, env: dict[str, str] | None = None,
                 extra: tuple[str, ...] = ()) -> None:
        """``url`` empty: no ``--broker`` (the relay reads COORDINATION_BROKER_URL from ``env``);
        ``extra``: more options (``--stagger 0``)."""
        self.name, self.roster, self.url, self.data_dir, self.extra = name, roster, url, data_dir, extra
        # the package as installed (or as PYTHONPATH puts it first, as a bench comparing two trees does),
        # not the repository's own folder that ``-m`` would put first from the working directory
        self.env = {**os.environ, "PYTHONSAFEPATH": "1", **(env or {})}
        self.process: subprocess.Popen[str] | None = None
        self.out = data_dir.parent / f"{name}.out"
        self.err = data_dir.parent / f"{name}.err"

    def start(self, timeout: float = 20.0) -> RelayProcess:
        with self.out.open("a") as out, self.err.open("a") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "quarterdeck", "relay", "--name", self.name, "--roster", str(self.roster),
                 *(["--broker", self.url] if self.url else []), "--data-dir", str(self.data_dir), *self.extra],
                cwd=ROOT, env=self.env, stdout=out, stderr=err, stdin=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + timeout
        while f"relay {self.name}: delivering" not in self.out.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"relay did not start: {self.output()}")
            time.sleep(0.05)
        return self

    def output(self) -> str:
        return f"stdout: {self.out.read_text()!r} stderr: {self.err.read_text()!r}"

    def stop(self, timeout: float = 30.0) -> str:
        """SIGTERM; it must exit 0 after the delivery in flight. Returns its stdout."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        assert code == 0, self.output()
        self.process = None
        return self.out.read_text()

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # kill -9
        self.process.wait(timeout=10)
        self.process = None

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class Captain:
    """The test playing the captain ``captain`` (an outbox id; "" names none) on ``url``."""

    def __init__(self, url: str, captain: str = "") -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=10)
        self.captain = captain
        self.next_delivery = 1
        self.seen_id = "0-0"
        self.receipts: list[Receipt] = []

    def send(self, relay: str, agent: str, text: str, *, message: Message | None = None,
             delivery: int | None = None, pipe: Any = None) -> tuple[int, Message]:
        """XADD one delivery entry (on ``pipe`` when given); returns (captain delivery id, message)."""
        message = message or Message(sender="captain", recipients=[agent], content=text)
        if delivery is None:
            delivery, self.next_delivery = self.next_delivery, self.next_delivery + 1
        entry = DeliveryEntry(delivery, agent, message, time.time(), self.captain)
        (pipe or self.client).xadd(KEYS.relay_in(relay), entry.to_fields())
        return delivery, message

    def send_round(self, relay: str, agents: tuple[str, ...], count: int,
                   text: Callable[[int, str], str]) -> dict[int, tuple[str, Message]]:
        """``count`` deliveries to ``agents`` in turn (``text(n, agent)``); delivery id -> (agent, message)."""
        sent = {}
        for n in range(count):
            agent = agents[n % len(agents)]
            delivery, message = self.send(relay, agent, text(n, agent))
            sent[delivery] = (agent, message)
        return sent

    def control(self, kind: str, generation: int) -> float:
        """XADD a stop or resume; returns the time it was written."""
        at = time.time()
        self.client.xadd(KEYS.control, ControlEntry(kind, generation, at).to_fields())  # type: ignore[arg-type]
        return at

    def read_receipts(self) -> list[Receipt]:
        for entry_id, fields in self.client.xrange(KEYS.receipts_of(self.captain),
                                                   min=f"({self.seen_id}" if self.seen_id != "0-0" else "-"):
            self.seen_id = entry_id.decode()
            self.receipts.append(Receipt.from_fields(fields))
        return self.receipts

    def final(self) -> dict[int, Receipt]:
        """The final receipt of each delivery (the last one, if a final state was reported twice)."""
        return {r.delivery: r for r in self.read_receipts() if r.state in FINAL}

    def wait_for(self, what: Callable[[], bool], timeout: float = 30.0, why: str = "") -> None:
        try:
            polling.wait_until(what, why or str(what), timeout=timeout, every=0.05)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; receipts: {self.receipts[-5:]}") from None

    def wait_final(self, deliveries: set[int], timeout: float = 30.0) -> dict[int, Receipt]:
        self.wait_for(lambda: deliveries <= set(self.final()), timeout, f"final receipts of {sorted(deliveries)}")
        return self.final()

    def states_of(self, delivery: int) -> list[str]:
        return [r.state for r in self.read_receipts() if r.delivery == delivery]
