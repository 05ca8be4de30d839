"""`quarterdeck serve`: a headless Quarterdeck that delivers from the outbox and serves ``/metrics``,
``/health`` and ``/livez`` on the loopback interface (the parser is in ``monitor_cmd``).

It logs to ``quarterdeck.log`` (``quarterdeck.core.logsetup``: in ``DATA_DIR/logs``, rotating,
private, secrets redacted): its start, its stop, and each delivery's outcome at INFO; warnings and
errors also go to stderr, one line each.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from quarterdeck.cli.common import EXIT_OK, CliError, log_delivery

if TYPE_CHECKING:
    from quarterdeck.core.service import DeliveryWorker
    from quarterdeck.core.session import Session

log = logging.getLogger("quarterdeck.serve")
RELAYS_EVERY_S = 2.0  # relays announce themselves every 2 s


@dataclass
class Service:
    """A running ``serve``: the session, its delivery worker and the HTTP endpoints."""

    session: Session
    worker: DeliveryWorker
    server: ThreadingHTTPServer
    thread: threading.Thread
    url: str
    stop_watching: Callable[[], None] = lambda: None
    stop_relays: Callable[[], None] = lambda: None  # with a broker: the relays' periodic re-read
    skip: frozenset[str] = frozenset()  # transports this process does not type to (gui without a display)
    stop_handoff: Callable[[], None] = lambda: None  # sends handed to this process (core.handoff)

    def close(self) -> str:
        """Stop after the delivery in flight (nothing queued is cancelled); returns a summary."""
        from quarterdeck.core.service.http import stop_http

        self.stop_handoff()  # a send still waiting is told; its deliveries stay queued
        self.stop_watching()
        self.stop_relays()
        self.worker.request_stop()
        self.worker.join()
        stop_http(self.server, self.thread)
        try:
            counts = self.session.store.counts_by_state()
        finally:
            self.session.close()
        waiting = counts.get("waiting", 0)
        return (f"stopped: {self.worker.delivered} delivered, {self.worker.failed} failed by this "
                f"process; {counts['queued']} queued" + (f", {waiting} waiting for idle" if waiting else "")
                + " left in the outbox")


def start_service(args: argparse.Namespace) -> Service:
    """Open the session, start the HTTP endpoints, then the delivery worker."""
    service = open_service(args)
    service.worker.start()
    _watch(service)
    _hand_off(service, args)
    return service


def _watch(service: Service) -> None:
    """Watch the agents' panes and windows too (for the activity, send-when-idle and confirmations)."""
    from quarterdeck.cli.watch_cmd import start_watching

    service.stop_watching = start_watching(service.session.store.path.parent, service.session.roster, sys.stderr)


def open_service(args: argparse.Namespace) -> Service:
    """Open the session and start the HTTP endpoints; the delivery worker is made, not started.
    A ``CliError`` for a usage problem, a roster or an outbox that cannot be read."""
    from quarterdeck.cli.agents_cmd import read_roster
    from quarterdeck.core.activity.metrics import ActivityCollector
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
        # relays=True: with a broker configured, every relay's agents are delivered to and counted too
        session = Session.open(config_file=getattr(args, "config", None), roster=roster,
                               data_dir=args.data_dir, skip_transports=skip,
                               broker_url=getattr(args, "broker", None), relays=True)
    except ConfigError as exc:
        raise CliError(f"configuration is invalid:\n{exc}") from exc
    except StoreError as exc:
        raise CliError(f"cannot open the outbox: {exc}") from exc
    worker = DeliveryWorker(session.dispatcher, idle_wait=args.poll)
    session.dispatcher.add_listener(log_delivery)
    try:
        server, thread = serve_http(session.monitor, session.dispatcher.breakers,
                                    _fleet_health(worker, session, service_health), host, args.port,
                                    extra=[ActivityCollector(session.store.path.parent,  # every machine's agents
                                                             lambda: [a.id for a in session.delivering.agents])])
    except OSError as exc:
        session.close()
        raise CliError(f"cannot listen on {args.host} port {args.port}: {exc}") from exc
    return Service(session, worker, server, thread, server_url(server), stop_relays=_read_relays(session),
                   skip=skip)


