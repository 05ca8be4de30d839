"""`quarterdeck deadletter list|replay|purge`: events the integration API could not handle.

The store is ``deadletters.sqlite3`` in the data dir (``--data-dir`` or ``QUARTERDECK_DATA_DIR``).
``list`` and ``purge`` never create it. ``replay`` needs the handlers, which live in your
application, so it loads them: ``--processor MODULE:ATTR`` names a ``CoordinationEventProcessor``
(or a function returning one) importable from the current directory, as ``uvicorn app:app`` does.

Exit codes: 0 done; 1 when a replayed event failed again (it stays in the store, updated);
2 for a usage problem (unknown id, no ``--processor``, a processor that cannot be loaded).
"""
from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quarterdeck.cli.common import EXIT_FAIL, EXIT_OK, CliError
from quarterdeck.core.integration.processors import ProcessorSpecError, load_event_processor

if TYPE_CHECKING:
    from quarterdeck.core.integration.deadletter import DeadLetterStore


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dead = sub.add_parser("deadletter", help="list, replay or purge events that could not be handled")
    dead_sub = dead.add_subparsers(dest="deadletter_command", required=True, metavar="COMMAND")

    def common(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--data-dir", type=Path, metavar="DIR",
                            help="where deadletters.sqlite3 lives (default: the user data dir)")
        parser.add_argument("--type", dest="event_type", metavar="TYPE", help="only this event type")

    listing = dead_sub.add_parser("list", help="the dead letters, oldest first")
    common(listing)
    listing.add_argument("--limit", type=int, metavar="N", help="at most N entries")
    listing.add_argument("--json", action="store_true", help="machine-readable entries")
    listing.set_defaults(func=cmd_list)

    replay = dead_sub.add_parser(
        "replay", help="hand dead letters to their handlers again",
        description="Handled entries are removed; entries that fail again stay, updated.")
    common(replay)
    replay.add_argument("ids", nargs="*", type=int, metavar="ID", help="entries to replay")
    replay.add_argument("--all", action="store_true", help="replay every entry (of --type)")
    replay.add_argument("--processor", metavar="MODULE:ATTR", required=True,
                        help="your CoordinationEventProcessor, e.g. myapp.events:processor")
    replay.set_defaults(func=cmd_replay)

    purge = dead_sub.add_parser("purge", help="delete dead letters without replaying them")
    common(purge)
    purge.add_argument("--older-than", type=float, metavar="DAYS",
                       help="only entries last touched more than DAYS days ago")
    purge.set_defaults(func=cmd_purge)


def _store_path(args: argparse.Namespace) -> Path:
    from quarterdeck.core.integration.defaults import DEAD_LETTER_FILE, default_dead_letter_path

    return args.data_dir / DEAD_LETTER_FILE if args.data_dir else default_dead_letter_path()


def _open(args: argparse.Namespace) -> DeadLetterStore | None:
    """The store, or None when there is none yet (nothing is created)."""
    from quarterdeck.core.integration.deadletter import DeadLetterStore

    path = _store_path(args)
    return DeadLetterStore(path) if path.is_file() else None


def _when(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S")


def cmd_list(args: argparse.Namespace) -> int:
    store = _open(args)
    entries = [] if store is None else store.list(event_type=args.event_type, limit=args.limit)
    if store is not None:
        store.close()
    if args.json:
        print(json.dumps([e.to_dict() for e in entries], indent=2, ensure_ascii=False, default=str))
        return EXIT_OK
    if not entries:
        print(f"no dead letters in {_store_path(args)}")
        return EXIT_OK
    print(f"{'ID':>5}  {'TYPE':<24} {'REASON':<10} {'TRIES':>5} {'REPLAYS':>7}  {'SINCE (UTC)':<19}  ERROR")
    for e in entries:
        print(f"{e.id:>5}  {e.event_type:<24} {e.reason:<10} {e.attempts:>5} {e.replays:>7}  "
              f"{_when(e.created_at):<19}  {e.error}")
    print(f"{len(entries)} dead letter(s); replay with: quarterdeck deadletter replay ID "
          "--processor MODULE:ATTR")
    return EXIT_OK


def load_processor(spec: str) -> Any:
    """``MODULE:ATTR`` -> the event processor it names; a problem is the option's one-line error."""
    try:
        return load_event_processor(spec)
    except ProcessorSpecError as exc:
        raise CliError(f"--processor {exc}") from exc


def cmd_replay(args: argparse.Namespace) -> int:
    if args.all == bool(args.ids):
        raise CliError("name the entries to replay (IDs) or give --all, not both")
    processor = load_processor(args.processor)
    store = _open(args)
    if store is None:
        if args.all:
            print(f"no dead letters in {_store_path(args)}")
            return EXIT_OK
        raise CliError(f"no dead letter #{args.ids[0]}: there is no store at {_store_path(args)}")
    try:
        ids = store.ids(event_type=args.event_type) if args.all else args.ids
        missing = [i for i in ids if store.get(i) is None]
        if missing:
            raise CliError(f"no dead letter #{', #'.join(map(str, missing))}")
        failed = 0
        for entry_id in ids:
            result = processor.replay(entry_id, store=store)
            if result.ok:
                print(f"#{entry_id} {result.event_type}: replayed")
            else:
                failed += 1
                entry = store.get(entry_id)  # kept by the failed replay, unless purged meanwhile
                print(f"#{entry_id} {result.event_type}: failed again ({result.reason}): "
                      f"{entry.error if entry is not None else 'the entry is gone'}")
        print(f"{len(ids) - failed} replayed, {failed} failed again")
        return EXIT_FAIL if failed else EXIT_OK
    finally:
        store.close()


def cmd_purge(args: argparse.Namespace) -> int:
    store = _open(args)
    if store is None:
        print(f"0 dead letter(s) removed (no store at {_store_path(args)})")
        return EXIT_OK
    older = None if args.older_than is None else args.older_than * 86400.0
    with store:
        removed = store.purge(event_type=args.event_type, older_than=older)
    print(f"{removed} dead letter(s) removed")
    return EXIT_OK
