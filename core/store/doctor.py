"""Checking a Quarterdeck database file, and rebuilding a damaged one from what can still be read.

:func:`check` opens the file read-only and runs SQLite's ``integrity_check``. :func:`repair`
copies every table it can read, row by row, into a fresh file with the same schema (a damaged
stretch of a table is skipped, the rows after it are still taken), rebuilds the indexes and the
full-text index, then sets the broken file (with its ``-wal`` and ``-shm``) aside under a
timestamped name and puts the rebuilt one in its place. Nothing is deleted: the broken file stays
for a later, closer look. Repair refuses while another Quarterdeck process has the file open.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from quarterdeck.core.fileops import fsync_dir
from quarterdeck.core.paths import PRIVATE_FILE_MODE
from quarterdeck.core.store.owner import any_lease_held

HEADER = b"SQLite format 3\x00"
_CHUNK = 500
_SHADOW_SUFFIXES = ("_data", "_idx", "_content", "_docsize", "_config")


@dataclass
class Checked:
    path: Path
    ok: bool
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.ok:
            return f"{self.path}: ok"
        return f"{self.path}: damaged: {'; '.join(self.problems[:3])}"


@dataclass
class Repaired:
    path: Path
    aside: Path
    kept: dict[str, int]
    lost: dict[str, str]

    def lines(self) -> list[str]:
        out = [f"{self.path}: rebuilt; the broken file is kept as {self.aside}"]
        out += [f"  {table}: {n} rows kept" for table, n in self.kept.items()]
        out += [f"  {table}: {why}" for table, why in self.lost.items()]
        return out


class InUse(Exception):
    """Another process has the database open; it must stop before a repair."""


def check(path: Path) -> Checked:
    """Whether ``path`` is a sound SQLite file (a missing file is reported, not created)."""
    if not path.is_file():
        return Checked(path, False, ["no such file"])
    if path.stat().st_size == 0:
        return Checked(path, True)  # an empty file is an empty database; Quarterdeck fills it on start
    with path.open("rb") as handle:
        head = handle.read(len(HEADER))
    if head != HEADER:
        return Checked(path, False, ["not a database file (its header is wrong)"])
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error as exc:
        return Checked(path, False, [str(exc)])
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
    except sqlite3.Error as exc:
        return Checked(path, False, [str(exc)])
    finally:
        conn.close()
    return Checked(path, rows == ["ok"], [] if rows == ["ok"] else rows)


def _schema(src: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(type, name, sql) of everything to recreate, tables first; FTS shadow tables are left to
    their virtual table."""
    rows = src.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                       "AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
    virtual = [n for t, n, s in rows if t == "table" and s.upper().startswith("CREATE VIRTUAL")]
    shadow = {v + suffix for v in virtual for suffix in _SHADOW_SUFFIXES}
    order = {"table": 0, "index": 1, "trigger": 2, "view": 3}
    kept = [r for r in rows if r[1] not in shadow]
    return sorted(kept, key=lambda r: order.get(r[0], 4))


def _copy_table(src: sqlite3.Connection, dst: sqlite3.Connection, table: str) -> tuple[int, str | None]:
    """Rows copied, and why some may be missing (None when the whole table was read)."""
    quoted = '"' + table.replace('"', '""') + '"'
    try:
        columns = [r[1] for r in src.execute(f"PRAGMA table_info({quoted})")]
    except sqlite3.Error as exc:
        return 0, f"its columns could not be read ({exc})"
    try:
        src.execute(f"SELECT rowid FROM {quoted} LIMIT 0")
        has_rowid = True
    except sqlite3.Error:
        has_rowid = False  # WITHOUT ROWID: read in one pass, as far as it goes
    names = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    copied, trouble = 0, None
    if not has_rowid:
        try:
            for row in src.execute(f"SELECT {names} FROM {quoted}"):
                dst.execute(f"INSERT OR IGNORE INTO {quoted} ({names}) VALUES ({marks})", tuple(row))
                copied += 1
        except sqlite3.Error as exc:
            trouble = f"reading stopped at a damaged page ({exc})"
        return copied, trouble
    insert = f"INSERT OR IGNORE INTO {quoted} (rowid, {names}) VALUES (?, {marks})"
    last, step = 0, 1
    while step <= 2**40:
        read_any = False
        try:
            for row in src.execute(f"SELECT rowid, {names} FROM {quoted} WHERE rowid > ? ORDER BY rowid "
                                   "LIMIT ?", (last, _CHUNK)):
                dst.execute(insert, tuple(row))
                copied, last, step, read_any = copied + 1, row[0], 1, True
        except sqlite3.Error as exc:
            trouble = f"some rows were unreadable and skipped ({exc})"
            last, step = last + step, step * 2  # jump over the damaged stretch
            continue
        if not read_any:
            break
    return copied, trouble


