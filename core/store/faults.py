"""Storage faults in one sentence: what is wrong, with which file, and what to do about it.

SQLite and the OS report a full disk, a damaged file, a lock held too long, a read-only disk or a
vanished folder as bare errors ("disk I/O error", "file is not a database") that say neither
which file nor what to do. :class:`StorageFault` carries the kind, the file and that one line;
the command line turns it into an exit code, the panel into a banner. It subclasses
``sqlite3.OperationalError`` so code that already handles SQLite errors keeps working.

Kinds: ``full``, ``corrupt``, ``locked``, ``readonly``, ``missing`` (a folder that is not there
and cannot be made) and ``io`` (any other read or write failure).
"""
from __future__ import annotations

import errno
import os
import shlex
import shutil
import sqlite3
from pathlib import Path

KINDS = ("full", "corrupt", "locked", "readonly", "missing", "io")

# SQLite primary result codes (the low byte of an extended code)
_SQLITE_KIND = {3: "readonly", 5: "locked", 6: "locked", 8: "readonly", 10: "io", 11: "corrupt",
                13: "full", 14: "missing", 23: "readonly", 26: "corrupt"}
_ERRNO_KIND = {errno.ENOSPC: "full", errno.EDQUOT: "full", errno.EFBIG: "full", errno.EROFS: "readonly",
               errno.EACCES: "readonly", errno.EPERM: "readonly", errno.ENOENT: "missing",
               errno.ENOTDIR: "missing", errno.EEXIST: "missing", errno.ENAMETOOLONG: "missing",
               errno.ELOOP: "missing", errno.EIO: "io"}
_LOW_SPACE = 256 * 1024  # below this much free space an I/O error is taken for a full disk


class StorageFault(sqlite3.OperationalError):
    """A storage failure explained: ``kind`` (see :data:`KINDS`), ``path`` and ``detail`` (the
    original error text). ``str()`` is the one line to show."""

    def __init__(self, kind: str, path: Path | str | None, detail: str) -> None:
        self.kind = kind
        self.path = Path(path) if path is not None else None
        self.detail = detail
        super().__init__(explain(kind, self.path, detail))


def explain(kind: str, path: Path | None, detail: str) -> str:
    """The one line for a fault of ``kind`` on ``path``."""
    where = str(path) if path is not None else "the data folder"
    folder = str(path.parent) if path is not None else "the data folder"
    if kind == "full":
        return (f"the disk holding {where} is full ({detail}): free some space there (or move the data "
                f"with QUARTERDECK_DATA_DIR) and run it again; what was stored before is intact")
    if kind == "corrupt":
        return (f"{where} is damaged ({detail}): run '{_doctor(path, '--repair')}' to keep what can be "
                "read and set the broken file aside")
    if kind == "locked":
        return (f"{where} is locked by another process ({detail}): let it finish or stop it, "
                "then run it again")
    if kind == "readonly":
        return (f"{where} cannot be written ({detail}): make it and {folder} writable for this user, "
                "or point QUARTERDECK_DATA_DIR at a writable folder")
    if kind == "missing":
        return (f"{where} cannot be reached: a folder on its way is missing and cannot be created "
                f"({detail}): create it or mount its disk, or point QUARTERDECK_DATA_DIR (--data-dir) "
                "elsewhere")
    return (f"reading or writing {where} failed ({detail}): check the disk, then run "
            "'quarterdeck doctor' to check the file")


def _doctor(path: Path | None, *options: str) -> str:
    """The doctor's command line for the folder of ``path``, a damaged database file (a relay's folder,
    or one given with --data-dir, is not the one it checks by default)."""
    folder = ["--data-dir", shell_word(str(path.parent))] if path is not None else []
    return " ".join(["quarterdeck doctor", *options, *folder])


def shell_word(text: str) -> str:
    """``text`` as one word of a shell command, in double quotes where it needs quoting (the advice
    around it is in single quotes), else as ``shlex`` quotes it."""
    quoted = shlex.quote(text)
    if quoted == text or any(c in text for c in '"$`\\!'):
        return quoted
    return f'"{text}"'


def _low_on_space(path: Path | None) -> bool:
    probe = path
    while probe is not None and not probe.exists():
        probe = probe.parent if probe.parent != probe else None
    if probe is None:
        return False
    try:
        return shutil.disk_usage(probe).free < _LOW_SPACE
    except OSError:
        return False


def from_sqlite(exc: sqlite3.Error, path: Path | str | None) -> StorageFault | None:
    """The fault behind a SQLite error, or None when it is not a storage fault (a constraint,
    a programming error)."""
    if isinstance(exc, StorageFault):
        return exc
    if isinstance(exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)):
        return None
    path = Path(path) if path is not None else None
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc)
    kind = _SQLITE_KIND.get(code & 0xFF) if isinstance(code, int) else None
    if kind is None:
        kind = _kind_from_text(text)
    if kind is None:
        return None
    if kind == "io" and _low_on_space(path):
        kind = "full"
    if kind == "missing" and path is not None and path.parent.is_dir():
        kind = "readonly" if not os.access(path.parent, os.W_OK) else "io"
    detail = f"SQLite: {text}"
    if kind == "readonly" and _read_only_mount(path):
        detail += "; its file system is mounted read-only"
    return StorageFault(kind, path, detail)


def _read_only_mount(path: Path | None) -> bool:
    probe = path
    while probe is not None and not probe.exists():
        probe = probe.parent if probe.parent != probe else None
    try:
        return probe is not None and bool(os.statvfs(probe).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _kind_from_text(text: str) -> str | None:
    lowered = text.lower()
    for needle, kind in (("disk is full", "full"), ("not a database", "corrupt"), ("malformed", "corrupt"),
                         ("locked", "locked"), ("readonly", "readonly"), ("read-only", "readonly"),
                         ("unable to open", "missing"), ("disk i/o", "io")):
        if needle in lowered:
            return kind
    return None


def from_os_error(exc: OSError, path: Path | str | None = None) -> StorageFault:
    """The fault behind an OS error on a file or folder (its own file name wins over ``path``)."""
    where = exc.filename if exc.filename is not None else path
    where = Path(os.fsdecode(where)) if where is not None else None
    kind = _ERRNO_KIND.get(exc.errno or 0, "io")
    if kind == "io" and _low_on_space(where):
        kind = "full"
    detail = exc.strerror or str(exc)
    if exc.errno == errno.EEXIST:
        detail = "a file is in the way where a folder should be"
    return StorageFault(kind, where, detail)


_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO})


def translate(exc: BaseException, path: Path | str | None = None, *,
              file_errors: bool = True) -> StorageFault | None:
    """Any error as a storage fault, or None when it is not one. With ``file_errors`` off, an
    OS error counts only when it is about the disk (full, read-only, failing), not about one
    file (missing, no permission), which the code that opened it explains better; with it on,
    every OS error is one (an unknown errno counts as ``io``)."""
    if isinstance(exc, StorageFault):
        return exc
    if isinstance(exc, sqlite3.Error):
        return from_sqlite(exc, path)
    if isinstance(exc, OSError) and (file_errors or exc.errno in _DISK_ERRNOS):
        return from_os_error(exc, path)
    return None