def _hand_off(service: Service, args: argparse.Namespace) -> None:
    """Take the messages ``quarterdeck send`` hands over on this data folder (``DATA_DIR/quarterdeck.sock``)."""
    from quarterdeck.cli.roster_args import roster_path
    from quarterdeck.core.handoff.server import start_handoff

    server = start_handoff(service.session, roster=roster_path(args), config=getattr(args, "config", None),
                           broker=getattr(args, "broker", None), wake=service.worker.notify,
                           skip_transports=service.skip, who="quarterdeck serve")
    if server is not None:
        service.stop_handoff = server.close


def _fleet_health(worker: DeliveryWorker, session: Session,
                  make: Callable[[DeliveryWorker, Any], Callable[[], dict[str, Any]]]) -> Callable[[], dict[str, Any]]:
    """``/health`` over the agents deliveries go to: this machine's and, with a broker, every relay's
    as last read (the check is made again when they change), with each relay's health."""
    made: list[Any] = [None, None]  # the roster the check was made for, the check

    def check() -> dict[str, Any]:
        fleet = session.delivering
        if made[0] is not fleet:
            made[:] = [fleet, make(worker, fleet)]
        tree = made[1]()
        if session.machines is not None:
            tree["relays"] = {r.name: {"host": r.host, "health": r.health, "agents": list(r.agents)}
                              for r in session.machines.relays}
        return tree

    return check


def _read_relays(session: Session, every: float = RELAYS_EVERY_S) -> Callable[[], None]:
    """With a broker, read the relays again every ``every`` seconds (a thread), and their agents'
    activity events into the outbox (for /metrics' agent states); returns what stops both."""
    if session.broker is None:
        return lambda: None
    from quarterdeck.core.activity.remote import start_event_reader

    stop, stop_events = threading.Event(), start_event_reader(session.broker, session.store.path)

    def run() -> None:
        while not stop.wait(every):
            try:
                session.refresh_relays()
            except Exception as exc:  # never ends serving; the next read tries again
                log.warning("relays not read: %s", exc)

    thread = threading.Thread(target=run, name="quarterdeck-relays", daemon=True)
    thread.start()

    def stop_reading() -> None:
        stop.set()
        stop_events()
        thread.join(timeout=5)

    return stop_reading


def cmd_serve(args: argparse.Namespace) -> int:
    from quarterdeck.cli.common import log_in_one_line
    from quarterdeck.core.logsetup import logging_to_file

    handler = log_in_one_line()  # a worker retrying a storage fault: one line, not a traceback each time
    try:
        service = open_service(args)  # a usage problem ends here, before any log file is made
        with logging_to_file(args.data_dir):
            service.worker.start()
            _watch(service)
            _hand_off(service, args)
            return _serve(service)
    finally:
        logging.getLogger().removeHandler(handler)


def _serve(service: Service) -> int:
    log.info("serve started (pid %d): %s/metrics %s/health %s/livez; delivering from %s, %d agent(s)",
             os.getpid(), service.url, service.url, service.url, service.session.store.path,
             len(service.session.roster.agents))
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
    log.info("serve stopping on %s, after the delivery in flight", signal.Signals(requested[0]).name)
    print("stopping after the delivery in flight (Ctrl+C again quits at once)", flush=True)
    try:
        summary = service.close()
    except KeyboardInterrupt:
        log.info("serve quit before the delivery in flight finished; the next start marks it uncertain")
        print("quit before the delivery in flight finished; the next start marks it uncertain",
              file=sys.stderr)
        return 130
    log.info("serve %s", summary)
    print(summary, flush=True)
    return EXIT_OK
