"""`quarterdeck metrics`, `health` and `serve`: delivery performance and health from the outside.

``metrics`` and ``health`` read the stored history (``quarterdeck.sqlite3`` in the data dir) and
replay it into a fresh monitor, so every figure comes from recorded deliveries. ``serve`` is a
headless Quarterdeck that delivers from the outbox and serves ``/metrics``, ``/health`` and
``/livez`` on the loopback interface.

Exit codes of ``health``: 0 when the fleet is UP, DEGRADED or UNKNOWN; 1 when it is DOWN or
OUT_OF_SERVICE (the statuses ``/health`` answers with HTTP 503); 2 for a usage problem.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from quarterdeck.cli.common import EXIT_FAIL, EXIT_OK, CliError, effective_config

DEFAULT_PORT = 9464


def register(sub) -> None:
    def data_dir(parser) -> None:
        parser.add_argument("--data-dir", type=Path, metavar="DIR",
                            help="where quarterdeck.sqlite3 lives (default: the user data dir)")

    def roster(parser) -> None:
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
    serve.set_defaults(func=cmd_serve)


# -- metrics and health: the stored history -----------------------------------------------------

@contextlib.contextmanager
def _history(args) -> Iterator[Any]:
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


def _from_history(args, *, rate_window: float = 60.0,
                  streaks_since: datetime | None = None) -> tuple[Any, dict[str, int]]:
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


def cmd_metrics(args) -> int:
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


def _judged_agents(args, monitor) -> tuple[list[str], list[str], str | None]:
    """(agents to judge, disabled agents, a note): the roster's, else the agents in the history."""
    from quarterdeck.cli.agents_cmd import read_roster, roster_path

    if args.roster is None and not roster_path(args).is_file():
        return sorted(monitor.agents()), [], f"no roster at {roster_path(args)}: agents from the history"
    _, roster = read_roster(args)
    return ([a.id for a in roster.enabled()],
            [a.id for a in roster.agents if not a.enabled], None)


def cmd_health(args) -> int:
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


# -- serve: a headless Quarterdeck --------------------------------------------------------------

@dataclass
class Service:
    """A running ``serve``: the session, its delivery worker and the HTTP endpoints."""

    session: Any
    worker: Any
    server: Any
    thread: threading.Thread
    url: str

    def close(self) -> str:
        """Stop after the delivery in flight (nothing queued is cancelled); returns a summary."""
        from quarterdeck.core.service.http import stop_http

        self.worker.request_stop()
        self.worker.join()
        stop_http(self.server, self.thread)
        try:
            queued = self.session.store.counts_by_state()["queued"]
        finally:
            self.session.close()
        return (f"stopped: {self.worker.delivered} delivered, {self.worker.failed} failed by this "
                f"process; {queued} queued left in the outbox")


def start_service(args) -> Service:
    """Open the session, start the HTTP endpoints, then the delivery worker."""
    from quarterdeck.cli.agents_cmd import read_roster
    from quarterdeck.core.config import ConfigError
    from quarterdeck.core.service import DeliveryWorker, service_health
    from quarterdeck.core.service.http import NotLoopback, loopback_host, serve_http, server_url
    from quarterdeck.core.session import Session
    from quarterdeck.core.store import StoreError

    try:
        host = loopback_host(args.host)
    except NotLoopback as exc:
        raise CliError(str(exc)) from exc
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port must be within 0..65535, not {args.port}")
    if not args.poll > 0:
        raise CliError("--poll must be a positive number of seconds")
    _, roster = read_roster(args)
    # without a display this process cannot type into chat panes: leave those deliveries queued
    skip = frozenset() if os.environ.get("DISPLAY") else frozenset({"gui"})
    if skip and any(a.transport.kind == "gui" for a in roster.agents):
        print("serve: no display; deliveries to gui agents stay queued for a Quarterdeck that has one",
              file=sys.stderr)
    try:
        session = Session.open(config_file=getattr(args, "config", None), roster=roster,
                               data_dir=args.data_dir, skip_transports=skip)
    except ConfigError as exc:
        raise CliError(f"configuration is invalid:\n{exc}") from exc
    except StoreError as exc:
        raise CliError(f"cannot open the outbox: {exc}") from exc
    worker = DeliveryWorker(session.dispatcher, idle_wait=args.poll)
    try:
        server, thread = serve_http(session.monitor, session.dispatcher.breakers,
                                    service_health(worker, roster), host, args.port)
    except OSError as exc:
        session.close()
        raise CliError(f"cannot listen on {args.host} port {args.port}: {exc}") from exc
    worker.start()
    return Service(session, worker, server, thread, server_url(server))


def cmd_serve(args) -> int:
    from quarterdeck.cli.common import log_in_one_line

    handler = log_in_one_line()  # a worker retrying a storage fault: one line, not a traceback each time
    try:
        return _serve(args)
    finally:
        logging.getLogger().removeHandler(handler)


def _serve(args) -> int:
    service = start_service(args)
    requested: list[int] = []
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda signum, _frame: requested.append(signum))
    print(f"serving {service.url}/metrics  {service.url}/health  {service.url}/livez", flush=True)
    print(f"delivering from {service.session.store.path}; Ctrl+C stops after the delivery in flight, "
          "queued messages stay queued", flush=True)
    try:
        while not requested:
            time.sleep(0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("stopping after the delivery in flight (Ctrl+C again quits at once)", flush=True)
    try:
        print(service.close(), flush=True)
    except KeyboardInterrupt:
        print("quit before the delivery in flight finished; the next start marks it uncertain",
              file=sys.stderr)
        return 130
    return EXIT_OK
