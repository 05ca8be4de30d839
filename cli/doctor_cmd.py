"""`quarterdeck doctor`: check the data folder's database files, and repair a damaged one.

The outbox (``quarterdeck.sqlite3``, which also holds the contracts), the dead letters
(``deadletters.sqlite3``) and, in a relay's data folder, its ledger (``relay.sqlite``: which of its
deliveries came from the captain, the receipts not yet published) are checked with SQLite's
integrity check. ``--repair``
rebuilds each damaged file from what can still be read and keeps the broken one beside it under
a timestamped name (``quarterdeck.core.store.doctor``). Exit code 0 when every file is sound (or was
rebuilt), 1 when a file is damaged and was not repaired, 2 when a repair could not run.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from quarterdeck.cli.common import EXIT_FAIL, EXIT_OK, CliError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = sub.add_parser("doctor", help="check the outbox, dead letters and relay ledger files; --repair "
                                           "rebuilds a damaged one from what can be read")
    doctor.add_argument("--data-dir", type=Path, metavar="DIR", help="where the files live (default: the "
                                                                     "user data dir)")
    doctor.add_argument("--repair", action="store_true",
                        help="rebuild each damaged file from what can be read; the broken file is kept "
                             "beside it as <name>.broken-<time>.sqlite3")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    doctor.set_defaults(func=cmd_doctor)


def database_files(data_dir: Path | None) -> list[Path]:
    """The database files of a data folder that exist."""
    from quarterdeck.core.integration.defaults import DEAD_LETTER_FILE
    from quarterdeck.core.paths import user_data_dir
    from quarterdeck.core.relay.ledger import FILE_NAME as LEDGER_FILE
    from quarterdeck.core.store import DB_FILE_NAME

    folder = data_dir if data_dir is not None else user_data_dir()
    return [folder / name for name in (DB_FILE_NAME, DEAD_LETTER_FILE, LEDGER_FILE) if (folder / name).is_file()]


def cmd_doctor(args: argparse.Namespace) -> int:
    from quarterdeck.core.store import DB_FILE_NAME, SCHEMA_VERSION
    from quarterdeck.core.store.doctor import InUse, check, repair

    files = database_files(args.data_dir)
    if not files:
        folder = args.data_dir or "the user data folder"
        print(f"no Quarterdeck database files in {folder}: nothing to check")
        return EXIT_OK
    report: list[dict] = []
    damaged = 0
    for path in files:
        checked = check(path)
        entry: dict = {"file": str(path), "ok": checked.ok, "problems": checked.problems}
        if not args.json:
            print(checked.line())
        if not checked.ok and args.repair:
            try:
                outbox = path.with_name(DB_FILE_NAME)  # its processes have the others open too
                done = repair(path, version_hint=SCHEMA_VERSION if path == outbox else 0, owner=outbox)
            except InUse as exc:
                raise CliError(str(exc)) from exc
            entry.update(repaired=True, aside=str(done.aside), kept=done.kept, lost=done.lost)
            if not args.json:
                print("\n".join(done.lines()))
            after = check(path)
            entry["ok_after"] = after.ok
            damaged += 0 if after.ok else 1
        elif not checked.ok:
            damaged += 1
        report.append(entry)
    if args.json:
        print(json.dumps({"files": report}, indent=2))
    elif damaged and not args.repair:
        from quarterdeck.core.store.faults import shell_word

        again = f" --data-dir {shell_word(str(args.data_dir))}" if args.data_dir is not None else ""
        print(f"run 'quarterdeck doctor --repair{again}' (with the panel, serve and relays on it stopped) to "
              "rebuild the damaged file from what can be read; the broken one is kept", file=sys.stderr)
    return EXIT_FAIL if damaged else EXIT_OK
