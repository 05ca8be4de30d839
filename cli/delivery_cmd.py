"""`quarterdeck send`, `history`, `status` and `stop`: the outbox from a script's point of view."""
from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quarterdeck.cli.common import EXIT_FAIL, EXIT_OK, EXIT_TIMEOUT, CliError, command_log, log_delivery, read_text_arg
from quarterdeck.cli.send_lines import Deadline
from quarterdeck.cli.shared_options import add_broker_option
from quarterdeck.core.tags import STANDARD_TAGS

if TYPE_CHECKING:
    from quarterdeck.core.models import Agent
    from quarterdeck.core.store import HistoryRow, Store
    from quarterdeck.core.transports.dryrun import DryRunDelivery


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--roster", type=Path, metavar="PATH", help="agents.yaml (default: user config dir)")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="where the outbox lives")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    send = sub.add_parser("send", help="send a message and wait for every recipient's outcome")
    who = send.add_mutually_exclusive_group(required=True)
    who.add_argument("-a", "--agent", dest="agents", action="append", metavar="AGENT",
                     help="a recipient's id; repeat it, or list several with commas (-a Agent-1,Agent-2)")
    who.add_argument("--broadcast", action="store_true", help="every enabled agent")
    send.add_argument("-m", "--message", help="the message text")
    send.add_argument("text", nargs="?", metavar="TEXT",
                      help="the message text (as -m TEXT), or - to read it from standard input")
    send.add_argument("--priority", choices=["normal", "urgent"], default="normal")
    send.add_argument("--tag", dest="tags", action="append", default=[],
                      help=f"tag (standard: {', '.join(STANDARD_TAGS)})")
    send.add_argument("--type", dest="msg_type", choices=["text", "onboarding"], default="text")
    send.add_argument("--sender", default="Captain")
    send.add_argument("--captain-last", action="store_true", help="deliver to captain-role agents last")
    send.add_argument("--stagger", type=float, default=0.05,
                      help="at least this many seconds between the starts of two agents' deliveries (default 0.05)")
    send.add_argument("--dry-run", action="store_true", help="print what each agent would get; send nothing")
    send.add_argument("--when", choices=["idle"], help="idle: wait until each agent is idle (its hooks or "
                      "watchers say so) before typing; a delivery still waiting after --ttl ends 'expired'")
    send.add_argument("--ttl", metavar="DURATION", help="with --when idle: how long to wait, e.g. 90s, 30m, 2h "
                      "(default 30m)")
    send.add_argument("--timeout", metavar="DURATION", help="stop waiting after DURATION (e.g. 90s, 5m; a delivery "
                      "being typed is finished first): those without an outcome go on without this command, "
                      "which exits 124")
    _common(send)
    add_broker_option(send)
    send.set_defaults(func=cmd_send)

    hist = sub.add_parser("history", help="search past deliveries")
    hist.add_argument("--agent")
    hist.add_argument("--state", choices=["waiting", "queued", "sending", "delivered", "failed", "cancelled",
                                          "uncertain", "expired"])
    hist.add_argument("--search", metavar="TEXT", help="full-text search in message content")
    hist.add_argument("--limit", type=int, default=20)
    _common(hist)
    hist.set_defaults(func=cmd_history)

    status = sub.add_parser("status", help="the outbox and each agent's last delivery")
    _common(status)
    status.set_defaults(func=cmd_status)

    stop = sub.add_parser("stop", help="stop all: cancel every queued delivery and halt every Quarterdeck "
                                       "process delivering from this outbox")
    _common(stop)
    add_broker_option(stop)
    stop.set_defaults(func=cmd_stop)

    resume = sub.add_parser("resume", help="resume all: every Quarterdeck process halted by a stop all "
                                           "delivers again")
    _common(resume)
    add_broker_option(resume)
    resume.set_defaults(func=cmd_resume)


def _open_store(args: argparse.Namespace) -> Store:
    from quarterdeck.core.store import Store, default_db_path

    return Store(default_db_path(args.data_dir))