def _open_readable(broken: Path, scratch: Path
                   ) -> tuple[sqlite3.Connection, list[tuple[str, str, str]], int, str | None]:
    """The broken file opened for reading, its schema and user_version; when its first 100 bytes
    (the header) are damaged, a copy with a fresh header is read instead (the note says so)."""
    try:
        src = sqlite3.connect(f"{broken.as_uri()}?mode=ro", uri=True, timeout=5.0)
        return src, _schema(src), int(src.execute("PRAGMA user_version").fetchone()[0]), None
    except sqlite3.Error as exc:
        first = exc
    raw = broken.read_bytes()
    size = int.from_bytes(raw[16:18], "big") if len(raw) >= 18 else 0
    size = 65536 if size == 1 else size
    page = size if size in {512 << i for i in range(8)} and len(raw) % size == 0 else 4096
    fresh = scratch.with_name(scratch.name + ".header")
    fresh.unlink(missing_ok=True)
    made = sqlite3.connect(fresh)
    made.execute(f"PRAGMA page_size = {page:d}")
    made.execute("CREATE TABLE t (x)")
    made.close()
    header = bytearray(fresh.read_bytes()[:100])
    fresh.unlink()
    header[28:32] = bytes(4)  # page count unknown: SQLite takes the file's size
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        out.write(bytes(header) + raw[100:])
    try:
        src = sqlite3.connect(f"{scratch.as_uri()}?mode=ro", uri=True, timeout=5.0)
        schema = _schema(src)
    except sqlite3.Error:
        raise first from None
    return src, schema, 0, "the file's header was damaged and was replaced to read the rest"


def _rebuild(broken: Path, target: Path, version_hint: int) -> tuple[dict[str, int], dict[str, str]]:
    kept: dict[str, int] = {}
    lost: dict[str, str] = {}
    scratch = target.with_name(target.name + ".reading")
    target.unlink(missing_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    os.close(fd)
    dst = sqlite3.connect(target, isolation_level=None)
    try:
        try:
            src, schema, version, note = _open_readable(broken, scratch)
        except sqlite3.Error as exc:
            lost["everything"] = f"nothing could be read ({exc}); an empty file takes its place"
            return kept, lost
        if note:
            lost["header"] = note
        if version == 0 and schema:
            version = version_hint
        dst.execute("BEGIN")
        for kind, name, sql in schema:
            if kind != "table":
                continue
            dst.execute(sql)
            if sql.upper().startswith("CREATE VIRTUAL"):
                continue
            kept[name], trouble = _copy_table(src, dst, name)
            if trouble:
                lost[name] = trouble
        for kind, name, sql in schema:
            if kind == "table":
                continue
            try:
                dst.execute(sql)
            except sqlite3.Error as exc:
                lost[f"{kind} {name}"] = f"not recreated ({exc})"
        for kind, name, sql in schema:
            if kind == "table" and sql.upper().startswith("CREATE VIRTUAL"):
                quoted = '"' + name.replace('"', '""') + '"'
                try:
                    dst.execute(f"INSERT INTO {quoted}({quoted}) VALUES ('rebuild')")
                except sqlite3.Error as exc:
                    lost[name] = f"search index not rebuilt ({exc})"
        dst.execute(f"PRAGMA user_version = {int(version):d}")
        dst.execute("COMMIT")
        src.close()
    finally:
        dst.close()
        scratch.unlink(missing_ok=True)
    return kept, lost


def repair(path: Path, *, version_hint: int = 0, now: datetime | None = None,
           owner: Path | None = None) -> Repaired:
    """Rebuild ``path`` from what can be read and set the broken file aside (see the module doc).

    ``version_hint`` is the schema version (``PRAGMA user_version``) to give the rebuilt file when
    the broken one's was unreadable but its tables were not. ``owner``: the outbox whose processes
    have ``path`` open too (a relay's ledger: its data folder's), when not ``path`` itself."""
    if any(any_lease_held(held) for held in {path, owner or path}):
        raise InUse(f"{path} is open in another Quarterdeck process (the panel, serve, a relay or a send): "
                    "stop it, then repair")
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.stem}.broken-{stamp}{path.suffix}")
    target = path.with_name(f"{path.name}.rebuilding")
    kept, lost = _rebuild(path, target, version_hint)
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            os.replace(part, Path(f"{aside}{suffix}"))
    os.replace(target, path)
    fsync_dir(path.parent)
    return Repaired(path, aside, kept, lost)
