"""`quarterdeck hook`: record one event from an agent's own hook, reply as its tool expects, exit 0.

Registered in the agent's tool (Claude Code, Cursor, VS Code, Windsurf, Gemini CLI, Codex) as the
command of its hooks, e.g. ``quarterdeck hook --agent Agent-1 --source claude-code``. The event's
JSON comes on standard input; Codex's ``notify`` program passes it as the last argument instead,
which is taken when given (stdin is then not read).

It never holds up or fails the agent: it always exits 0, prints only the reply the tool expects
(nothing, ``{}`` or ``{"continue": true}``; see ``quarterdeck.core.activity.parse.hook_reply``),
and when the event is refused or lost it says why in ``quarterdeck.log``, never on stdout. A busy
or missing database sends the event to a spool file that is taken in later.

``python -m quarterdeck.cli.hook_cmd --agent ID --source SOURCE`` does the same without loading
the rest of the command line (a quicker start for a hook that runs on every prompt).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

WARNING, ERROR = 30, 40  # logging's levels: logging itself is imported only when there is something to log


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # neither option is required nor limited to choices at parse time: a usage error would exit 2,
    # which Claude Code reads as "block this prompt"; cmd_hook logs it and exits 0 instead
    parser.add_argument("--agent", metavar="ID", default="", help="the roster id of the agent the hook runs for")
    parser.add_argument("--source", metavar="SOURCE", default="",
                        help="the tool whose hook this is: claude-code, cursor, vscode, windsurf, gemini or codex")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="where the outbox lives")
    parser.add_argument("payload", nargs="?", metavar="JSON",
                        help="the event as an argument (Codex notify); otherwise it is read from stdin")
    parser.set_defaults(func=cmd_hook)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "record an event from an agent's own hook (stdin: the event's JSON); always exits 0"
    add_arguments(sub.add_parser("hook", help=text, description=text))


def _data_dir(args: argparse.Namespace) -> Path:
    """The ``--data-dir`` given (``~`` expanded), else the user's data folder; :class:`NoHome` when
    either is under an unknown home (``cmd_hook`` loses the event, not the reply)."""
    given = getattr(args, "data_dir", None)
    if isinstance(given, Path):
        from quarterdeck.core.paths import home_expanded

        return home_expanded(given)
    from quarterdeck.core.paths import user_data_dir

    return user_data_dir()


def _given_dir(args: argparse.Namespace) -> Path | None:
    """The ``--data-dir`` given, as ``_data_dir`` finds it; None when none was, or it is under an
    unknown home (the note goes to the default log)."""
    if not isinstance(getattr(args, "data_dir", None), Path):
        return None
    from quarterdeck.core.paths import NoHome

    try:
        return _data_dir(args)
    except NoHome:
        return None


def _note(args: argparse.Namespace, level: int, message: str) -> None:
    """Write ``message`` to quarterdeck.log (set up only now: it costs the hook ~0.3 s to import); with
    ``$QUARTERDECK_DATA_DIR`` under an unknown home, to the log of the user's usual folders."""
    try:
        import logging
        import os

        from quarterdeck.core.logsetup import logging_to_file
        from quarterdeck.core.paths import DATA_DIR_ENV, NoHome, user_log_dir

        given, env = _given_dir(args), None
        if given is None:
            try:
                user_log_dir()
            except NoHome:
                env = {name: value for name, value in os.environ.items() if name != DATA_DIR_ENV}
        with logging_to_file(given, env):
            logging.getLogger(__name__).log(level, "%s", message)
    except Exception:  # the log is best effort: the agent must carry on regardless
        pass


def cmd_hook(args: argparse.Namespace) -> int:
    try:
        from quarterdeck.core.activity.hook import LOST, REFUSED, run_hook

        raw: bytes | str = args.payload if args.payload is not None else sys.stdin.buffer.read()
        # the folder is found as the event is recorded: one that cannot be known loses the event, not the reply
        result = run_hook(args.source or "", args.agent or "", raw, lambda: _data_dir(args))
        if result.reply:
            sys.stdout.write(result.reply + "\n")
            sys.stdout.flush()
        if result.outcome in (REFUSED, LOST):
            _note(args, WARNING, f"hook {args.source!r} for {args.agent!r}: event {result.outcome}: "
                                             f"{result.problem}")
    except BaseException as exc:  # whatever it is, the agent is not to see it
        _note(args, ERROR, f"hook {getattr(args, 'source', '?')!r} failed: {type(exc).__name__}: {exc}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The quick entry point (``python -m quarterdeck.cli.hook_cmd``)."""
    parser = argparse.ArgumentParser(prog="quarterdeck hook", description=__doc__.splitlines()[0])
    add_arguments(parser)
    try:
        args, _unknown = parser.parse_known_args(argv)
    except BaseException as exc:  # argparse exits 2 on a bad option: the agent would read "block"
        _note(argparse.Namespace(), ERROR, f"hook arguments {argv!r} refused: {exc!r}")
        return 0
    return cmd_hook(args)


if __name__ == "__main__":
    sys.exit(main())
