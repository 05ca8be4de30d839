"""What a rule editor needs besides widgets: checking open texts together, converting the
checker's code-point columns to an editor's UTF-16 positions, and saving.

Saving follows one rule: the running validator only ever sees a complete, error-free rule set.
When every open file checks clean, the texts replace the rule files (each in one atomic rename;
the built-in rules are first copied to the user's folder). When any file has an error, every
edited file is written as ``<name>.yaml.draft`` instead, which no rule folder scan loads.
``find_rule`` points an editor at the line that defines a rule (the composer's "Open rule").
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from quarterdeck.core.fileops import write_atomically

from .diagnostics import Diagnostic, has_errors
from .loader import load_rule_texts
from .location import RulesLocation, copy_rules_folder, draft_path, locate_rules
from .model import RuleSet
from .store import RuleStore


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what Qt counts): an astral character is 2."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def utf16_column(line_text: str, col0: int) -> int:
    """The UTF-16 offset of code-point column ``col0`` (0-based) in ``line_text``.

    A column past the end of the line (the checker may point just after it) is kept past it
    by the same number of units, so the caller can clamp it to the line.
    """
    head = line_text[:col0]
    return utf16_len(head) + max(0, col0 - len(line_text))


def plural(count: int, noun: str) -> str:
    """``1 error``, ``2 errors``: counts in messages read naturally."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def underline_span(line_text: str, col0: int, end_col0: int | None = None) -> tuple[int, int]:
    """The code-point range of ``line_text`` to underline for a problem at ``col0``.

    It runs to ``end_col0`` when the problem's node ends on this line, else over the word at
    ``col0``; it is never empty on a non-empty line, so a problem past the end of a line marks
    the line's last character.
    """
    size = len(line_text)
    start = min(max(0, col0), size)
    if end_col0 is not None and end_col0 > start:
        return start, min(end_col0, size)
    end = start
    while end < size and not line_text[end].isspace():
        end += 1
    if end == start:
        if start < size:
            end = start + 1
        elif start > 0:
            start -= 1
    return start, end


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """The result of checking all open rule texts together.

    ``ruleset`` is the combined rule set, or None when any file has an error (including a rule
    id defined in two files).
    """

    ruleset: RuleSet | None
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def valid(self) -> bool:
        return self.ruleset is not None

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if not d.is_error)

    def for_file(self, name: str) -> list[Diagnostic]:
        """The diagnostics of the file checked under ``name``."""
        return [d for d in self.diagnostics if d.file == name]


def check_rule_texts(sources: Sequence[tuple[str, str]]) -> RuleCheck:
    """Check ``(name, text)`` pairs as one rule set, the way the store would load them.

    Pure and fast (a few milliseconds for the built-in rules), so an editor may run it while
    the user types.
    """
    ruleset, diagnostics = load_rule_texts(sources)
    if has_errors(diagnostics):
        ruleset = None
    return RuleCheck(ruleset, tuple(diagnostics))


@dataclass(frozen=True, slots=True)
class OpenedRules:
    """Rule files read for editing: ``texts`` maps each file name to its text, in load order."""

    location: RulesLocation
    texts: dict[str, str]
    drafts: dict[str, str] = field(default_factory=dict)


def open_rules(configured: Path | None) -> OpenedRules:
    """Locate the active rules and read every file, plus any drafts kept beside them. Blocking."""
    location = locate_rules(configured)
    texts = {path.name: path.read_text(encoding="utf-8") for path in location.files()}
    drafts = {}
    for name in texts:
        draft = draft_path(location.target_for(name))
        if draft.is_file():
            drafts[name] = draft.read_text(encoding="utf-8")
    return OpenedRules(location, texts, drafts)


def read_texts(location: RulesLocation, names: Sequence[str]) -> dict[str, str | None]:
    """The current text on disk of each named rule file (None if it is gone). Blocking."""
    found: dict[str, str | None] = {}
    by_name = {path.name: path for path in location.files()}
    for name in names:
        path = by_name.get(name)
        try:
            found[name] = path.read_text(encoding="utf-8") if path is not None else None
        except (OSError, UnicodeDecodeError):
            found[name] = None
    return found


@dataclass(frozen=True, slots=True)
class SaveOutcome:
    """What a save wrote: the rule files, or drafts only, and the location now in force."""

    location: RulesLocation
    written: tuple[Path, ...]
    drafts: bool
    copied: bool = False


def save_rules(location: RulesLocation, texts: Mapping[str, str], *, valid: bool) -> SaveOutcome:
    """Write the edited ``texts`` (file name to text); see the module docstring. Blocking.

    ``valid`` must come from checking all open files together: only then are rule files
    replaced, and a stale draft of each saved file is removed.
    """
    if not valid:
        drafts = []
        for name, text in texts.items():
            draft = draft_path(location.target_for(name))
            write_atomically(draft, text, backup=False)
            drafts.append(draft)
        return SaveOutcome(location, tuple(drafts), drafts=True)
    copied = location.read_only
    if copied:
        copy_rules_folder(location.path, location.edit_dir, texts)
        location = RulesLocation(location.edit_dir, "user", location.edit_dir)
        written = tuple(location.target_for(name) for name in texts)
    else:
        written = tuple(location.target_for(name) for name in texts)
        for target, text in zip(written, texts.values(), strict=True):
            write_atomically(target, text, backup=False)
    for target in written:
        draft_path(target).unlink(missing_ok=True)
    return SaveOutcome(location, written, drafts=False, copied=copied)


def activate_rules(store: RuleStore, location: RulesLocation) -> tuple[RuleStore, list[Diagnostic]]:
    """Reload ``store`` from disk, or a new store reading ``location`` when ``store`` reads
    elsewhere (the first save of the built-in rules moved them to the user's folder). Blocking.

    Either way the last good rule set stays active if the files on disk have errors.
    """
    if tuple(store.paths) == (location.path,):
        return store, store.reload()
    fresh = RuleStore([location.path])
    diagnostics = fresh.reload()
    return (fresh if fresh.loaded else store), diagnostics


def find_rule(texts: Mapping[str, str], rule_id: str) -> tuple[str, int, int] | None:
    """Where ``rule_id`` is defined among rule file texts: (file name, 1-based line, column of its
    key), the first file that has it; None when no file defines it."""
    key = re.compile(rf"^([ \t]+){re.escape(rule_id)}[ \t]*:", re.MULTILINE)
    for name, text in texts.items():
        found = key.search(text)
        if found is not None:
            line = text.count("\n", 0, found.start()) + 1
            return name, line, len(found.group(1)) + 1
    return None
