"""`quarterdeck agents watch`: a live table of what every agent is doing, in the terminal.

Each agent's state, for how long, the signal it rests on and why, redrawn every second (on a
terminal) or printed as one line per change (piped into a file or another program). When no other
process watches this data folder (the panel, ``quarterdeck serve``), this one also watches the
agents' tmux panes and windows; otherwise it reads what that process records. Ctrl+C ends it.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from quarterdeck.cli.common import EXIT_OK, CliError
from quarterdeck.cli.roster_args import read_roster
from quarterdeck.core.activity.state import Activity, age

if TYPE_CHECKING:
    from quarterdeck.core.roster.roster import Roster

CLEAR = "\x1b[H\x1b[2J"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="where the outbox lives")
    parser.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                        help="how often to look and redraw (default 1)")
    parser.add_argument("--once", action="store_true", help="print the table once and exit")
    parser.add_argument("--no-watch", action="store_true",
                        help="only read what hooks and other watchers recorded; look at no pane or window")


def table(states: dict[str, Activity], now: float) -> list[str]:
    rows = [("AGENT", "STATE", "FOR", "SIGNAL", "WHY")]
    for agent, a in states.items():
        rows.append((agent, a.state, age(now - a.since) if a.since is not None else "-", a.signal_text(now), a.why))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return ["  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])), row[4]]).rstrip() for row in rows]


def change_lines(before: dict[str, Activity], after: dict[str, Activity], now: float) -> list[str]:
    """One line per agent whose state changed, for a pipe."""
    stamp = time.strftime("%H:%M:%S", time.localtime(now))
    return [f"{stamp} {agent} {a.state} ({a.signal_text(now)}): {a.why}" for agent, a in after.items()
            if agent not in before or before[agent].state != a.state]


def start_watching(data_dir: Path, roster: Roster, out: TextIO, interval: float = 1.0) -> Callable[[], None]:
    """Watch the roster's panes and windows here when no other process does (``agents watch``,
    ``serve``); returns what stops it."""
    from quarterdeck.core.activity.watch.fleet import watchers_for
    from quarterdeck.core.activity.watch.service import WatchLock, WatchService

    lock = WatchLock(data_dir)
    if not lock.claim():
        holder = lock.holder()
        print(f"process {holder if holder else '?'} watches the panes and windows; showing what it records",
              file=out, flush=True)
        return lambda: None
    stop = threading.Event()
    service = WatchService(data_dir, watchers_for(roster), interval=min(interval, 1.0))
    thread = threading.Thread(target=service.run, args=(stop,), name="quarterdeck-watch", daemon=True)
    thread.start()

    def finish() -> None:
        stop.set()
        thread.join(5)
        lock.release()
    return finish


def cmd_watch(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from quarterdeck.core.activity.journal import activities
    from quarterdeck.core.paths import user_data_dir

    stream = out if out is not None else sys.stdout
    if not args.interval > 0:
        raise CliError("--interval must be a positive number of seconds")
    _, roster = read_roster(args)
    ids = [a.id for a in roster.agents]
    data_dir = args.data_dir if isinstance(args.data_dir, Path) else user_data_dir()
    if args.once:
        now = time.time()
        print("\n".join(table(activities(data_dir, ids, now=now), now)), file=stream)
        return EXIT_OK
    finish = (lambda: None) if args.no_watch else start_watching(data_dir, roster, stream, args.interval)
    live = stream.isatty()
    before: dict[str, Activity] = {}
    try:
        while True:
            now = time.time()
            states = activities(data_dir, ids, now=now)
            if live:
                stream.write(CLEAR + "\n".join(table(states, now)) + "\n\nCtrl+C ends\n")
            else:
                for line in change_lines(before, states, now):
                    stream.write(line + "\n")
            stream.flush()
            before = states
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        finish()
