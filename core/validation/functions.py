"""The rule functions: what each one checks, built once per rule at load time.

Every function turns its checked options into a checker, a callable taking
the field's value (text, list of texts, or None when the field is absent)
and yielding ``Finding``s. Only ``required`` reports absent fields; the
others skip them. Text functions applied to a list field check every item.
A checker reports at most ``MAX_FINDINGS`` findings per message.

A checker says, where it can, when it surely finds nothing in a text: by its
patterns (``quiet``: each matching or not, so a validator can ask one RE2 set
scan for all of a rule set's patterns first) or by a cheap test (``clear``: a
length within bounds, text that is not blank, no secret detector's prefilter
hit), so a validator runs only the checks that may find something.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from .messages import shorten
from .model import FIELDS, LIST_FIELDS, FieldValue, Finding, ValueCheck
from .options import (
    EnumerationOptions,
    ForbiddenWordsOptions,
    FunctionOptions,
    LengthOptions,
    MaxRecipientsOptions,
    PatternOptions,
    RequiredOptions,
    SecretsOptions,
    UniqueOptions,
)
from .regexes import literal_alternation
from .secrets import find_secrets, nothing_to_find
from .textsearch import TextPattern

MAX_FINDINGS = 50
_NOT_WORD = r"[^\pL\pN\pM_]"

TextCheck = Callable[[str, str], Iterable[Finding]]
#: A check finds nothing in a text where each pattern's ``search`` says the paired bool (empty: unknown).
Quiet = tuple[tuple[TextPattern, bool], ...]
#: True when a check surely finds nothing in a text.
Clear = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class FunctionDef:
    """A rule function: its options (a spec), builder and the fields it accepts."""

    name: str
    options: type[FunctionOptions]
    build: Callable[[Any, str], ValueCheck]
    fields: tuple[str, ...] = FIELDS
    checks_missing: bool = False


class Built:
    """A function's check of a present value, with what tells that it finds nothing in a text."""

    __slots__ = ("_run", "clear", "quiet")

    def __init__(self, run: ValueCheck, quiet: Quiet = (), clear: Clear | None = None) -> None:
        self._run = run
        self.quiet = quiet
        self.clear = clear

    def __call__(self, value: FieldValue) -> Iterable[Finding]:
        return self._run(value)


class _ForField:
    """Apply a text check to a text field, or to every item of a list field."""

    __slots__ = ("_check_text", "_given")

    def __init__(self, check_text: TextCheck, given: str) -> None:
        self._check_text = check_text
        self._given = given

    def __call__(self, value: FieldValue) -> Iterator[Finding]:
        if isinstance(value, str):
            yield from self._check_text(value, self._given)
            return
        for item in value:
            for finding in self._check_text(item, f"{self._given} entry '{shorten(item)}'"):
                yield Finding(finding.error, None, finding.value if finding.value is not None else item)


class RuleCheck:
    """A rule's checker: at most ``MAX_FINDINGS`` findings, as a list; ``quiet`` and ``clear`` as
    :class:`Built` says for a text value."""

    __slots__ = ("_check", "_missing_too", "clear", "quiet")

    def __init__(self, check: Callable[[Any], Iterable[Finding]], missing_too: bool, built: Built | None) -> None:
        self._check = check
        self._missing_too = missing_too
        self.quiet: Quiet = built.quiet if built is not None else ()
        self.clear = built.clear if built is not None else None

    def __call__(self, value: FieldValue | None) -> list[Finding]:
        if value is None and not self._missing_too:
            return []
        return list(islice(self._check(value), MAX_FINDINGS))


def _build_required(options: RequiredOptions, given: str) -> Built:
    def check(value: FieldValue | None) -> Iterator[Finding]:
        if value is None:
            yield Finding(f"{given} is missing")
        elif isinstance(value, str):
            if not value.strip():
                yield Finding(f"{given} is empty")
        elif not any(item.strip() for item in value):
            yield Finding(f"{given} is empty")

    return Built(check, clear=lambda text: bool(text) and not text.isspace())  # what strip() leaves


