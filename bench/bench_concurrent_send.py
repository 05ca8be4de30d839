"""Concurrent `quarterdeck send` on one outbox, against real tmux panes: do all of them return,
does every message arrive exactly once, and how long does each take next to a lone send?

Usage: python bench/bench_concurrent_send.py [ROUNDS] [SENDERS...]   (default 3 rounds of 2 and 6)
       python bench/bench_concurrent_send.py --crash [KILLS]              (default 20)

Three tmux panes on a private server each run ``cat >> FILE`` (echo on), so what arrived is read
back from the files. First ROUNDS lone sends to the three agents give the baseline; then, per
SENDERS count, ROUNDS rounds start that many sends at once (each to all three agents, with its
own token). A send that has not returned after 120 s counts as hung (and is killed). Prints, per
count: sends started, returned, returned with all three outcomes delivered, messages that arrived
exactly once in every pane, and the median time to return next to the lone median. Exits 1 when
any send hung or any message did not arrive exactly once.

``--crash``: KILLS times, a broadcast to the three panes (0.3 s stagger) is killed with SIGKILL at
a random moment within a second of its message being stored; then one more send (which takes
over what the dead ones left queued) and ``quarterdeck status`` (which recovers what they left in
flight). Per delivery, the recorded state
is compared with what arrived in the pane: lost (a delivery of an accepted message missing),
duplicated (arrived twice), misreported (delivered but absent, or failed/cancelled/queued but
present), and how many ended uncertain and how many of those had really arrived. Exits 1 on any
lost, duplicated or misreported delivery.
"""
from __future__ import annotations

import collections
import json
import os
import random
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
QUARTERDECK = Path(sys.executable).with_name("quarterdeck")
AGENTS = ("Agent-1", "Agent-2", "Agent-3")
HUNG = 120.0


