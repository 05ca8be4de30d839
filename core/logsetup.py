"""One logging set-up for the panel, ``quarterdeck serve`` and the commands that run a while
(``send``, ``onboard``): a rotating ``quarterdeck.log``, private to the user, with secrets redacted.

The file is ``quarterdeck.log`` in the log folder: ``logs`` inside the data folder when one is
given (``--data-dir``) or set (``QUARTERDECK_DATA_DIR``), else the platform's per-user log folder
(:func:`quarterdeck.core.paths.user_log_dir`). It rotates at 1 MB, keeping three older files
(``quarterdeck.log.1`` .. ``.3``); every one is 0600 in a 0700 folder. The handler is this module's own
(a ``logging.FileHandler`` that rotates), so a command's log loads no ``logging.handlers`` (its pickle,
queue and socket modules: some milliseconds of every ``quarterdeck send`` and hook). The level is
``QUARTERDECK_LOG_LEVEL`` (a name such as ``DEBUG`` or ``warning``, or a number), else INFO; the
coordination config has no log-level setting. Every record's message, traceback and stack are
passed through :func:`quarterdeck.core.validation.secrets.redact` before any handler writes them,
so a token that reaches a log line is stored as ``[REDACTED:<kind>]``.

:func:`setup_logging` is called once per process (the panel); a second call for the same file
changes nothing, one for another file moves the log there. A command wraps its run in
:func:`logging_to_file`, which undoes the set-up when the command ends. A log that cannot be
opened or written (a read-only or full disk) costs nothing but the log: the command that met the
storage problem says it in its own one line, so the log adds no line, no traceback, and nothing
fails (``QUARTERDECK_LOG_LEVEL=DEBUG`` shows why on stderr).
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import stat
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from quarterdeck.core.paths import PRIVATE_FILE_MODE, ensure_dir, user_log_dir
from quarterdeck.core.validation.secrets import redact

__all__ = ["BACKUPS", "LEVEL_ENV", "LOG_FILE_NAME", "MAX_BYTES", "PrivateRotatingFileHandler", "RedactSecrets",
           "current_log", "log_file", "log_level", "logging_to_file", "setup_logging", "stop_logging"]

LOG_FILE_NAME = "quarterdeck.log"
LEVEL_ENV = "QUARTERDECK_LOG_LEVEL"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_installed: list[logging.Handler] = []  # the handler setup_logging added to the root logger
_level_before: list[int] = []  # the root level setup_logging found


def log_file(data_dir: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """Where the log is written: ``DATA_DIR/logs/quarterdeck.log``, else in the user log folder."""
    folder = data_dir / "logs" if data_dir is not None else user_log_dir(env)
    return folder / LOG_FILE_NAME


def log_level(env: Mapping[str, str] | None = None) -> tuple[int, str | None]:
    """The level ``QUARTERDECK_LOG_LEVEL`` names (default INFO), and a complaint when it names none."""
    raw = (os.environ if env is None else env).get(LEVEL_ENV, "").strip()
    if not raw:
        return logging.INFO, None
    if raw.isdigit():
        return int(raw), None
    level = logging.getLevelNamesMapping().get(raw.upper())
    if level is None:
        return logging.INFO, f"{LEVEL_ENV}={raw!r} is not a log level (DEBUG, INFO, WARNING, ERROR, CRITICAL): INFO"
    return level, None


class RedactSecrets(logging.Filter):
    """Replace the secrets in a record's message, traceback and stack with ``[REDACTED:<kind>]``.

    The record itself is changed, so every handler after this one sees the redacted text too. A
    record its caller marked ``secrets_redacted`` (its free text redacted already: a delivery's log
    line, one per state of every delivery) is passed as it is, unless it carries a traceback.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "secrets_redacted", False) and not record.exc_info and not record.stack_info:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format call: the handler reports it, as logging does
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_MSEC_FORMAT = "%s,%03d"  # logging.Formatter's: the seconds' text, then the milliseconds


