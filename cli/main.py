# PYTHON_ARGCOMPLETE_OK (argcomplete: this entry point answers Tab completion itself)
"""The `quarterdeck` command: one entry point, a subcommand per job.

Whatever goes wrong ends in one line on stderr and a documented exit code (``quarterdeck.cli.common``), never
a Python traceback: bad input (text that is not UTF-8, an invalid tag, a count out of range), a
storage fault (full disk, damaged or locked database, read-only or missing folder), an interrupt.
Everything it creates is private to the user (folders 0700, files 0600); what an older version
left readable by others is tightened on start, with a note.

A command's module is imported when argparse chooses the command (:mod:`quarterdeck.cli.commands`), so
``quarterdeck --version`` and ``--help`` import none of them, and ``quarterdeck send`` only what sending needs.
"""
from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from quarterdeck import __version__
from quarterdeck.cli.commands import PACKAGE, LazyCommands, module_names
from quarterdeck.cli.common import EXIT_STORAGE, EXIT_USAGE, CliError, undecodable
from quarterdeck.cli.shared_options import add_shared_options, align_command, refused_shared

EXIT_INTERNAL, EXIT_INTERRUPTED = 70, 130
_MAX_COUNT = 2**31 - 1
_MAX_SECONDS = 10.0**9

_FIELD_OPTIONS = {"tags": "--tag", "content": "the message text", "sender": "--sender", "recipients": "--agent",
                  "priority": "--priority", "type": "--type"}

def _count(text: str) -> int:
    """An int option: a whole number from 0 to 2**31-1 (no negative count, no overflow later)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= _MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{text} is out of range: give a whole number from 0 to {_MAX_COUNT}")
    return value


def _seconds(text: str) -> float:
    """A float option: a finite number from 0 to 10**9."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and 0 <= value <= _MAX_SECONDS):
        raise argparse.ArgumentTypeError(f"{text} is out of range: give a number from 0 to {_MAX_SECONDS:g}")
    return value


def _bound_numbers(parser: argparse.ArgumentParser, names: dict[str, str]) -> None:
    """Give every int and float option of every command a range; note each option's name."""
    for action in parser._actions:
        if action.type is int:
            action.type = _count
        elif action.type is float:
            action.type = _seconds
        if action.option_strings:
            names.setdefault(action.dest, max(action.option_strings, key=len))
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _bound_numbers(sub, names)


