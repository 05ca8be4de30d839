"""`quarterdeck metrics`, `health` and `serve`: delivery performance and health from the outside.

``metrics`` and ``health`` read the stored history (``quarterdeck.sqlite3`` in the data dir) and
replay it into a fresh monitor, so every figure comes from recorded deliveries. ``serve`` is a
headless Quarterdeck that delivers from the outbox and serves ``/metrics``, ``/health`` and
``/livez`` on the loopback interface.

Exit codes of ``health``: 0 when the fleet is UP, DEGRADED or UNKNOWN; 1 when it is DOWN or
OUT_OF_SERVICE (the statuses ``/health`` answers with HTTP 503); 2 for a usage problem.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quarterdeck.cli.common import EXIT_FAIL, EXIT_OK, CliError, effective_config
from quarterdeck.cli.serve_cmd import Service, cmd_serve, start_service
from quarterdeck.cli.shared_options import add_broker_option

if TYPE_CHECKING:
    from quarterdeck.core.monitor import Monitor
    from quarterdeck.core.store import Store

__all__ = ["Service", "cmd_health", "cmd_metrics", "cmd_serve", "register", "start_service"]  # serve: serve_cmd

DEFAULT_PORT = 9464


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def data_dir(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--data-dir", type=Path, metavar="DIR",
                            help="where quarterdeck.sqlite3 lives (default: the user data dir)")

    def roster(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--roster", type=Path, metavar="PATH",
                            help="agents.yaml (default: the user config dir)")

    metrics = sub.add_parser("metrics", help="delivery metrics from the history, Prometheus text format")
    data_dir(metrics)
    metrics.add_argument("--json", action="store_true", help="the monitor's snapshot as JSON instead")
    metrics.set_defaults(func=cmd_metrics)

    health = sub.add_parser(
        "health", help="each agent's health from its recent deliveries",
        description="Exit code 0 when the fleet is UP, DEGRADED or UNKNOWN, 1 when it is DOWN or "
                    "OUT_OF_SERVICE.")
    data_dir(health)
    roster(health)
    health.add_argument("--window", type=float, default=3600.0, metavar="SECONDS",
                        help="how far back 'recent' reaches (default 3600)")
    health.add_argument("--json", action="store_true", help="the health tree as JSON")
    health.set_defaults(func=cmd_health)

    serve = sub.add_parser("serve", help="deliver from the outbox and serve /metrics, /health, /livez")
    serve.add_argument("--host", default="127.0.0.1",
                       help="loopback address to listen on: localhost, 127.x.x.x or ::1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0 picks one")
    serve.add_argument("--poll", type=float, default=0.25, metavar="SECONDS",
                       help="how often to look for messages queued by other processes (default 0.25)")
    data_dir(serve)
    roster(serve)
    add_broker_option(serve)  # with a broker, every relay's agents are delivered to and counted too
    serve.set_defaults(func=cmd_serve)


# -- metrics and health: the stored history -----------------------------------------------------

@contextlib.contextmanager
def _history(args: argparse.Namespace) -> Iterator[Store | None]:
    """The store of ``--data-dir``, or None when no database exists there yet (none is created)."""
    from quarterdeck.core.store import Store, StoreError, default_db_path

    path = default_db_path(args.data_dir)
    if not path.is_file():
        print(f"quarterdeck: no delivery history at {path} yet", file=sys.stderr)
        yield None
        return
    try:
        store = Store(path)
    except StoreError as exc:
        raise CliError(f"cannot open the history at {path}: {exc}") from exc
    with store:
        yield store


def _from_history(args: argparse.Namespace, *, rate_window: float = 60.0,
                  streaks_since: datetime | None = None) -> tuple[Monitor, dict[str, int]]:
    """A monitor replayed from the history and, with ``streaks_since``, the agents' failure streaks."""
    from quarterdeck.core.monitor import Monitor
    from quarterdeck.core.monitor.replay import HistoryClock, failure_streaks, replay_history

    clock = HistoryClock()
    monitor = Monitor(clock=clock, rate_window=rate_window)
    streaks: dict[str, int] = {}
    with _history(args) as store:
        if store is not None:
            replay_history(store, monitor, clock=clock)
            if streaks_since is not None:
                streaks = failure_streaks(store, since=streaks_since)
    return monitor, streaks


