"""`quarterdeck contracts`: tasks the captain hands to agents (create, assign, claim, complete, send).

Exit codes: 0 done; 1 the contract's state does not allow the move (claimed by someone else
first, already done, ...) or a send was not delivered; 2 a mistake in the command (no such
contract, a blank title, an agent not on the roster).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from quarterdeck.cli.common import EXIT_FAIL, EXIT_OK, CliError
from quarterdeck.core.contracts import (
    AgentStatus,
    Contract,
    ContractError,
    ContractState,
    ContractStore,
    InvalidTransition,
    contract_message,
    parse_id,
    points_text,
    redaction_text,
    sendable,
)

STATES = [str(s) for s in ContractState]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    contracts = sub.add_parser("contracts", help="tasks for agents: create, assign, claim, complete, send",
                               description=__doc__.split("\n\n")[1].replace("\n", " "))
    cmds = contracts.add_subparsers(dest="contracts_command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help_text: str, *,
                roster: bool = False) -> argparse.ArgumentParser:
        parser = cmds.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("--data-dir", type=Path, metavar="DIR", help="where the outbox and contracts live")
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        if roster:
            parser.add_argument("--roster", type=Path, metavar="PATH",
                                help="agents.yaml, to check agent names (default: user config dir)")
        parser.set_defaults(func=func)
        return parser

    ls = command("list", cmd_list, "the contracts, oldest first")
    ls.add_argument("--agent", metavar="AGENT", help="only this agent's contracts")
    ls.add_argument("--state", choices=[*STATES, "active"], help="only this state (active: open or claimed)")
    create = command("create", cmd_create, "a new open contract", roster=True)
    create.add_argument("title", metavar="TITLE")
    create.add_argument("--description", default="", metavar="TEXT")
    create.add_argument("--points", type=int, default=1, metavar="N", help="its size (default 1)")
    create.add_argument("--assign", metavar="AGENT", help="mean it for this agent (only it may claim it)")
    assign = command("assign", cmd_assign, "mean an open contract for an agent", roster=True)
    assign.add_argument("id", type=_contract_id, metavar="ID")
    assign.add_argument("agent", metavar="AGENT", help="the agent, or - for whoever claims it first")
    claim = command("claim", cmd_claim, "take a contract (an agent runs this when it starts)", roster=True)
    claim.add_argument("id", type=_contract_id, metavar="ID")
    claim.add_argument("agent", metavar="AGENT")
    complete = command("complete", cmd_complete, "mark a claimed contract done")
    complete.add_argument("id", type=_contract_id, metavar="ID")
    complete.add_argument("--note", default="", metavar="TEXT", help="what was done")
    cancel = command("cancel", cmd_cancel, "drop an open or claimed contract")
    cancel.add_argument("id", type=_contract_id, metavar="ID")
    cancel.add_argument("--note", default="", metavar="TEXT", help="why")
    points = command("points", cmd_points, "change an open or claimed contract's points")
    points.add_argument("id", type=_contract_id, metavar="ID")
    points.add_argument("points", type=int, metavar="N")
    command("status", cmd_status, "per agent: open, claimed and done contracts, points done")
    send = command("send", cmd_send, "send a contract to its agent (rules, outbox, history)", roster=True)
    send.add_argument("id", type=_contract_id, metavar="ID")
    send.add_argument("--sender", default="Captain")


def _contract_id(text: str) -> int:
    try:
        number = parse_id(text)
    except ContractError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if number > 2**63 - 1:  # beyond SQLite's integers: no contract can have it
        raise argparse.ArgumentTypeError(f"{text} is too large for a contract number")
    return number


def _store(args: argparse.Namespace) -> ContractStore:
    from quarterdeck.core.store import default_db_path

    return ContractStore(default_db_path(args.data_dir))


def _known_agent(args: argparse.Namespace, agent: str) -> str:
    """``agent`` if the roster (when there is one) lists it; a CliError naming the roster otherwise."""
    from quarterdeck.cli.roster_args import read_roster, roster_if_any

    if roster_if_any(args) is not None:
        _, roster = read_roster(args)
        if agent.strip() not in roster:
            raise CliError(f"{agent!r} is not on the roster ({', '.join(roster.ids()) or 'no agents'})")
    return agent


def _change(args: argparse.Namespace, action: Callable[[ContractStore], Contract]) -> int:
    """Run ``action(store)`` and print the contract it returns; a refused move exits 1."""
    try:
        with _store(args) as store:
            contract = action(store)
    except InvalidTransition as exc:
        print(f"quarterdeck: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except ContractError as exc:
        raise CliError(str(exc)) from exc
    if contract.redacted:
        print(f"quarterdeck: contract #{contract.id} {redaction_text(contract.redacted)}", file=sys.stderr)
    if args.json:
        print(json.dumps(contract.to_json(), indent=2))
    else:
        print(describe(contract))
    return EXIT_OK


def describe(c: Contract) -> str:
    """One line saying where a contract stands after a change."""
    head = f"contract #{c.id} {c.state}: {c.title} ({points_text(c.points)})"
    who = {ContractState.OPEN: f", assigned to {c.assignee}" if c.assignee else ", for whoever claims it",
           ContractState.CLAIMED: f", claimed by {c.assignee}",
           ContractState.DONE: f", by {c.assignee}"}.get(c.state, "")
    return head + who + (f"\n  note: {c.note}" if c.note else "")


def cmd_create(args: argparse.Namespace) -> int:
    agent = None if args.assign is None else _known_agent(args, args.assign)
    return _change(args, lambda s: s.create(args.title, description=args.description, points=args.points,
                                            assignee=agent))


def cmd_assign(args: argparse.Namespace) -> int:
    agent = None if args.agent == "-" else _known_agent(args, args.agent)
    return _change(args, lambda s: s.assign(args.id, agent))


def cmd_claim(args: argparse.Namespace) -> int:
    agent = _known_agent(args, args.agent)
    return _change(args, lambda s: s.claim(args.id, agent))


def cmd_complete(args: argparse.Namespace) -> int:
    return _change(args, lambda s: s.complete(args.id, args.note))


def cmd_cancel(args: argparse.Namespace) -> int:
    return _change(args, lambda s: s.cancel(args.id, args.note))


def cmd_points(args: argparse.Namespace) -> int:
    return _change(args, lambda s: s.set_points(args.id, args.points))


def cmd_list(args: argparse.Namespace) -> int:
    with _store(args) as store:
        try:
            found = store.list(agent=args.agent, state=args.state)
        except ContractError as exc:
            raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps([c.to_json() for c in found], indent=2))
        return EXIT_OK
    if not found:
        print("no contracts" + (" match" if args.agent or args.state else " yet: quarterdeck contracts create "
                                                                            "TITLE"))
        return EXIT_OK
    rows = [("ID", "STATE", "POINTS", "AGENT", "TITLE")]
    rows += [(f"#{c.id}", str(c.state), str(c.points), c.assignee or "-", c.title) for c in found]
    _table(rows, right={0, 2})
    print(f"{len(found)} contract(s), {sum(c.points for c in found)} points")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    with _store(args) as store:
        try:
            status = store.status()
        except ContractError as exc:
            raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps([s.to_json() for s in status], indent=2))
        return EXIT_OK
    if not status:
        print("no contracts yet")
        return EXIT_OK
    rows: list[tuple[str, ...]] = [("AGENT", "OPEN", "CLAIMED", "DONE", "POINTS DONE", "POINTS TO DO")]
    rows += [_status_row(s) for s in status]
    _table(rows, right={1, 2, 3, 4, 5})
    return EXIT_OK


def _status_row(s: AgentStatus) -> tuple[str, ...]:
    return (s.agent or "(unassigned)", str(s.open), str(s.claimed), str(s.done), str(s.points_done),
            str(s.points_pending))


def _table(rows: Sequence[tuple[str, ...]], *, right: set[int]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.rjust(width) if i in right else cell.ljust(width)
                 for i, (cell, width) in enumerate(zip(row, widths, strict=True))]
        print("  ".join(cells).rstrip())


def cmd_send(args: argparse.Namespace) -> int:
    """Queue the contract's message through a session (rules, outbox, history) and deliver it."""
    from quarterdeck.cli.agents_cmd import read_roster
    from quarterdeck.cli.submit_wait import event_dict, submit_and_wait
    from quarterdeck.core.session import Session

    _, roster = read_roster(args)
    with _store(args) as store:
        try:
            contract = store.get(args.id)
            sendable(contract)
        except InvalidTransition as exc:
            print(f"quarterdeck: {exc}", file=sys.stderr)
            return EXIT_FAIL
        except ContractError as exc:
            raise CliError(str(exc)) from exc
        message = contract_message(contract, sender=args.sender)
        session = Session.open(config_file=args.config, roster=roster, data_dir=args.data_dir)
        try:
            results = submit_and_wait(session, message, quiet=args.json)
        finally:
            session.close()
        delivered = all(e.state == "delivered" for e in results)
        if delivered:
            store.mark_sent(contract.id, message.id)
    if args.json:
        print(json.dumps({"contract": contract.id, "message_id": message.id,
                          "results": [event_dict(e) for e in results]}, indent=2))
    elif delivered:
        print(f"contract #{contract.id} delivered to {contract.assignee}")
    return EXIT_OK if delivered else EXIT_FAIL
