"""`quarterdeck attention`: the agents that need the captain, longest waiting first.

Read from what the agents' own hooks reported (``quarterdeck hook``): each waiting agent with what
it waits for (a permission, a question, a notification's text), since when, and the signal it
rests on. ``--json`` gives the same as a list of objects. With a broker (``--broker`` or
``broker_url``), the relays' agents' events waiting on it are stored first, so an agent on another
machine that waits for the captain is listed too.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from quarterdeck.cli.common import EXIT_OK
from quarterdeck.cli.shared_options import add_broker_option


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "the agents waiting for you (a permission, a question), longest waiting first"
    parser = sub.add_parser("attention", help=text, description=text)
    parser.add_argument("--json", action="store_true", help="machine-readable list")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="where the outbox lives")
    add_broker_option(parser)
    parser.set_defaults(func=cmd_attention)


def cmd_attention(args: argparse.Namespace) -> int:
    from quarterdeck.core.activity.journal import activities
    from quarterdeck.core.activity.state import age, waiting
    from quarterdeck.core.paths import user_data_dir

    data_dir = args.data_dir if isinstance(getattr(args, "data_dir", None), Path) else user_data_dir()
    _catch_up(args, data_dir)
    now = time.time()
    queue = waiting(activities(data_dir))
    if args.json:
        print(json.dumps([{"agent": a.agent_id, **a.to_dict(now)} for a in queue], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not queue:
        print("no agent is waiting for you")
        return EXIT_OK
    rows = [("AGENT", "WAITS FOR", "WAITING", "SIGNAL", "MESSAGE")]
    for a in queue:
        waited = age(now - a.since) if a.since is not None else "-"
        rows.append((a.agent_id, a.waits_for or "-", waited, a.signal_text(now), (a.message or "").replace("\n", " ")))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])), row[4]]).rstrip())
    return EXIT_OK


def _catch_up(args: argparse.Namespace, data_dir: Path) -> None:
    """With a broker, store the relays' activity events waiting on it; one line on stderr when it cannot."""
    import sys

    from quarterdeck.cli.broker_args import broker_url

    url = broker_url(args)
    if url is None:
        return
    from quarterdeck.core.activity.remote import catch_up
    from quarterdeck.core.store import default_db_path
    from quarterdeck.core.transports.broker import BrokerLink

    data_dir.mkdir(parents=True, exist_ok=True)
    link = BrokerLink(url)
    try:
        note = catch_up(link, default_db_path(data_dir))
    finally:
        link.close()
    if note:
        print(f"problem: {note}", file=sys.stderr)


def activity_rows(agent_ids: list[str], data_dir: Path | None = None) -> dict[str, dict[str, object]]:
    """Each agent's activity in its JSON form (``agents list --json``). A database that cannot be
    read leaves every agent ``unknown``, saying why, rather than failing the listing."""
    from quarterdeck.core.activity.journal import activities
    from quarterdeck.core.activity.state import unknown
    from quarterdeck.core.paths import user_data_dir

    now = time.time()
    try:
        states = activities(data_dir if data_dir is not None else user_data_dir(), agent_ids)
    except Exception as exc:  # a damaged or locked database: the roster is still worth listing
        return {agent: {**unknown(agent).to_dict(now), "why": f"activity unreadable: {exc}"} for agent in agent_ids}
    return {agent: states[agent].to_dict(now) for agent in agent_ids}