def cmd_metrics(args: argparse.Namespace) -> int:
    from quarterdeck.core.monitor.prometheus import export_text

    monitor, _ = _from_history(args)
    if args.json:
        print(json.dumps(monitor.snapshot(), indent=2, sort_keys=True))
        return EXIT_OK
    sys.stdout.flush()
    out = getattr(sys.stdout, "buffer", None)
    text = export_text(monitor)
    if out is None:
        sys.stdout.write(text.decode("utf-8"))
    else:
        out.write(text)
        out.flush()
    return EXIT_OK


def _judged_agents(args: argparse.Namespace, monitor: Monitor) -> tuple[list[str], list[str], str | None]:
    """(agents to judge, disabled agents, a note): the roster's, else the agents in the history."""
    from quarterdeck.cli.agents_cmd import read_roster, roster_path

    if args.roster is None and not roster_path(args).is_file():
        return sorted(monitor.agents()), [], f"no roster at {roster_path(args)}: agents from the history"
    _, roster = read_roster(args)
    return ([a.id for a in roster.enabled()],
            [a.id for a in roster.agents if not a.enabled], None)


def cmd_health(args: argparse.Namespace) -> int:
    from quarterdeck.core.monitor.health import CompositeHealth, Status, http_status
    from quarterdeck.core.monitor.replay import history_health
    from quarterdeck.core.service import judged

    try:
        if not args.window > 0:
            raise OverflowError
        since = datetime.now(UTC) - timedelta(seconds=args.window)
    except OverflowError:
        raise CliError(f"--window must be a positive number of seconds, not {args.window}") from None
    threshold = effective_config(args).config.circuit_breaker_threshold
    monitor, streaks = _from_history(args, rate_window=args.window, streaks_since=since)
    agents, disabled, note = _judged_agents(args, monitor)
    tree = CompositeHealth({"agents": history_health(monitor, agents, streaks, down_after=threshold)})
    result = {**judged(tree.check()), "window_seconds": args.window, "disabled": disabled}
    status = Status(result["status"])
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        _print_health(result, note)
    return EXIT_FAIL if http_status(status) == 503 else EXIT_OK


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.0f}%"


def _print_health(result: dict[str, Any], note: str | None) -> None:
    from quarterdeck.core.monitor.replay import BREAKER_UNKNOWN

    score = "-" if result["score"] is None else f"{result['score']}/100"
    print(f"{result['status']}  score {score}  {result['headline']}  (deliveries of the last "
          f"{result['window_seconds']:g} s)")
    agents = result["components"]["agents"]["components"]
    width = max((len(name) for name in agents), default=0)
    for name, part in agents.items():
        d = part["details"]
        facts = [f"failure rate {_percent(d['failure_rate'])} of {d['recent']}"]
        if d["failed_in_a_row"]:
            facts.append(f"{d['failed_in_a_row']} failed in a row")
        if d["p95_seconds"] is not None:
            facts.append(f"p95 {d['p95_seconds']:.3f} s")
        reason = f"  ({d['reason']})" if "reason" in d else ""
        print(f"  {name:<{width}}  {part['status']:<14} {', '.join(facts)}{reason}")
    if not agents:
        print("  no agents to judge")
    if result["disabled"]:
        print(f"disabled on the roster, not judged: {', '.join(result['disabled'])}")
    if note:
        print(note)
    print(f"breaker state: {BREAKER_UNKNOWN} (see /health of `quarterdeck serve`)")
