"""`quarterdeck agents list` with a broker: one roster across machines (issue 14).

The relays' agents' activity events waiting on the broker are stored first (``catch_up``), so the
activity shown for a remote agent is as fresh as its machine reported it.

Every agent gets a MACHINE column (a relay's name, or this machine's), a relay not seen for
10 s shows "last seen N s ago" and its agents' activity ``offline``, and everything wrong (an id
on two machines, an unreadable announcement, the broker unreachable) is printed below the table
as ``problems:`` lines. ``--json`` gives each agent ``machine`` and ``relay_seen`` (seconds since
its relay was last seen; null for this machine) and ``conflict``; the problems go to stderr.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from msgspec.structs import replace

from quarterdeck.cli.common import EXIT_FAIL, EXIT_OK

if TYPE_CHECKING:
    from quarterdeck.core.roster.remote import Machines, Placed
    from quarterdeck.core.roster.roster import Roster


def list_machines(args: argparse.Namespace, local: Roster) -> int | None:
    """Print the merged roster and return the exit code; None when no broker is configured."""
    from quarterdeck.cli.broker_args import broker_url

    url = broker_url(args)
    if url is None:
        return None
    from quarterdeck.core.activity.remote import catch_up
    from quarterdeck.core.paths import user_data_dir
    from quarterdeck.core.session import read_machines
    from quarterdeck.core.store import default_db_path
    from quarterdeck.core.transports.broker import BrokerLink

    data_dir = getattr(args, "data_dir", None) or user_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    link = BrokerLink(url)
    try:
        machines = read_machines(link, local, data_dir)
        unread = catch_up(link, default_db_path(data_dir)) if args.json else None  # the table shows no activity
    finally:
        link.close()
    if unread and not any("unreachable" in p for p in machines.problems):  # said once
        machines = replace(machines, problems=(*machines.problems, unread))
    return _print(args, machines)


def print_table(rows: Sequence[dict[str, object]]) -> None:
    """The rows as an aligned table under an upper-case header (``enabled`` as yes/no)."""
    header: dict[str, object] = {key: key.upper() for key in rows[0]}
    table: list[dict[str, object]] = [header, *({**r, "enabled": "yes" if r["enabled"] else "no"} for r in rows)]
    widths = {key: max(len(str(row[key])) for row in table) for key in header}
    for row in table:
        print("  ".join(str(row[key]).ljust(widths[key]) for key in header).rstrip())


def _row(p: Placed) -> dict[str, object]:
    from quarterdeck.cli.roster_args import target_of

    transport = p.agent.transport
    if transport.kind == "relay":
        kind, target = transport.via or "relay", transport.target
    else:
        kind, target = transport.kind, target_of(p.agent)
    seen = "" if p.relay is None else (p.relay.health if p.relay.stale else "")
    return {"id": p.agent.id, "machine": p.machine + (f" ({seen})" if seen else ""), "role": p.agent.role,
            "transport": kind, "target": target, "enabled": p.agent.enabled}


def _print(args: argparse.Namespace, machines: Machines) -> int:
    code = EXIT_FAIL if machines.conflicts else EXIT_OK
    if args.json:
        from quarterdeck.cli.attention_cmd import activity_rows
        from quarterdeck.core.activity.state import OFFLINE

        ids = [p.agent.id for p in machines.placed]
        activity = activity_rows(list(dict.fromkeys(ids)), getattr(args, "data_dir", None))
        out = []
        for p in machines.placed:
            row = {**_row(p), "machine": p.machine, "hooks": p.agent.hooks, "activity": activity[p.agent.id],
                   "relay_seen": None if p.relay is None else round(p.relay.age, 1),  # the broker's clock
                   "conflict": p.conflict}
            if p.offline:
                row["activity"] = {**activity[p.agent.id], "state": OFFLINE,
                                   "why": f"relay {p.machine} {p.relay.health if p.relay else ''}"}
            out.append(row)
        print(json.dumps(out, indent=2))  # the same list as without a broker; problems go to stderr
        for line in machines.problems:
            print(f"problem: {line}", file=sys.stderr)
        return code
    if machines.placed:
        print_table([_row(p) for p in machines.placed])
    else:
        print("the roster has no agents")
    for line in machines.problems:
        print(f"problem: {line}")
    return code
