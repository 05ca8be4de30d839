"""``quarterdeck send``'s light path: hand the message to the Quarterdeck already running on the same data
folder (``quarterdeck serve``) and print what it streams back, exactly as the in-process path would print
it (:mod:`quarterdeck.cli.send_lines`), with the same exit codes. Loads no pydantic, YAML or store.

Used only when it means the same send: a server that answers within ``HELLO_WAIT_S`` with the same data
folder, roster file, configuration file, ``COORDINATION_*`` environment and ``--broker`` (as this command
would read them: :func:`quarterdeck.core.handoff.wire.identity`), not stopped by a stop-all, whose stagger
is at least the one asked for (or a single recipient), and not ``--dry-run``. Otherwise, and whenever the
server says so before queueing (an input its own path explains better, an agent it does not type to), the
caller does the work itself; ``QUARTERDECK_DEBUG=1`` prints why, one line. ``QUARTERDECK_NO_HANDOFF=1``
turns the hand-off off.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quarterdeck.cli.common import EXIT_FAIL, EXIT_OK, EXIT_STORAGE
from quarterdeck.cli.send_lines import event_dict, report_progress
from quarterdeck.core.handoff.wire import VERSION, Lines, connect, encode, identity, socket_path

HELLO_WAIT_S = 0.2  # a server slower than this to say hello is not waited for: the send does the work itself
ACCEPT_WAIT_S = 60.0  # once the message is sent: queueing it may wait for a busy outbox
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class WireStep:
    """One step of one delivery as the server streamed it (the attributes ``send_lines`` prints)."""

    delivery_id: int
    agent_id: str
    state: str
    attempt: int
    detail: str
    latency: float | None
    verdict: str | None
    evidence: str
    outcome: str
    confirmed: bool

    @classmethod
    def of(cls, f: dict[str, Any]) -> WireStep:
        return cls(int(f["delivery_id"]), str(f["agent"]), str(f["state"]), int(f.get("attempt") or 0),
                   str(f.get("detail") or ""), f.get("latency"), f.get("verdict"), str(f.get("evidence") or ""),
                   str(f.get("outcome") or f["state"]), bool(f.get("confirmed")))


class NotHere(Exception):
    """The hand-off is not used for this send (nothing was queued); the reason is for the debug line."""


def _debug(reason: str) -> None:
    if os.environ.get("QUARTERDECK_DEBUG"):
        print(f"quarterdeck: debug: send does the work itself: {reason}", file=sys.stderr)


def _data_dir(args: argparse.Namespace) -> Path:
    from quarterdeck.core.paths import user_data_dir

    return args.data_dir if args.data_dir is not None else user_data_dir()


def _mine(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    from quarterdeck.core.paths import default_config_file, default_roster_file

    roster = Path(args.roster) if args.roster is not None else default_roster_file()
    config = Path(args.config) if getattr(args, "config", None) is not None else default_config_file()
    return identity(data_dir, roster, config, getattr(args, "broker", None))


def try_handoff(args: argparse.Namespace, text: str, when_idle: float | None) -> int | None:
    """The send's exit code when a running Quarterdeck took it; None: the caller sends it itself."""
    if args.dry_run or os.environ.get("QUARTERDECK_NO_HANDOFF"):
        return None
    data_dir = _data_dir(args)
    path = socket_path(data_dir)
    if not os.path.exists(path):  # no server: nothing more to read or hash
        return None
    mine = _mine(args, data_dir)
    try:
        sock = connect(path, HELLO_WAIT_S)
    except OSError as exc:
        _debug(f"{path}: {exc}")
        return None
    with sock:
        lines = Lines(sock)
        try:
            hello = _hello(lines, mine, args)
            sock.sendall(encode({"send": {
                "recipients": args.agents or [], "broadcast": bool(args.broadcast), "content": text,
                "priority": args.priority, "tags": list(args.tags), "type": args.msg_type, "sender": args.sender,
                "captain_last": bool(args.captain_last), "when_idle": when_idle}}))
        except (OSError, ValueError, NotHere) as exc:  # nothing was sent: this command does it itself
            _debug(str(exc) or type(exc).__name__)
            return None
        return _follow(lines, sock, hello, quiet=args.json)


