"""The screen patterns of each agent kind, read from ``core/activity/patterns/<kind>.yaml``.

A file lists, per category, regular expressions matched against one line of the pane at a time
(``span: N`` matches the line joined with the N-1 lines below it, for a message the tool wrapped
itself; ``last_line: true`` only the last non-empty line, for a prompt that waits at the cursor).
``{time}`` in a ``rate_limit`` pattern stands for a reset time (:data:`resets.TIME`) and must sit
in the group ``(?P<reset>...)``. Every file is checked as it is read: a bad pattern is one line
naming the file, the pattern and what is wrong, and no file of the set is used.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from quarterdeck.core.activity.watch.resets import TIME

__all__ = ["CATEGORIES", "PATTERNS_DIR", "Pattern", "PatternError", "PatternSet", "load_dir", "patterns_for"]

PATTERNS_DIR = Path(__file__).resolve().parent.parent / "patterns"
# what a pane can show, strongest first (classify.py decides between them)
CATEGORIES = ("exited", "login", "permission", "question", "rate_limit", "busy", "idle")
_PATTERN_KEYS = {"name", "regex", "last_line", "span"}
_FILE_KEYS = {"kind", "tail", "patterns"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DEFAULT_TAIL = 15


class PatternError(ValueError):
    """A pattern file that cannot be used; the message is one line per problem."""


@dataclass(frozen=True)
class Pattern:
    category: str
    name: str
    regex: re.Pattern[str]
    last_line: bool = False
    span: int = 1

    @property
    def has_reset(self) -> bool:
        return "reset" in self.regex.groupindex


@dataclass(frozen=True)
class PatternSet:
    kind: str
    tail: int
    patterns: tuple[Pattern, ...]

    def of(self, category: str) -> tuple[Pattern, ...]:
        return tuple(p for p in self.patterns if p.category == category)


def _pattern(where: str, category: str, entry: object, seen: set[str]) -> Pattern:
    if not isinstance(entry, dict):
        raise PatternError(f"{where}: {category}: an entry is not a mapping with name and regex")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise PatternError(f"{where}: {category}/{name!r}: name must be lower-case letters, digits and dashes")
    label = f"{where}: {category}/{name}"
    if name in seen:
        raise PatternError(f"{label}: the name is used twice")
    seen.add(name)
    if extra := sorted(set(entry) - _PATTERN_KEYS):
        raise PatternError(f"{label}: unknown key(s) {', '.join(map(str, extra))}")
    source = entry.get("regex")
    if not isinstance(source, str) or not source.strip():
        raise PatternError(f"{label}: regex is missing or empty")
    last_line, span = entry.get("last_line", False), entry.get("span", 1)
    if not isinstance(last_line, bool):
        raise PatternError(f"{label}: last_line must be true or false")
    if isinstance(span, bool) or not isinstance(span, int) or not 1 <= span <= 5:
        raise PatternError(f"{label}: span must be a whole number from 1 to 5")
    try:
        regex = re.compile(source.replace("{time}", TIME))
    except re.error as exc:
        raise PatternError(f"{label}: regex does not compile: {exc}") from None
    if regex.search(""):
        raise PatternError(f"{label}: regex matches an empty line")
    if category == "rate_limit":
        if "{time}" in source and "reset" not in regex.groupindex:
            raise PatternError(f"{label}: {{time}} must sit in a group named reset: (?P<reset>{{time}})")
    elif "reset" in regex.groupindex or "{time}" in source:
        raise PatternError(f"{label}: only rate_limit patterns capture a reset time")
    return Pattern(category, name, regex, last_line, span)


def parse_file(path: Path) -> PatternSet:
    """One pattern file, checked; PatternError (one line) when anything in it is wrong."""
    where = path.name
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PatternError(f"{where}: cannot be read: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise PatternError(f"{where}: not a mapping with kind and patterns")
    if extra := sorted(set(data) - _FILE_KEYS):
        raise PatternError(f"{where}: unknown key(s) {', '.join(map(str, extra))}")
    if data.get("kind") != path.stem:
        raise PatternError(f"{where}: kind must be {path.stem!r} (the file's name), not {data.get('kind')!r}")
    tail = data.get("tail", DEFAULT_TAIL)
    if isinstance(tail, bool) or not isinstance(tail, int) or not 3 <= tail <= 100:
        raise PatternError(f"{where}: tail must be a whole number of lines from 3 to 100")
    groups = data.get("patterns")
    if not isinstance(groups, dict) or not groups:
        raise PatternError(f"{where}: patterns must map categories to lists of patterns")
    found: list[Pattern] = []
    for category, entries in groups.items():
        if category not in CATEGORIES:
            raise PatternError(f"{where}: {category}: unknown category (one of {', '.join(CATEGORIES)})")
        if not isinstance(entries, list) or not entries:
            raise PatternError(f"{where}: {category}: must be a non-empty list of patterns")
        names: set[str] = set()
        found += [_pattern(where, category, entry, names) for entry in entries]
    return PatternSet(path.stem, tail, tuple(found))


def load_dir(folder: Path) -> dict[str, PatternSet]:
    """Every ``*.yaml`` in ``folder`` by kind; PatternError naming the first bad file and pattern."""
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise PatternError(f"{folder}: no pattern files (*.yaml)")
    return {path.stem: parse_file(path) for path in files}


@lru_cache(maxsize=8)
def _cached(folder: str) -> dict[str, PatternSet]:
    return load_dir(Path(folder))


def kinds(folder: Path = PATTERNS_DIR) -> tuple[str, ...]:
    return tuple(sorted(_cached(str(folder))))


def patterns_for(kind: str, folder: Path = PATTERNS_DIR) -> PatternSet:
    """The compiled patterns of ``kind`` (read and checked once per folder); ValueError for a kind
    with no file."""
    sets = _cached(str(folder))
    if kind not in sets:
        raise ValueError(f"no screen patterns for agent kind {kind!r} (known: {', '.join(sorted(sets))})")
    return sets[kind]
