"""Shared CLI plumbing: exit codes, loading the effective config and the active rule files.

Exit codes (every command):

==  ==========================================================================================
0   done
1   done, and something failed (a delivery, a check, an unhealthy fleet: see each command)
2   usage or input problem: a bad option, text that is not UTF-8, an invalid tag or config
3   storage: the disk holding the data folder is full
4   storage: a database file is damaged (``quarterdeck doctor --repair``)
5   storage: a database file stayed locked by another process
6   storage: a file or folder cannot be written (read-only disk, no permission)
7   storage: the data folder is missing and cannot be created
8   storage: any other read or write error
==  ==========================================================================================
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

    from quarterdeck.core.config import LoadedConfig
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
EXIT_TIMEOUT = 124  # ``send --timeout``: stopped waiting with outcomes still to come (as timeout(1) exits)
EXIT_STORAGE = {"full": 3, "corrupt": 4, "locked": 5, "readonly": 6, "missing": 7, "io": 8}
WARNING = 30  # logging.WARNING: logging is imported by the commands that log, not by --version or --help


class CliError(Exception):
    """A problem the user can fix; printed without a traceback, exit code 2."""


def effective_config(args: argparse.Namespace) -> LoadedConfig:
    from quarterdeck.core.config import ConfigError, load_config  # loaded by the commands that need it

    try:
        return load_config(config_file=getattr(args, "config", None))
    except ConfigError as exc:
        raise CliError(f"configuration is invalid:\n{exc}") from exc


def rules_dir(args: argparse.Namespace) -> Path:
    """The rules folder: --rules, else the active rules the panel and the session use too
    (the config's validation_rules_path, else the user's rules folder, else the bundled rules)."""
    explicit = getattr(args, "rules", None)
    if explicit:
        return Path(explicit)
    from quarterdeck.core.validation.location import active_rules_path

    return active_rules_path(effective_config(args).config.validation_rules_path)


def rule_files(location: Path) -> list[Path]:
    """Every *.yaml / *.yml file of a rules folder (sorted), or the one file named."""
    if location.is_file():
        return [location]
    if not location.is_dir():
        raise CliError(f"{location}: no such rules file or folder")
    files = sorted([*location.glob("*.yaml"), *location.glob("*.yml")])
    if not files:
        raise CliError(f"{location}: no rule files (*.yaml) in this folder")
    return files


def read_text_arg(message: str | None, text: str | None) -> str:
    """The message: ``-m TEXT``, or the last argument (``-``: standard input), given once."""
    if message is not None and text is not None:
        raise CliError("give the message once: as -m TEXT or as the last argument, not both")
    if text == "-":
        return decode_utf8(sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read(),
                           "standard input")
    if message is None and text is None:
        raise CliError("give the message as the last argument or with -m TEXT, or '-' to read it from standard "
                       "input")
    return message if message is not None else str(text)


def decode_utf8(raw: bytes | str, where: str) -> str:
    """``raw`` as text; bytes that are not UTF-8 are a CliError naming ``where`` and the offset."""
    if isinstance(raw, str):
        try:
            raw = raw.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise CliError(f"{where} is not UTF-8 text; convert it first, e.g. with iconv -t UTF-8") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{where} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                       "convert it first, e.g. with iconv -t UTF-8") from None


def undecodable(text: str) -> int | None:
    """Where ``text`` holds a byte that was not UTF-8 (an escaped surrogate), or None."""
    for i, ch in enumerate(text):
        if "\ud800" <= ch <= "\udfff":
            return i
    return None


def _one_line_formatter() -> logging.Formatter:
    import logging

    class OneLineFormatter(logging.Formatter):
        """Log records as one line each: an attached error becomes its one-line explanation, never a
        traceback (for a terminal; the panel's log file keeps tracebacks)."""

        def format(self, record: logging.LogRecord) -> str:
            from quarterdeck.core.store.faults import translate
            from quarterdeck.core.validation.secrets import redact

            line = f"quarterdeck: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                error = record.exc_info[1]
                fault = translate(error)
                line += f": {fault if fault is not None else f'{type(error).__name__}: {error}'}"
            return redact(line.splitlines()[0]) if line else line  # an error's text may quote a token

    return OneLineFormatter()


def log_in_one_line(level: int = WARNING) -> logging.Handler:
    """Send warnings and errors to stderr one line each, a line repeated within a run only once
    a minute (a worker retrying a full disk does not flood the terminal)."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(_one_line_formatter())
    seen: dict[str, float] = {}

    def once_a_minute(record: logging.LogRecord) -> bool:
        import time

        text = handler.format(record)
        now = time.monotonic()
        if now - seen.get(text, -60.0) < 60.0:
            return False
        seen[text] = now
        return True

    handler.addFilter(once_a_minute)
    logging.getLogger().addHandler(handler)
    return handler


DELIVERY_OUTCOMES = frozenset({"delivered", "failed", "cancelled", "uncertain"})  # a delivery's last state


def log_delivery(event: DeliveryEvent) -> None:
    """A dispatcher listener: one log line per delivery outcome at INFO, a retry or pause at DEBUG.

    Only its free-text fields (detail, evidence) can hold a secret: they are redacted here, each
    distinct text once (they repeat: "delivered by relay M1 after 1 attempt(s)"), and the record is
    marked ``secrets_redacted`` so a redacting log filter may skip the whole line (ids, states,
    verdicts and numbers are the program's own words). An inbox file's path is its folder (redacted,
    once per folder) and the name the inbox transport gave it (a time, a priority and the message id,
    kept: an id is hex enough to look like a secret, and each name is new)."""
    import logging

    delivery_log = _delivery_log()
    level = logging.INFO if event.state in DELIVERY_OUTCOMES else logging.DEBUG
    if not delivery_log.isEnabledFor(level):
        return
    facts = [f"attempt {event.attempt}"] if event.attempt else []
    if event.latency is not None:
        facts.append(f"{event.latency:.3f} s")
    if event.verdict:
        facts.append(event.verdict)
    facts += [_redacted(part) for part in (event.evidence, event.detail) if part]
    # by delivery id (`quarterdeck history` shows its message): a message id is hex enough to be redacted.
    # The record is made here, as Logger.log makes it but without looking up its caller's frame (no
    # format of the log shows it): a relay logs every delivery.
    delivery_log.handle(delivery_log.makeRecord(
        delivery_log.name, level, __file__, 0, "delivery %d to %s: %s (%s)",
        (event.delivery_id, event.agent_id, event.state, "; ".join(facts) or "-"), None, "log_delivery",
        {"secrets_redacted": True}))


@functools.cache
def _delivery_log() -> logging.Logger:
    import logging

    return logging.getLogger("quarterdeck.deliveries")


_REDACTED: dict[str, str] = {}  # a log text -> it redacted (bounded: cleared when it grows large)


def _redacted(text: str) -> str:
    if text.startswith("written to "):  # an inbox delivery's detail: its folder, then a name we made
        from quarterdeck.core.transports.inbox import split_written

        parts = split_written(text)
        if parts is not None:
            return _redacted_once(parts[0]) + parts[1]
    return _redacted_once(text)


def _redacted_once(text: str) -> str:
    clean = _REDACTED.get(text)
    if clean is None:
        from quarterdeck.core.validation.secrets import redact

        if len(_REDACTED) >= 4096:
            _REDACTED.clear()
        clean = _REDACTED[text] = redact(text)
    return clean


def command_log(args: argparse.Namespace, *, dry_run: bool = False) -> contextlib.AbstractContextManager[object]:
    """``with command_log(args):`` a long-running command's run logged to ``quarterdeck.log`` in
    ``--data-dir``'s ``logs`` (``quarterdeck.core.logsetup``); a dry run logs nothing."""
    if dry_run:
        return contextlib.nullcontext()
    from quarterdeck.core.logsetup import logging_to_file

    return logging_to_file(getattr(args, "data_dir", None))
