"""``quarterdeck send``'s light path: hand the message to the Quarterdeck already running on the same data
folder (``quarterdeck serve``) and print what it streams back, exactly as the in-process path would print
it (:mod:`quarterdeck.cli.send_lines`), with the same exit codes. Loads no models, YAML or store.

Used only when it means the same send: a server that answers within ``HELLO_WAIT_S`` with the same data
folder, roster file, configuration file, ``COORDINATION_*`` environment and ``--broker`` (as this command
would read them: :func:`quarterdeck.core.handoff.wire.identity`), not stopped by a stop-all, whose stagger
is at least the one asked for (or a single recipient), and not ``--dry-run``. Otherwise, and whenever the
server says so before queueing (an input its own path explains better, an agent it does not type to), the
caller does the work itself; ``QUARTERDECK_DEBUG=1`` prints why, one line. ``QUARTERDECK_NO_HANDOFF=1``
turns the hand-off off. What the server streams back is printed by :mod:`quarterdeck.cli.handoff_follow`.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from quarterdeck.core.handoff.wire import VERSION, Lines, connect, encode, identity, socket_path

HELLO_WAIT_S = 0.2  # a server slower than this to say hello is not waited for: the send does the work itself


class NotHere(Exception):
    """The hand-off is not used for this send (nothing was queued); the reason is for the debug line."""


def debug(reason: str) -> None:
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
        debug(f"{path}: {exc}")
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
            debug(str(exc) or type(exc).__name__)
            return None
        from quarterdeck.cli.handoff_follow import Fallback, follow  # a server has the message: its stream

        try:
            return follow(lines, sock, hello, quiet=args.json, deadline=getattr(args, "deadline", None),
                          first="queued" if when_idle is None else "waiting")
        except Fallback as why:
            debug(str(why))
            return None


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
