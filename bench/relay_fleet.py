"""The measuring parts of the relay benches (``bench_relays.py``, ``bench_captain.py``): CPU time of
processes from ``/proc``, latency quantiles, a fleet of ``quarterdeck relay`` processes with inbox agents
(started, and asked how often each message arrived and how their inbox rounds went), and redis-server's
command counts."""
from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")

def cpu_seconds(pid: int) -> float:
    return stat_seconds(Path(f"/proc/{pid}/stat"))


def stat_seconds(stat: Path) -> float:
    """The CPU seconds (user + system) a ``/proc`` ``stat`` file (a process's, or a thread's) counts."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_seconds() -> tuple[float, float]:
    """CPU seconds the whole machine has been busy, and those the host took from it (steal), since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq) / TICK, steal / TICK


class Cpu:
    """CPU % of one core of some processes between ``start`` and ``stop``; ``elsewhere``: that of
    everything else on the machine meanwhile (this script, other programs), and ``stolen``: what the
    host took from this machine's cores. A run slowed by either shows it beside its figures."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids

    def start(self) -> None:
        self.began, self.at = {n: cpu_seconds(p) for n, p in self.pids.items()}, time.monotonic()
        self.machine = machine_seconds()

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.at
        self.seconds = {n: cpu_seconds(p) - self.began[n] for n, p in self.pids.items()}
        busy, stolen = (now - then for now, then in zip(machine_seconds(), self.machine, strict=True))
        self.elsewhere = max(0.0, busy - sum(self.seconds.values())) / wall * 100
        self.stolen = stolen / wall * 100
        return {n: used / wall * 100 for n, used in self.seconds.items()}


def machine_now(folder: Path) -> str:
    """How fast this machine is right now: a fixed pure-Python loop, and new files written and fsynced
    a second in ``folder``. On a shared host both vary by a third from one hour to the next, and the
    relay figures with them; print them beside the figures so two runs can be compared. The probe's
    files stay in ``folder`` with the run's: on ext4 a new file's inode is looked for past those freed
    in the last minute, so deleting a thousand files just before a run slowed its first seconds (its
    p99 at 1,000/s 76 ms against 53 ms, interleaved)."""
    began, total = time.perf_counter(), 0
    for n in range(3_000_000):
        total += n
    loop = time.perf_counter() - began
    probe = folder / f"fsync-probe-{time.monotonic_ns()}"
    probe.mkdir(parents=True)
    count, began = 0, time.perf_counter()
    while time.perf_counter() - began < 0.5:
        fd = os.open(probe / str(count), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, b"x" * 300)
        os.fsync(fd)
        os.close(fd)
        count += 1
    rate = count / (time.perf_counter() - began)
    return f"machine now: 3M-step Python loop {loop * 1000:.0f} ms; {rate:,.0f} new files fsynced a second"


def per_message(seconds: dict[str, float], messages: int, relays: int) -> str:
    """CPU ms per message over the run (a relay's over its share): steadier under load than latency."""
    return ", ".join(f"{n} {used * 1000 / (messages / relays if n.startswith('M') else messages):.2f}"
                     for n, used in seconds.items())


def quantiles(values: list[float]) -> str:
    if not values:
        return "no deliveries"
    ordered = sorted(values)
    at = lambda q: ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000  # noqa: E731
    return f"p50 {at(0.5):.1f} / p95 {at(0.95):.1f} / p99 {at(0.99):.1f} ms (max {ordered[-1] * 1000:.1f})"


class Fleet:
    def __init__(self, folder: Path, url: str, relays: int, agents: int, env: dict[str, str]) -> None:
        from relay_parts import RelayProcess, write_roster
        self.folders: dict[str, Path] = {}
        self.of: dict[str, str] = {}  # agent -> relay
        self.relays = []
        (folder / "inbox").mkdir(parents=True, exist_ok=True)
        for r in range(1, relays + 1):
            mine = {f"A{r}-{n}": folder / "inbox" / f"{r}-{n}" for n in range(1, agents + 1)}
            self.folders.update(mine)
            self.of.update(dict.fromkeys(mine, f"M{r}"))
            roster = write_roster(folder / f"m{r}.yaml", [{"id": a, "transport": "inbox", "path": str(p)}
                                                           for a, p in mine.items()])
            self.relays.append(RelayProcess(f"M{r}", roster, url, folder / f"m{r}-data", env=env,
                                            extra=("--stagger", "0")))

    def start(self, url: str) -> None:
        import redis

        from quarterdeck.core.relay.protocol import KEYS
        for relay in self.relays:
            relay.start()
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 20
        while client.hlen(KEYS.relays) < len(self.relays):  # every relay announced its agents
            if time.monotonic() > deadline:
                raise RuntimeError("the relays did not announce themselves within 20 s")
            time.sleep(0.05)
        client.close()

    def arrived(self, prefix: str) -> Counter[str]:
        """How often each message text starting with ``prefix`` is in the inboxes."""
        seen: Counter[str] = Counter()
        for folder in self.folders.values():
            for path in folder.iterdir() if folder.exists() else ():
                if path.name.endswith(".md"):
                    last = path.read_text(encoding="utf-8").rstrip("\n").rsplit("\n", 1)[-1]
                    if last.startswith(prefix):
                        seen[last] += 1
        return seen

    def last_ids(self) -> dict[str, int]:
        """Each relay's newest local delivery id (what a part delivers comes after it)."""
        return {relay.name: self._outbox(relay.name, "SELECT coalesce(max(id), 0), 0 FROM deliveries", 0)[0]
                for relay in self.relays}

    def rounds(self, since: dict[str, int]) -> str:
        """Each relay's inbox rounds since ``since``: how many, and deliveries per round (a round's claim
        stamps them all with one ``started_at``)."""
        parts = []
        for name, last in since.items():
            count, rounds = self._outbox(name, "SELECT count(*), count(DISTINCT started_at) FROM deliveries "
                                               "WHERE id > ?", last)
            parts.append(f"{name} {rounds} ({count / max(rounds, 1):.1f} each)")
        return ", ".join(parts)

    def _outbox(self, name: str, sql: str, arg: int) -> tuple[int, int]:
        import sqlite3
        relay = next(r for r in self.relays if r.name == name)
        conn = sqlite3.connect(relay.data_dir / "quarterdeck.sqlite3", timeout=10)
        try:
            row = conn.execute(sql, (arg,) if "?" in sql else ()).fetchone()
        finally:
            conn.close()
        return int(row[0]), int(row[1])


def report_arrivals(fleet: Fleet, prefix: str, sent: int) -> bool:
    seen = fleet.arrived(prefix)
    twice = sum(1 for n in seen.values() if n > 1)
    print(f"  inboxes: {len(seen)} of {sent} messages arrived, {twice} more than once")
    return twice == 0 and len(seen) == sent



def command_calls(client) -> dict[str, int]:
    """How often redis-server ran each command so far (``INFO commandstats``)."""
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(fields["calls"]) for name, fields in stats.items()}
