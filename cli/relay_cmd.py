"""`quarterdeck relay --name NAME [--roster PATH] [--broker URL] [--data-dir DIR]`: this machine's
deliverer for a captain elsewhere, over Redis Streams (``quarterdeck.core.relay.relay``).

``--broker`` falls back to ``COORDINATION_BROKER_URL``; without either it ends with one line, as
it does for a URL that is not one and for a broker that refuses its credentials or a command. A
broker that does not answer yet is said in one line and waited for (the relay starts). It
logs to ``quarterdeck.log`` in the data dir; warnings (a broker outage, once per outage) also go to
stderr. Ctrl+C or SIGTERM: it stops after the delivery in flight and exits 0.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from quarterdeck.cli.common import EXIT_OK, CliError, log_delivery

BROKER_ENV = "COORDINATION_BROKER_URL"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "deliver for a captain on another machine: take deliveries from the broker, report every receipt"
    parser = sub.add_parser("relay", help=text, description=text + ". Ctrl+C stops after the delivery in flight.")
    parser.add_argument("--name", required=True, metavar="NAME",
                        help="this relay's name (letters, digits, '.', '_', '-'); the captain addresses it by it")
    parser.add_argument("--roster", type=Path, metavar="PATH", help="this machine's agents.yaml "
                        "(default: the user config dir)")
    parser.add_argument("--broker", metavar="URL", help=f"redis://[USER:PASSWORD@]HOST:PORT or rediss://... "
                        f"(default: ${BROKER_ENV})")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="this relay's own outbox and files "
                        "(default: the user data dir)")
    parser.add_argument("--stagger", type=float, default=0.05, metavar="SECONDS",
                        help="at least this many seconds between the starts of two agents' deliveries (default "
                             "0.05; 0 for inbox and tmux agents only, where no window takes the focus)")
    parser.set_defaults(func=cmd_relay)


def cmd_relay(args: argparse.Namespace) -> int:
    from quarterdeck.cli.common import log_in_one_line
    from quarterdeck.cli.roster_args import read_roster
    from quarterdeck.core.logsetup import logging_to_file
    from quarterdeck.core.relay.link import BrokerError, open_link
    from quarterdeck.core.relay.protocol import check_name

    try:
        name = check_name(args.name)
    except ValueError as exc:
        raise CliError(f"--name: {exc}") from None
    url = args.broker or os.environ.get(BROKER_ENV, "")
    if not url:
        raise CliError(f"no broker: give --broker redis://HOST:PORT or set {BROKER_ENV}")
    _, roster = read_roster(args)
    try:  # one round trip: it tells a cluster from a single server; a broker that does not answer yet is waited for
        client, down = open_link(url)
    except BrokerError as exc:
        raise CliError(str(exc)) from None
    handler = log_in_one_line()
    try:
        session = _open_session(args, roster)
        with logging_to_file(args.data_dir):
            return _run(name, session, client, url, down)
    finally:
        logging.getLogger().removeHandler(handler)
        client.close()


def _open_session(args: argparse.Namespace, roster: Any) -> Any:
    from quarterdeck.core.config import ConfigError
    from quarterdeck.core.session import Session
    from quarterdeck.core.store import StoreError

    skip = frozenset() if os.environ.get("DISPLAY") else frozenset({"gui"})
    if skip and any(a.transport.kind == "gui" for a in roster.agents):
        print("relay: no display; deliveries to gui agents stay queued until a relay with one runs",
              file=sys.stderr)
    try:
        return Session.open(config_file=getattr(args, "config", None), roster=roster, data_dir=args.data_dir,
                            skip_transports=skip, stagger=args.stagger, search=False)
    except ConfigError as exc:
        raise CliError(f"configuration is invalid:\n{exc}") from exc
    except StoreError as exc:
        raise CliError(f"cannot open the outbox: {exc}") from exc


def _run(name: str, session: Any, client: Any, url: str, down: BaseException | None = None) -> int:
    from quarterdeck.core.relay.link import redact, unreachable
    from quarterdeck.core.relay.relay import Relay

    session.dispatcher.add_listener(log_delivery)
    relay = Relay(name, session, client, url)
    if down is not None:  # said once here; the relay says when it answers
        relay.outage.assume_down()
        print(f"{unreachable(down, url)}; delivering nothing new until it answers, retrying", file=sys.stderr,
              flush=True)
    previous: dict[signal.Signals, Any] = {}
    def on_signal(_signum: int, _frame: Any) -> None:
        if relay.stop.is_set():  # asked twice: quit now (the next start marks a delivery in flight uncertain)
            raise KeyboardInterrupt
        relay.stop.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    runner = threading.Thread(target=relay.run, name="relay", daemon=True)
    try:
        runner.start()
        print(f"relay {name}: delivering to {len(session.roster.agents)} agent(s) from {relay.stream} at "
              f"{redact(url)}; Ctrl+C stops after the delivery in flight", flush=True)
        while runner.is_alive() and not relay.stop.wait(0.2):
            pass
        print("relay: stopping after the delivery in flight (Ctrl+C again quits at once)", flush=True)
        runner.join()
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        session.close()
    print(f"relay {name} stopped: {relay.taken} taken, {relay.duplicates} repeated entries ignored, "
          f"{relay.receipts.published} receipts published, {relay.unsent} waiting for the broker, "
          f"{relay.events.published} activity events published", flush=True)
    return EXIT_OK