def cmd_send(args: argparse.Namespace) -> int:
    """Hand the message to a Quarterdeck running on the same data folder (``quarterdeck serve``) when it
    means the same send (:mod:`quarterdeck.cli.handoff_client`: no models, YAML or store loaded); else
    open a session and deliver it here."""
    from quarterdeck.cli.handoff_client import try_handoff

    args.deadline = _deadline(args.timeout)  # counted from the start
    when_idle = _when_idle(args)
    text = read_text_arg(args.message, args.text)
    if args.agents:  # -a Agent-1,Agent-2 as -a Agent-1 -a Agent-2 (here and handed off)
        args.agents = [a.strip() for given in args.agents for a in given.split(",") if a.strip()]
        if not args.agents:
            raise CliError("-a names no agent: give an agent id (-a Agent-1, or several: -a Agent-1,Agent-2)")
    handed = try_handoff(args, text, when_idle)
    return handed if handed is not None else _send_here(args, text, when_idle)


def _send_here(args: argparse.Namespace, text: str, when_idle: float | None) -> int:
    from quarterdeck.cli.roster_args import read_roster  # the roster's models: not for send --help
    from quarterdeck.cli.submit_wait import event_dict, submit_and_wait
    from quarterdeck.core.model_check import checked
    from quarterdeck.core.models import Message
    from quarterdeck.core.session import Session

    _, roster = read_roster(args)
    dry: dict[str, DryRunDelivery] = {}
    factory: Callable[[Agent], DryRunDelivery] | None = None
    outbox: contextlib.AbstractContextManager[Path | None] = contextlib.nullcontext(args.data_dir)
    if args.dry_run:  # the dry-run transport and its throwaway outbox: not for a real send
        from quarterdeck.core.transports.dryrun import DryRunDelivery, throwaway_outbox

        def dry_run(agent: Agent) -> DryRunDelivery:
            return dry.setdefault(agent.id, DryRunDelivery())

        factory, outbox = dry_run, throwaway_outbox(True, args.data_dir)
    message = checked(Message, {"sender": args.sender, "recipients": args.agents or [], "priority": args.priority,
                                "type": "broadcast" if args.broadcast else args.msg_type, "tags": args.tags or [],
                                "content": text})
    # a real send is logged (quarterdeck.log, each delivery's outcome); a dry run leaves no trace
    with command_log(args, dry_run=args.dry_run), outbox as data_dir:
        session = Session.open(config_file=args.config, roster=roster, data_dir=data_dir,
                               transport_factory=factory, stagger=args.stagger,
                               broker_url=getattr(args, "broker", None), relays=True)
        session.dispatcher.add_listener(log_delivery)
        try:
            results = submit_and_wait(session, message, captain_last=args.captain_last, quiet=args.json,
                                      when_idle=None if args.dry_run else when_idle,  # a dry run types nothing
                                      deadline=args.deadline)
        finally:
            session.close()
    timed_out = args.deadline is not None and args.deadline.hit
    if args.json:
        print(json.dumps({"message_id": message.id, "results": [event_dict(e) for e in results],
                          "timed_out": timed_out}, indent=2))
    elif args.dry_run:
        for agent_id, transport in dry.items():
            for req in transport.sent:
                print(f"--- {agent_id} ({session.delivering.get(agent_id).transport.kind}, not sent)\n{req.text}")
    if timed_out:
        return EXIT_TIMEOUT
    return EXIT_OK if all(e.state == "delivered" for e in results) else EXIT_FAIL


def _deadline(text: str | None) -> Deadline | None:
    """``--timeout`` from now (None: wait for every outcome); CliError on a bad duration."""
    if text is None:
        return None
    from quarterdeck.core.compose.when_idle import format_duration, parse_duration

    try:
        seconds = parse_duration(text, longest="the longest a send waits")
    except ValueError as exc:
        raise CliError(f"--timeout: {exc}") from exc
    said = format_duration(seconds) if seconds == round(seconds) else f"{seconds:g}s"
    return Deadline(time.monotonic() + seconds, said)


