"""Where the active rules live, and making an editable copy of the built-in ones.

One function decides the rules folder for everyone (the session, the CLI and the rule editor),
so they never disagree: the config's ``validation_rules_path`` when set; else the user's
``<config dir>/rules`` folder once it holds rule files; else the rules shipped with Quarterdeck.
The shipped rules may sit inside site-packages or a frozen bundle, so they are never written:
the first save copies all of them to the user's folder in one step and edits go there.
"""
from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from quarterdeck.core.fileops import fsync_dir
from quarterdeck.core.paths import user_config_dir
from quarterdeck.core.resources import bundled_rules_dir

from .loader import RULE_SUFFIXES

Source = Literal["config", "user", "bundled"]
RULES_FOLDER_NAME = "rules"
DRAFT_SUFFIX = ".draft"


def user_rules_dir(env: Mapping[str, str] | None = None) -> Path:
    """The user's own rules folder (it may not exist yet)."""
    return user_config_dir(env) / RULES_FOLDER_NAME


def rule_files_in(folder: Path) -> list[Path]:
    """The rule files (``*.yaml``/``*.yml``) directly in ``folder``, sorted; none if it is missing."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in RULE_SUFFIXES and p.is_file())


@dataclass(frozen=True, slots=True)
class RulesLocation:
    """The rules in force: where they are read from and where edits are written.

    ``path`` is a folder, or one file when the config names a file. ``edit_dir`` is the folder
    edits and drafts go to; it differs from ``path`` only for the read-only bundled rules.
    """

    path: Path
    source: Source
    edit_dir: Path

    @property
    def read_only(self) -> bool:
        """True for the shipped rules: saving must copy them first."""
        return self.source == "bundled"

    def files(self) -> list[Path]:
        """The rule files this location loads, in load order."""
        if self.path.is_file():
            return [self.path]
        return rule_files_in(self.path)

    def target_for(self, name: str) -> Path:
        """Where an edit of the rule file called ``name`` is written."""
        if self.path.is_file() and self.path.name == name:
            return self.path
        return self.edit_dir / name

    def editing_note(self) -> str:
        """A sentence for an editor saying what is being edited and where saves go."""
        if self.source == "bundled":
            return (f"Editing the built-in rules (read-only, in {self.path}). Your first save copies "
                    f"them to {self.edit_dir} and you edit the copy there.")
        if self.source == "user":
            return f"Editing your rules in {self.path}."
        return f"Editing the configured rules at {self.path} (validation_rules_path)."


def locate_rules(configured: Path | None, env: Mapping[str, str] | None = None) -> RulesLocation:
    """The active rules location (see the module docstring for the order). Reads the disk."""
    if configured is not None:
        path = Path(configured)
        return RulesLocation(path, "config", path.parent if path.is_file() else path)
    user = user_rules_dir(env)
    if rule_files_in(user):
        return RulesLocation(user, "user", user)
    return RulesLocation(bundled_rules_dir(), "bundled", user)


def active_rules_path(configured: Path | None, env: Mapping[str, str] | None = None) -> Path:
    """The folder (or file) the running validator loads: ``locate_rules(...).path``."""
    return locate_rules(configured, env).path


def draft_path(target: Path) -> Path:
    """Where an invalid edit of ``target`` is kept: ``<name>.yaml.draft`` beside it.

    The suffix is ``.draft``, so a rules folder scan (``*.yaml``/``*.yml``) never loads it.
    """
    return target.with_name(target.name + DRAFT_SUFFIX)


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def copy_rules_folder(source: Path, dest: Path, overrides: Mapping[str, str] | None = None) -> list[Path]:
    """Copy every rule file of ``source`` into ``dest`` in one rename, replacing some texts.

    The new folder is built beside ``dest`` and renamed into place, so a crash leaves either no
    user rules (the built-in ones stay active) or a complete copy, never a partial set. Files
    already in ``dest`` that are not rule files (drafts) are carried over; rule files there are
    replaced. ``overrides`` maps a file name to the text to write instead of the source's.
    Returns the rule files of the new folder.
    """
    overrides = dict(overrides or {})
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_name(f".{dest.name}.{secrets.token_hex(6)}.tmp")
    staging.mkdir()
    try:
        for file in rule_files_in(source):
            text = overrides.pop(file.name, None)
            _write_synced(staging / file.name, file.read_text(encoding="utf-8") if text is None else text)
        for name, text in overrides.items():
            _write_synced(staging / name, text)
        if dest.is_dir():
            for entry in dest.iterdir():
                if entry.is_file() and entry.suffix not in RULE_SUFFIXES and not (staging / entry.name).exists():
                    shutil.copy2(entry, staging / entry.name)
        fsync_dir(staging)
        _swap_in(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    fsync_dir(dest.parent)
    return rule_files_in(dest)


def _swap_in(staging: Path, dest: Path) -> None:
    """Rename ``staging`` to ``dest``; an existing ``dest`` is moved aside first and removed."""
    if not dest.exists():
        os.replace(staging, dest)
        return
    old = dest.with_name(f".{dest.name}.{secrets.token_hex(6)}.old")
    os.replace(dest, old)
    try:
        os.replace(staging, dest)
    except BaseException:
        os.replace(old, dest)
        raise
    shutil.rmtree(old, ignore_errors=True)