class _LogFormatter(logging.Formatter):
    """``FORMAT``, its time text made once per second (a relay logs hundreds of records a second)."""

    _second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second, text = self._second
        if datefmt is not None or int(record.created) != second:
            return self._remember(record, datefmt)
        return _MSEC_FORMAT % (text, record.msecs)

    def _remember(self, record: logging.LogRecord, datefmt: str | None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        text = time.strftime(self.default_time_format, self.converter(record.created))
        self._second = (int(record.created), text)
        return _MSEC_FORMAT % (text, record.msecs)


def _private_opener(path: str, flags: int) -> int:
    fd = os.open(path, flags, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)  # a file an older version left readable by others
    except OSError:
        pass
    return fd


class PrivateRotatingFileHandler(logging.FileHandler):
    """``quarterdeck.log``: a file handler that moves the file aside before a record would take it to
    ``max_bytes`` (the older files shift up: ``.1`` becomes ``.2`` and so on, keeping ``backups`` of them;
    with 0 bytes or 0 backups it never rotates), its files created 0600 whatever the umask (rotation
    renames them, so the older files keep that mode). A file that is not a regular one (``/dev/null``)
    never rotates. The file's length is counted, not asked: its size when opened plus the bytes each
    record wrote, so a record is formatted once and the file is never sought (a relay logs every
    delivery). Another process writing to the same file is not counted; this one rotates by its own."""

    _failed = False
    _regular = True
    size = 0  # the file's length in bytes as this handler counts it

    def __init__(self, filename: Path | str, max_bytes: int = MAX_BYTES, backups: int = BACKUPS,
                 encoding: str = "utf-8") -> None:
        self.max_bytes = max_bytes
        self.backups = backups
        super().__init__(filename, mode="a", encoding=encoding)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = f"{self.format(record)}{self.terminator}"
            length = len(line) if line.isascii() else len(line.encode(self.encoding or "utf-8",
                                                                      self.errors or "strict"))
            if self.stream is None:
                self.stream = self._open()
            if self._rotates() and self.size + length >= self.max_bytes:
                self._rotate()
            self.stream.write(line)
            self.flush()
            self.size += length
        except Exception:  # the file could not be moved, opened or written: the record is lost (handleError)
            self.handleError(record)

    def _rotates(self) -> bool:
        return self.max_bytes > 0 and self.backups > 0 and self._regular

    def _rotate(self) -> None:
        """``quarterdeck.log.N-1`` → ``.N`` .. the file → ``.1``, then a new, empty file."""
        if self.stream is not None:
            self.stream.close()
            self.stream = None  # FileHandler opens it again when None
        for n in range(self.backups - 1, 0, -1):
            older = f"{self.baseFilename}.{n}"
            if os.path.exists(older):
                os.replace(older, f"{self.baseFilename}.{n + 1}")
        if os.path.exists(self.baseFilename):
            os.replace(self.baseFilename, f"{self.baseFilename}.1")
        self.stream = self._open()

    def handleError(self, record: logging.LogRecord) -> None:
        """A record that cannot be written (a full disk) is lost quietly, instead of logging's
        traceback for every record: the command reports the disk itself. Said on stderr once
        only at DEBUG."""
        if self._failed or not logging.raiseExceptions:
            return
        self._failed = True
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            error = sys.exc_info()[1]
            with contextlib.suppress(Exception):
                sys.stderr.write(f"quarterdeck: the log {self.baseFilename} cannot be written ({error}); "
                                 "further log records are lost\n")

    def _open(self) -> io.TextIOWrapper:
        stream = open(self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors,
                      opener=_private_opener)
        assert isinstance(stream, io.TextIOWrapper)  # a text mode ("a"): what FileHandler opens too
        found = os.fstat(stream.fileno())
        self._regular, self.size = stat.S_ISREG(found.st_mode), found.st_size
        return stream


def setup_logging(data_dir: Path | None = None, *, env: Mapping[str, str] | None = None,
                  max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> logging.Handler:
    """Send this process's log records to the rotating, private, redacted ``quarterdeck.log``
    (see the module docstring) and set the root level; returns the handler on the root logger."""
    path = log_file(data_dir, env)
    level, complaint = log_level(env)
    root = logging.getLogger()
    if not _installed:
        _level_before[:] = [root.level]
    root.setLevel(level)
    for same in _installed:
        if isinstance(same, PrivateRotatingFileHandler) and same.baseFilename == os.path.abspath(path):
            return same
    _remove_installed()
    try:
        ensure_dir(path.parent)
        handler: logging.Handler = PrivateRotatingFileHandler(path, max_bytes, backups)
    except OSError as exc:
        # no file: records go nowhere new (the command's own stderr line, if any, is unchanged)
        handler = logging.NullHandler()
        if level <= logging.DEBUG:
            with contextlib.suppress(Exception):
                sys.stderr.write(f"quarterdeck: the log {path} cannot be written ({exc})\n")
    handler.setFormatter(_LogFormatter(FORMAT))
    handler.addFilter(RedactSecrets())
    root.addHandler(handler)
    _installed.append(handler)
    if complaint:
        logging.getLogger(__name__).warning("%s", complaint)
    return handler


def current_log() -> Path | None:
    """The file :func:`setup_logging` writes to now; None before it, or when it fell back to stderr."""
    for handler in _installed:
        if isinstance(handler, PrivateRotatingFileHandler):
            return Path(handler.baseFilename)
    return None


def stop_logging() -> None:
    """Undo :func:`setup_logging`: its handler removed and closed, the root level as it found it."""
    _remove_installed()
    if _level_before:
        logging.getLogger().setLevel(_level_before.pop())


@contextlib.contextmanager
def logging_to_file(data_dir: Path | None = None, env: Mapping[str, str] | None = None) -> Iterator[logging.Handler]:
    """``with logging_to_file(args.data_dir):`` a command's run logged (:func:`setup_logging`),
    the process's logging as before once it ends."""
    handler = setup_logging(data_dir, env=env)
    try:
        yield handler
    finally:
        stop_logging()


def _remove_installed() -> None:
    root = logging.getLogger()
    while _installed:
        old = _installed.pop()
        root.removeHandler(old)
        old.close()
