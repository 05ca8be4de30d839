"""What watching agents' tmux panes costs: 8 real panes, one sample a second, for 20 s.

Usage: python bench/bench_watch_panes.py [--panes 8] [--seconds 20] [--rate 1]

A private tmux server runs ``--panes`` panes (120x40). Half of them redraw a busy agent's screen
(the captured Claude Code and Codex busy fixtures with a timer line ticking every 0.3 s, as the
real TUIs do); the other half hold an idle agent's screen. A TmuxPaneWatcher samples all of them
``--rate`` times a second for ``--seconds`` and the benchmark prints, as % of one core:

- the watcher: this process's CPU time (``time.process_time``) spent in ``sample``;
- the tmux clients it starts: ``resource.getrusage(RUSAGE_CHILDREN)`` over the run;
- the tmux server's extra work answering them: the server's CPU time (/proc) while watched, less
  its CPU time over an equal stretch unwatched (it redraws the busy panes either way).

The target: 16 agents within 3 % of one core, so 8 within 1.5 %.
"""
from __future__ import annotations

import argparse
import os
import resource
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "panes"
BUSY = ["claude-code/busy.real.txt", "codex/busy-working.real.txt"]
IDLE = ["claude-code/idle.real.txt", "codex/idle.real.txt", "aider/idle.real.txt", "gemini/idle.real.txt"]
TARGET_PER_AGENT = 3.0 / 16


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, check=True,
                          timeout=10).stdout.strip()


def server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(socket: str, count: int) -> list[tuple[str, str, str]]:
    tmux(socket, "new-session", "-d", "-s", "b", "-x", "120", "-y", "40", "sleep 3600")
    panes = []
    for number in range(count):
        if number % 2 == 0:
            name = BUSY[(number // 2) % len(BUSY)]
            body = f"cat {shlex.quote(str(FIXTURES / name))}"
            script = (f"i=0; while :; do printf '\\033[H\\033[2J'; {body}; "
                      "printf '  (%ss · esc to interrupt)' $i; i=$((i+1)); sleep 0.3; done")
        else:
            name = IDLE[(number // 2) % len(IDLE)]
            script = f"printf '\\033[H\\033[2J'; cat {shlex.quote(str(FIXTURES / name))}; sleep 3600"
        pane = tmux(socket, "new-window", "-d", "-t", "b:", "-P", "-F", "#{pane_id}", "sh -c " + shlex.quote(script))
        panes.append((f"Agent-{number + 1}", pane, name.split("/")[0]))
    return panes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--panes", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=1.0, help="samples per second")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from quarterdeck.core.activity.watch.panes import TmuxPaneWatcher

    socket = f"qd-bench-{uuid.uuid4().hex[:8]}"
    try:
        panes = start(socket, args.panes)
        pid = int(tmux(socket, "display-message", "-p", "#{pid}"))
        time.sleep(1.0)
        idle_from, idle_cpu = time.monotonic(), server_cpu(pid)
        time.sleep(args.seconds)
        unwatched = (server_cpu(pid) - idle_cpu) / (time.monotonic() - idle_from)

        watcher = TmuxPaneWatcher(panes, socket=socket)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        began, cpu0, server0 = time.monotonic(), time.process_time(), server_cpu(pid)
        samples, events, spent = 0, 0, 0.0
        while time.monotonic() - began < args.seconds:
            before = time.process_time()
            events += len(watcher.sample(time.time()))
            spent += time.process_time() - before
            samples += 1
            time.sleep(max(0.0, began + samples / args.rate - time.monotonic()))
        wall = time.monotonic() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        clients = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        watched = (server_cpu(pid) - server0) / wall
        server_extra = max(0.0, watched - unwatched)
        whole = time.process_time() - cpu0
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=10)

    share = {"watcher (sample)": 100 * spent / wall, "tmux clients": 100 * clients / wall,
             "tmux server, extra": 100 * server_extra}
    total = sum(share.values())
    target = 100 * TARGET_PER_AGENT / 100 * args.panes
    print(f"{args.panes} panes, {samples} samples in {wall:.1f} s ({args.rate:g}/s), {events} events, "
          f"tmux calls per sample: {sorted(set(watcher.tmux_calls))}")
    for name, value in share.items():
        print(f"  {name:20s} {value:6.2f} % of one core")
    print(f"  (tmux server: {100 * watched:.2f} % watched, {100 * unwatched:.2f} % unwatched, busy panes redrawing)")
    print(f"  {'this process, all':20s} {100 * whole / wall:6.2f} % (sleeping loop included)")
    print(f"  total                {total:6.2f} % of one core; target for {args.panes} agents <= {target:.2f} % "
          f"({'met' if total <= target else 'NOT met'}); per agent {total / args.panes:.3f} %")
    return 0 if total <= target else 1


if __name__ == "__main__":
    raise SystemExit(main())