class Panes:
    def __init__(self, folder: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if k != "TMUX"}
        self.env.update(TMUX_TMPDIR=str(folder), QUARTERDECK_DATA_DIR=str(folder / "data"),
                        QUARTERDECK_CONFIG_DIR=str(folder / "config"))
        self.files = {}
        entries = []
        for agent in AGENTS:
            out = folder / f"{agent}.txt"
            out.touch()
            target = subprocess.run(
                ["tmux", "-f", "/dev/null", "new-session", "-d", "-s", f"bench-{agent}", "-x", "150", "-y", "40",
                 "-P", "-F", "#{session_name}:#{window_index}.#{pane_index}", f"exec cat >> {shlex.quote(str(out))}"],
                env=self.env, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
            self.files[agent] = out
            entries.append({"id": agent, "transport": "tmux", "target": target})
        self.roster = folder / "agents.yaml"
        self.roster.write_text(yaml.safe_dump({"agents": entries}), encoding="utf-8")

    def start(self, token: str) -> tuple[subprocess.Popen[str], float]:
        who = [part for agent in AGENTS for part in ("-a", agent)]
        proc = subprocess.Popen([str(QUARTERDECK), "send", "--roster", str(self.roster), *who, "--json",
                                 "--stagger", "0", "-m", f"bench {token}"], env=self.env, cwd=ROOT, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return proc, time.monotonic()

    def once_everywhere(self, token: str) -> bool:
        return all(f.read_text(encoding="utf-8", errors="replace").count(token) == 1 for f in self.files.values())

    def close(self) -> None:
        subprocess.run(["tmux", "kill-server"], env=self.env, capture_output=True, timeout=10)


_counter = iter(range(1, 1_000_000))


def run_round(panes: Panes, senders: int) -> list[dict]:
    # plain words: a random hex token would look like a credential to the rules and be refused
    tokens = [f"<message {next(_counter)}>" for _ in range(senders)]
    started = [panes.start(token) for token in tokens]
    results = []
    for token, (proc, at) in zip(tokens, started, strict=True):
        remaining = max(0.1, at + HUNG - time.monotonic())
        try:
            out, err = proc.communicate(timeout=remaining)
            took, returned = time.monotonic() - at, True
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            took, returned = None, False
        ok = False
        if returned and proc.returncode not in (0, 1):
            raise SystemExit(f"a send was refused or crashed ({proc.returncode}): {out} {err}")
        if returned and proc.returncode == 0:
            states = [r["state"] for r in json.loads(out)["results"]]
            ok = states == ["delivered"] * len(AGENTS)
        results.append({"returned": returned, "ok": ok, "took": took, "token": token})
    time.sleep(0.2)  # a hung send's pane output settles before counting
    for result in results:
        result["once"] = panes.once_everywhere(result["token"])
    return results


def _stored(panes: Panes, token: str) -> bool:
    path = Path(panes.env["QUARTERDECK_DATA_DIR"]) / "quarterdeck.sqlite3"
    if not path.exists():
        return False
    conn = sqlite3.connect(path, timeout=5)
    try:
        return conn.execute("SELECT 1 FROM messages WHERE content LIKE ?", (f"%{token}%",)).fetchone() is not None
    except sqlite3.OperationalError:  # the file is still being created
        return False
    finally:
        conn.close()


def crash_loop(panes: Panes, kills: int, rng: random.Random) -> bool:
    killed = 0
    tokens = []
    for n in range(kills):
        token = f"<crash {n}>"
        tokens.append(token)
        who = [part for agent in AGENTS for part in ("-a", agent)]
        proc = subprocess.Popen([str(QUARTERDECK), "send", "--roster", str(panes.roster), *who, "--stagger", "0.3",
                                 "-m", f"crash loop {token}"], env=panes.env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        accepted_by = time.monotonic() + 20
        while proc.poll() is None and time.monotonic() < accepted_by and not _stored(panes, token):
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 1.0))  # somewhere in the broadcast: typing, the stagger, recording
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
    drain = subprocess.run([str(QUARTERDECK), "send", "--roster", str(panes.roster), "-a", AGENTS[0], "-m",
                            "crash loop <drain>"], env=panes.env, cwd=ROOT, capture_output=True, text=True,
                           timeout=HUNG)
    subprocess.run([str(QUARTERDECK), "status", "--roster", str(panes.roster)], env=panes.env, cwd=ROOT,
                   capture_output=True, timeout=HUNG)
    conn = sqlite3.connect(Path(panes.env["QUARTERDECK_DATA_DIR"]) / "quarterdeck.sqlite3")
    rows = conn.execute("SELECT m.content, d.agent_id, d.state FROM deliveries d JOIN messages m "
                        "ON m.id = d.message_id WHERE m.content LIKE 'crash loop <crash %'").fetchall()
    conn.close()
    texts = {agent: f.read_text(encoding="utf-8", errors="replace") for agent, f in panes.files.items()}
    recorded = {(content.split("crash loop ", 1)[1], agent): state for content, agent, state in rows}
    accepted = {token for token, _ in recorded}
    lost = sum((token, agent) not in recorded for token in accepted for agent in AGENTS)
    duplicated = misreported = uncertain = uncertain_arrived = 0
    for (token, agent), state in recorded.items():
        arrived = texts[agent].count(token)
        duplicated += arrived > 1
        if state == "delivered":
            misreported += arrived == 0
        elif state == "uncertain":
            uncertain += 1
            uncertain_arrived += arrived > 0
        else:
            misreported += arrived > 0
    states = collections.Counter(recorded.values())
    print(f"crash loop: {kills} broadcasts, {killed} killed with SIGKILL mid-send, {len(accepted)} accepted, "
          f"{len(recorded)} deliveries ({dict(states)}); drain send exit {drain.returncode}")
    print(f"lost {lost}, duplicated {duplicated}, misreported {misreported}, uncertain {uncertain} "
          f"({uncertain_arrived} of them had arrived)")
    return bool(lost or duplicated or misreported or drain.returncode)


def main(argv: list[str]) -> int:
    if shutil.which("tmux") is None:
        print("tmux is not installed")
        return 2
    if argv[:1] == ["--crash"]:
        folder = Path(tempfile.mkdtemp(prefix="qd-bench-crash-"))
        panes = Panes(folder)
        try:
            return 1 if crash_loop(panes, int(argv[1]) if len(argv) > 1 else 20, random.Random(11)) else 0
        finally:
            panes.close()
            shutil.rmtree(folder, ignore_errors=True)
    rounds = int(argv[0]) if argv else 3
    counts = [int(a) for a in argv[1:]] or [2, 6]
    folder = Path(tempfile.mkdtemp(prefix="qd-bench-concurrent-"))
    panes = Panes(folder)
    bad = False
    try:
        lone = [r for _ in range(rounds) for r in run_round(panes, 1)]
        lone_median = statistics.median(r["took"] for r in lone if r["took"] is not None)
        print(f"lone send to {len(AGENTS)} tmux panes: median {lone_median:.2f} s over {len(lone)} sends")
        print(f"{'senders':>7} {'rounds':>6} {'started':>7} {'returned':>8} {'all ok':>6} {'once':>5} "
              f"{'median s':>8} {'x lone':>6}")
        for senders in counts:
            results = [r for _ in range(rounds) for r in run_round(panes, senders)]
            took = [r["took"] for r in results if r["took"] is not None]
            median = statistics.median(took) if took else float("nan")
            returned = sum(r["returned"] for r in results)
            once = sum(r["once"] for r in results)
            print(f"{senders:>7} {rounds:>6} {len(results):>7} {returned:>8} {sum(r['ok'] for r in results):>6} "
                  f"{once:>5} {median:>8.2f} {median / lone_median:>6.2f}")
            bad |= returned != len(results) or once != len(results)
    finally:
        panes.close()
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