def _count_lines(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def _line_offset(text: str, line: int) -> int:
    """Character offset where 0-based ``line`` starts."""
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset


_NOUNS = {"characters": ("character", "characters"), "lines": ("line", "lines"), "items": ("item", "items")}


def _build_length(options: LengthOptions, given: str) -> ValueCheck:
    unit = options.unit or ("items" if given in LIST_FIELDS else "characters")
    forbidden = frozenset(options.forbid)

    def measure(value: FieldValue) -> int:
        if isinstance(value, list):
            return len(value)
        return _count_lines(value) if unit == "lines" else len(value)

    def overflow(value: FieldValue, limit: int) -> tuple[int, int] | None:
        if not isinstance(value, str):
            return None
        start = _line_offset(value, limit) if unit == "lines" else limit
        return (start, len(value))

    def fits(size: int) -> bool:
        return ((options.min is None or size >= options.min) and (options.max is None or size <= options.max)
                and size not in forbidden)

    def check(value: FieldValue) -> Iterator[Finding]:
        size = measure(value)
        one, many = _NOUNS[unit]
        noun = one if size == 1 else many
        if options.min is not None and size < options.min:
            yield Finding(f"{given} has {size} {noun}; at least {options.min} needed")
        if options.max is not None and size > options.max:
            yield Finding(f"{given} has {size} {noun}; at most {options.max} allowed", overflow(value, options.max))
        if size in forbidden:
            yield Finding(f"{given} has exactly {size} {noun}, which is not allowed")

    return Built(check, clear=lambda text: fits(measure(text)))


def _build_pattern(options: PatternOptions, given: str) -> ValueCheck:
    match = TextPattern(options.match) if options.match is not None else None
    not_match = TextPattern(options.not_match) if options.not_match is not None else None

    def check_text(text: str, label: str) -> Iterator[Finding]:
        if match is not None and not match.search(text):
            yield Finding(f"{label} does not match /{options.match}/")
        if not_match is not None:
            for start, end in not_match.spans(text, MAX_FINDINGS):
                yield Finding(f"{label} matches /{options.not_match}/", (start, end), text[start:end])

    quiet = ((match, True),) if match is not None else ()
    return Built(_ForField(check_text, given), quiet + (((not_match, False),) if not_match is not None else ()))


def _build_enumeration(options: EnumerationOptions, given: str) -> ValueCheck:
    allowed = frozenset(options.values)
    expected = ", ".join(options.values)
    noun = f"{given} entry" if given in LIST_FIELDS else given

    def check(value: FieldValue) -> Iterator[Finding]:
        for item in [value] if isinstance(value, str) else value:
            if item not in allowed:
                yield Finding(f"{noun} '{shorten(item)}' is not allowed; expected one of: {expected}", value=item)

    return check


def _build_forbidden_words(options: ForbiddenWordsOptions, given: str) -> ValueCheck:
    """Whole words: not directly preceded or followed by a letter, digit, mark or '_'."""
    words = literal_alternation(tuple(options.words))
    pattern = TextPattern(f"(?:^|{_NOT_WORD})({words})(?:{_NOT_WORD}|$)", options.case_sensitive, group=1)

    def check_text(text: str, label: str) -> Iterator[Finding]:
        for start, end in pattern.spans(text, MAX_FINDINGS):
            word = text[start:end]
            yield Finding(f"{label} contains the forbidden word '{word}'", (start, end), word)

    return Built(_ForField(check_text, given), ((pattern, False),))


def _build_secrets(options: SecretsOptions, given: str) -> ValueCheck:
    kinds = tuple(options.detectors) if options.detectors is not None else None

    def check_text(text: str, label: str) -> Iterator[Finding]:
        for found in islice(find_secrets(text, kinds, options.min_entropy), MAX_FINDINGS):
            kind = found.kind.replace("_", " ")
            span = (found.start, found.end)
            yield Finding(f"{label} contains a possible {kind} ({found.preview})", span, found.preview)

    return Built(_ForField(check_text, given), clear=lambda text: nothing_to_find(text, kinds))


def _build_max_recipients(options: MaxRecipientsOptions, given: str) -> ValueCheck:
    def check(value: FieldValue) -> Iterator[Finding]:
        if len(value) > options.max:
            yield Finding(f"{len(value)} recipients named; at most {options.max} allowed")

    return check


def _build_unique(options: UniqueOptions, given: str) -> ValueCheck:
    def check(value: FieldValue) -> Iterator[Finding]:
        seen: set[str] = set()
        reported: set[str] = set()
        for item in value:
            if item in seen and item not in reported:
                reported.add(item)
                yield Finding(f"{given} names '{shorten(item)}' more than once", value=item)
            seen.add(item)

    return check


_DEFS = (
    FunctionDef("required", RequiredOptions, _build_required, checks_missing=True),
    FunctionDef("length", LengthOptions, _build_length),
    FunctionDef("pattern", PatternOptions, _build_pattern),
    FunctionDef("enumeration", EnumerationOptions, _build_enumeration),
    FunctionDef("forbidden_words", ForbiddenWordsOptions, _build_forbidden_words),
    FunctionDef("secrets", SecretsOptions, _build_secrets),
    FunctionDef("max_recipients", MaxRecipientsOptions, _build_max_recipients, fields=("recipients",)),
    FunctionDef("unique", UniqueOptions, _build_unique, fields=tuple(sorted(LIST_FIELDS))),
)
FUNCTIONS: dict[str, FunctionDef] = {definition.name: definition for definition in _DEFS}


def make_checker(definition: FunctionDef, options: FunctionOptions, given: str) -> RuleCheck:
    """Build the checker for a rule; it returns at most ``MAX_FINDINGS`` findings as a list.
    A function that ``checks_missing`` is built to take None too (see _build_required)."""
    check = definition.build(options, given)
    return RuleCheck(check, definition.checks_missing, check if isinstance(check, Built) else None)