def build_parser(*, lazy: bool = False) -> argparse.ArgumentParser:
    """The whole command line; ``lazy``: each command's module is imported only when the command is chosen
    (``quarterdeck --help`` lists them all from :data:`quarterdeck.cli.commands.COMMANDS`)."""
    parser = argparse.ArgumentParser(
        prog="quarterdeck",
        description="Coordinate a swarm of AI coding agents: compose, validate, deliver, watch.",
        epilog="Exit codes: 0 done, 1 something failed, 2 usage or input, 3 disk full, 4 damaged "
               "database, 5 database locked, 6 not writable, 7 folder missing, 8 other storage error, "
               "70 internal error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"quarterdeck {__version__}")
    add_shared_options(parser)
    names: dict[str, str] = {}
    parser.set_defaults(_option_names=names)
    _bound_numbers(parser, names)
    parser.add_subparsers(dest="command", metavar="COMMAND", action=LazyCommands)
    sub = _commands(parser)

    def finish(parsers: Sequence[argparse.ArgumentParser]) -> None:
        for command in parsers:
            align_command(command)
            _bound_numbers(command, names)

    sub.setup(finish)
    if not lazy:
        sub.resolve_all()
    return parser


def _commands(parser: argparse.ArgumentParser) -> LazyCommands:
    return next(action for action in parser._actions if isinstance(action, LazyCommands))


def __getattr__(name: str) -> Any:
    if name == "COMMAND_MODULES":  # every command's module, imported (what the parser used to be built from)
        return tuple(importlib.import_module(f"{PACKAGE}.{module}") for module in module_names())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _check_folders() -> None:
    """Refuse a folder variable that names no folder (``~user`` with no known home) in one line."""
    from quarterdeck.core.paths import NoHome, check_overrides

    try:
        check_overrides()
    except NoHome as exc:
        raise CliError(str(exc)) from None


def _check_text(args: argparse.Namespace) -> None:
    """Refuse an argument holding bytes that are not UTF-8 (they could be neither stored nor shown)."""
    names = getattr(args, "_option_names", {})
    for dest, value in vars(args).items():
        for item in value if isinstance(value, list | tuple) else [value]:
            text = str(item) if isinstance(item, str | Path) else None
            at = undecodable(text) if text is not None else None
            if at is not None:
                name = names.get(dest, dest)
                raise CliError(f"{name} is not UTF-8 text (a byte that is not UTF-8 at offset {at}); "
                               "give it as UTF-8")


def _tighten_note(args: argparse.Namespace) -> None:
    """Make Quarterdeck's existing folders private; one note on stderr when something changed."""
    from quarterdeck.core.paths import quarterdeck_dirs, tighten

    folders = quarterdeck_dirs()
    data_dir = getattr(args, "data_dir", None)
    if isinstance(data_dir, Path):
        folders.append(data_dir)
    changed = tighten(folders)
    if changed:
        where = ", ".join(str(f) for f in folders if any(c == f or f in c.parents for c in changed))
        print(f"quarterdeck: note: made {len(changed)} files and folders private to you (0600/0700) "
              f"in {where}", file=sys.stderr)


def _stored_before(exc: BaseException) -> bool:
    """Whether a send had stored its message when ``exc`` struck: it was raised while waiting
    for deliveries, not while opening the outbox or queueing the message."""
    names = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        names.append((code.co_name, Path(code.co_filename).as_posix()))
        tb = tb.tb_next
    waiting = any(name == "submit_and_wait" for name, _ in names)
    queueing = any(name in ("submit", "enqueue") and ("/core/delivery/" in file or "/core/store/" in file)
                   for name, file in names)
    return waiting and not queueing


def report_error(exc: BaseException, sending: bool, data_dir: Path | None = None) -> int:
    """Print the one line for ``exc`` and return its exit code. ``sending``: the command queues
    one message (``send``, ``contracts send``), so the line says whether it was accepted. An
    error that names no file is placed in ``data_dir``."""
    from quarterdeck.core.config import ConfigError
    from quarterdeck.core.model_check import Invalid, where
    from quarterdeck.core.store.faults import translate
    from quarterdeck.core.store.rows import StoreError

    fault = translate(exc, data_dir)
    if fault is not None:
        if sending:
            what = ("the message is stored; 'quarterdeck status' shows each delivery" if _stored_before(exc)
                    else "message not accepted, nothing was queued")
            print(f"quarterdeck: {what}: {fault}", file=sys.stderr)
        else:
            print(f"quarterdeck: {fault}", file=sys.stderr)
        return EXIT_STORAGE[fault.kind]
    if isinstance(exc, Invalid):
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else ""
        at = _FIELD_OPTIONS.get(field) or where(err) or "input"
        message = err["msg"]
        given = err.get("input")
        if isinstance(given, str | int | float) and repr(given) not in message:
            message = f"{given!r}: {message}"
        print(f"quarterdeck: error: {at}: {message}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, ConfigError):  # met by a command that opens a session (send, onboard, serve, ...)
        print(f"quarterdeck: error: configuration is invalid:\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, StoreError):
        print(f"quarterdeck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, UnicodeError):
        # only the decode, encode and translate errors carry a reason; a codec may raise the base class
        reason = exc.reason if isinstance(exc, UnicodeDecodeError | UnicodeEncodeError | UnicodeTranslateError) \
            else str(exc) or type(exc).__name__
        print(f"quarterdeck: error: text that is not UTF-8 ({reason}); give UTF-8 text", file=sys.stderr)
        return EXIT_USAGE
    import logging

    logging.getLogger(__name__).debug("internal error", exc_info=exc)
    print(f"quarterdeck: internal error: {type(exc).__name__}: {exc}"[:500] + " (QUARTERDECK_DEBUG=1 shows "
          "the traceback)", file=sys.stderr)
    if os.environ.get("QUARTERDECK_DEBUG"):
        raise exc
    return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> int:
    from quarterdeck.core.paths import private_umask

    old_umask = private_umask()
    try:
        return _main(argv)
    finally:
        os.umask(old_umask)


def _autocomplete(parser: argparse.ArgumentParser) -> None:
    """Answer a shell's Tab completion request (``_ARGCOMPLETE`` set; argcomplete then exits); a
    no-op otherwise, and when argcomplete is not installed."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    try:
        import argcomplete
    except ImportError:
        return
    # the commands named on the line are resolved first: argcomplete walks the parsers it finds there
    _commands(parser).resolve(word.strip("'\"") for word in os.environ.get("COMP_LINE", "").split())
    argcomplete.autocomplete(parser)


def _main(argv: list[str] | None) -> int:
    parser = build_parser(lazy=True)
    _autocomplete(parser)
    args = parser.parse_args(argv)
    if args.command is None:
        from quarterdeck.gui.app import display_available

        if not display_available():
            parser.print_help()
            print("\nNo display here, so the panel cannot open; the commands above do every job.")
            return 0
        args = parser.parse_args([*(sys.argv[1:] if argv is None else argv), "gui"])
    refused = refused_shared(args)
    if refused is not None:
        parser.error(f"'{args.command}' takes no {refused}; leave it out")
    try:
        _check_text(args)
        if args.command != "hook":  # a hook says nothing to its agent, whatever the environment (cmd_hook)
            _check_folders()
            _tighten_note(args)
        return args.func(args)
    except CliError as exc:
        print(f"quarterdeck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("quarterdeck: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        from quarterdeck.core.paths import user_data_dir

        data_dir = getattr(args, "data_dir", None)
        sending = args.command == "send" or (args.command == "contracts" and args.func.__name__ == "cmd_send")
        return report_error(exc, sending, data_dir if isinstance(data_dir, Path) else user_data_dir())


if __name__ == "__main__":
    sys.exit(main())