def _hello(lines: Lines, mine: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    hello = lines.next()
    if hello is None or hello.get("hello") != VERSION:
        raise NotHere("the running Quarterdeck speaks another hand-off version")
    if hello.get("identity") != mine:
        different = [k for k, v in mine.items() if (hello.get("identity") or {}).get(k) != v]
        raise NotHere(f"the running Quarterdeck (pid {hello.get('pid')}) reads another {', '.join(different)}")
    if hello.get("stopped"):
        raise NotHere("the running Quarterdeck is stopped (stop all)")
    single = not args.broadcast and len(set(args.agents or [])) == 1
    if not single and args.stagger > float(hello.get("stagger") or 0.0):
        raise NotHere(f"--stagger {args.stagger:g} is longer than the running Quarterdeck's")
    return hello


def _follow(lines: Lines, sock: socket.socket, hello: dict[str, Any], *, quiet: bool) -> int | None:
    who = f"{hello.get('who') or 'the Quarterdeck on this data folder'} (pid {hello.get('pid')})"
    sock.settimeout(ACCEPT_WAIT_S)
    try:
        answer = lines.next()
    except (OSError, ValueError) as exc:
        answer = {"lost": str(exc)}
    if answer is None or "lost" in answer:
        print(f"quarterdeck: {who} did not answer the send; the message may be queued: "
              "'quarterdeck status' shows each delivery", file=sys.stderr)
        return EXIT_FAIL
    if "fallback" in answer:
        _debug(str(answer["fallback"]))
        return None
    if "error" in answer:
        error = answer["error"]
        for line in error.get("lines", []):
            print(line, file=sys.stderr)
        return EXIT_STORAGE.get(error.get("fault") or "", int(error.get("exit") or EXIT_FAIL))
    accepted = answer["accepted"]
    deliveries = [(int(i), str(agent)) for i, agent in accepted["deliveries"]]
    finals: dict[int, WireStep] = {}
    sock.settimeout(None)
    ended = _steps(lines, deliveries, finals, who, quiet=quiet)
    if ended is not None:
        return ended
    results = [finals[i] for i, _ in deliveries]
    if quiet:
        print(json.dumps({"message_id": accepted["message_id"], "results": [event_dict(e) for e in results]},
                         indent=2))
    return EXIT_OK if all(e.state == "delivered" for e in results) else EXIT_FAIL


def _steps(lines: Lines, deliveries: list[tuple[int, str]], finals: dict[int, WireStep], who: str, *,
           quiet: bool) -> int | None:
    """Print each step until every delivery has an outcome (None), or the exit code of an early end."""
    heard: list[str] = []

    def term(number: int, _frame: object) -> None:
        heard.append(signal.Signals(number).name)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, term) if hasattr(signal, "SIGTERM") else None
    try:
        while len(finals) < len(deliveries):
            line = lines.next()
            if line is None or "closing" in line:
                why = (line or {}).get("closing") or "the connection ended"
                _left(deliveries, finals, f"{who} stopped before every outcome ({why})", "stay queued for the "
                      "panel, `quarterdeck serve` or the next send")
                return EXIT_FAIL
            if "event" in line:
                report_progress(WireStep.of(line["event"]), finals, quiet=quiet)
    except KeyboardInterrupt:
        name = heard[0] if heard else "SIGINT"
        _left(deliveries, finals, f"{name}: stopped waiting", f"stay with {who}, which delivers them")
        raise
    except (OSError, ValueError) as exc:
        _left(deliveries, finals, f"lost {who} ({exc})", "stay queued for the panel, `quarterdeck serve` or "
              "the next send")
        return EXIT_FAIL
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return None


def _left(deliveries: list[tuple[int, str]], finals: dict[int, WireStep], what: str, where: str) -> None:
    left = [agent for i, agent in deliveries if i not in finals]
    print(f"quarterdeck: {what}; " + (f"{len(left)} without an outcome yet ({', '.join(left)}) {where}"
                                      if left else "every delivery has its outcome"), file=sys.stderr)