def _when_idle(args: argparse.Namespace) -> float | None:
    """``--when idle``'s time to live in seconds (None: send at once); CliError on a bad --ttl."""
    from quarterdeck.cli.common import CliError

    if args.when is None:
        if args.ttl is not None:
            raise CliError("--ttl goes with --when idle: how long a message may wait for its agent")
        return None
    from quarterdeck.core.compose.when_idle import DEFAULT_TTL, parse_duration

    try:
        return DEFAULT_TTL if args.ttl is None else parse_duration(args.ttl)
    except ValueError as exc:
        raise CliError(f"--ttl: {exc}") from exc


def cmd_history(args: argparse.Namespace) -> int:
    from quarterdeck.core.store import count, search

    with _open_store(args) as store:
        rows = search(store, agent=args.agent, state=args.state, text=args.search, limit=args.limit)
        total = count(store, agent=args.agent, state=args.state, text=args.search)
    if args.json:
        print(json.dumps({"total": total, "rows": [_row_dict(r) for r in rows]}, indent=2))
        return EXIT_OK
    for r in rows:
        first = r.content.splitlines()[0] if r.content else ""
        said = " · ".join(part for part in (r.evidence, r.reason) if part)
        reason = f"  ({said})" if said else ""
        print(f"{r.created_at:%Y-%m-%d %H:%M:%S}  {r.agent_id:<14} {r.outcome:<20} {first[:60]}{reason}")
    print(f"{len(rows)} of {total} deliveries")
    return EXIT_OK


def _row_dict(r: HistoryRow) -> dict[str, Any]:
    return {"delivery_id": r.delivery_id, "message_id": r.message_id, "agent": r.agent_id,
            "state": str(r.state), "verdict": r.verdict, "evidence": r.evidence, "reason": r.reason,
            "attempts": r.attempts, "priority": r.priority, "machine": r.machine,
            "content": r.content, "redacted": r.redacted, "created_at": r.created_at.isoformat(),
            "latency_ms": r.latency_ms}


def cmd_status(args: argparse.Namespace) -> int:
    from quarterdeck.cli.roster_args import read_roster
    from quarterdeck.core.store import search

    _, roster = read_roster(args)
    with _open_store(args) as store:
        store.recover()  # deliveries a dead process left 'sending' become 'uncertain'
        counts = {str(k): v for k, v in store.counts_by_state().items()}
        last: dict[str, HistoryRow | None] = {a: next(iter(search(store, agent=a, limit=1)), None)
                                              for a in roster.ids()}
    uncertain = EXIT_FAIL if counts.get("uncertain") else EXIT_OK
    if args.json:
        print(json.dumps({"outbox": counts, "agents": {a: (_row_dict(r) if r else None)
                                                         for a, r in last.items()}}, indent=2))
        return uncertain
    print("outbox: " + (", ".join(f"{k} {v}" for k, v in counts.items() if v) or "empty"))
    for agent_id, row in last.items():
        what = f"{row.outcome} {row.updated_at:%Y-%m-%d %H:%M:%S}" if row else "no deliveries yet"
        print(f"  {agent_id:<16} {what}")
    return uncertain


def cmd_stop(args: argparse.Namespace) -> int:
    from quarterdeck.cli.broker_args import tell_relays

    with _open_store(args) as store:
        mark = store.request_stop()
    tell_relays(args, "stop", mark.generation, quiet=args.json)
    if args.json:
        print(json.dumps({"cancelled": mark.cancelled, "generation": mark.generation}))
    else:
        print(f"cancelled {mark.cancelled} queued deliveries; every Quarterdeck process on this outbox "
              "halts its delivery in flight")
    return EXIT_OK


def cmd_resume(args: argparse.Namespace) -> int:
    from quarterdeck.cli.broker_args import tell_relays

    with _open_store(args) as store:
        mark = store.request_resume()
    tell_relays(args, "resume", mark.resumed, quiet=args.json)
    if args.json:
        print(json.dumps({"resumed": mark.resumed}))
    else:
        print("resumed: every Quarterdeck process on this outbox halted by a stop all delivers again")
    return EXIT_OK
