"""Reading and writing a tool's settings file without disturbing what the user has in it.

A file is parsed whole (JSON, or TOML for Codex's ``config.toml``); one that does not parse is
refused with a :class:`SettingsError` naming the file, the place and what to do, and is left as it
is. A changed file is written in one rename (:func:`quarterdeck.core.fileops.write_atomically`),
keeping its permission bits; before Quarterdeck first changes a file that existed, the file is
copied to ``<name>.bak`` (once: an existing ``.bak`` is never overwritten). JSON goes back out
with the indent the file had (two spaces for a new one), so a file written by the tool itself
differs only by Quarterdeck's entries. A file whose content would not change is not written, and
a settings file that is a symbolic link (dotfiles kept elsewhere) stays one: its target is changed.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from quarterdeck.core.fileops import write_atomically


class SettingsError(ValueError):
    """A settings file Quarterdeck cannot change safely; the message is one line to show as is."""


def read(path: Path) -> str | None:
    """The file's text; None when there is no file. SettingsError when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} cannot be read ({exc}); it was left untouched") from None


def parse_json(path: Path, text: str | None) -> dict[str, Any]:
    """The JSON object in ``text`` ({} for no file or a blank one)."""
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); it was left "
                            "untouched: fix it (comments are not kept either) and run the command again") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: the file holds a JSON {type(data).__name__}, not an object; it was left "
                            "untouched: fix it and run the command again")
    return data


def dump_json(data: dict[str, Any], like: str | None) -> str:
    """``data`` as JSON text indented the way ``like`` (the file's previous text) was."""
    indent: str | int | None = 2
    if like and like.strip() and "\n" not in like.strip():
        indent = None  # a file on one line stays on one line
    elif like:
        found = re.search(r"\n([ \t]+)\S", like)
        if found:
            indent = found.group(1)
            indent = len(indent) if set(indent) == {" "} else indent
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return text + "\n" if like is None or like.endswith("\n") or not like.strip() else text


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def save(path: Path, text: str, old: str | None) -> bool:
    """Write ``text`` to ``path`` when it differs from ``old`` (the file's text, None for no file);
    True when the file was written."""
    if text == old:
        return False
    if path.is_symlink():  # a dotfiles link: the file it points at is changed, the link stays
        path = path.resolve()
    if old is not None:
        backup = backup_path(path)
        if not backup.exists():
            backup.write_bytes(path.read_bytes())
            os.chmod(backup, path.stat().st_mode & 0o7777)
    write_atomically(path, text, backup=False)
    return True


def remove(path: Path) -> bool:
    """Delete a file Quarterdeck created and emptied again (no ``.bak``: there was none before)."""
    if backup_path(path).exists() or not path.exists():
        return False
    path.unlink()
    return True
