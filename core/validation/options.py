"""The options each rule function accepts, checked strictly (:mod:`.spec`).

Unknown options, wrong types and impossible combinations are rejected; the errors are turned into
positioned diagnostics by :mod:`.schema`. The field being checked is passed in the context as
``given``.
"""

from __future__ import annotations

from typing import get_args

from .model import LIST_FIELDS
from .regexes import compile_regex
from .secrets import DetectorKind
from .spec import Context, Key, Spec

_NON_NEGATIVE = Key("int", ge=0)


def _not_blank(word: str, context: Context) -> str:
    if not word.strip():
        raise ValueError("a forbidden word must not be blank; remove it")
    return word


def _compiles(pattern: str | None, context: Context) -> str | None:
    if pattern is not None:
        compile_regex(pattern)
    return pattern


def _unit_fits_field(unit: str | None, context: Context) -> str | None:
    given = str(context.get("given", ""))
    if unit == "items" and given and given not in LIST_FIELDS:
        raise ValueError(f"unit 'items' counts list entries, but '{given}' is text; use characters or lines")
    if unit in ("characters", "lines") and given in LIST_FIELDS:
        raise ValueError(f"unit '{unit}' counts text, but '{given}' is a list; use items")
    return unit


class FunctionOptions(Spec):
    """Base for option specs: strict types, no unknown keys."""


class RequiredOptions(FunctionOptions):
    """``required`` takes no options."""


class LengthOptions(FunctionOptions):
    """Bounds on characters, lines or items, plus exact lengths to forbid."""

    min: int | None
    max: int | None
    unit: str | None
    forbid: list[int]
    KEYS = {"min": Key("int", None, nullable=True, ge=0), "max": Key("int", None, nullable=True, ge=0),
            "unit": Key(("characters", "lines", "items"), None, nullable=True, check=_unit_fits_field),
            "forbid": Key("list", list, items=_NON_NEGATIVE)}

    def after(self, context: Context) -> None:
        if self.min is None and self.max is None and not self.forbid:
            raise ValueError("length needs at least one of 'min', 'max' or 'forbid'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min}) is greater than 'max' ({self.max}); swap them")


class PatternOptions(FunctionOptions):
    """RE2 patterns the field must match and/or must not match."""

    match: str | None
    not_match: str | None
    KEYS = {"match": Key("str", None, nullable=True, check=_compiles),
            "not_match": Key("str", None, alias="notMatch", nullable=True, check=_compiles)}

    def after(self, context: Context) -> None:
        if self.match is None and self.not_match is None:
            raise ValueError("pattern needs 'match', 'notMatch' or both")


class EnumerationOptions(FunctionOptions):
    """The allowed values (every list item must be one of them)."""

    values: list[str]
    KEYS = {"values": Key("list", min_length=1, items=Key("str"))}


class ForbiddenWordsOptions(FunctionOptions):
    """Words or phrases that must not appear as whole words."""

    words: list[str]
    case_sensitive: bool
    KEYS = {"words": Key("list", min_length=1, items=Key("str", check=_not_blank)),
            "case_sensitive": Key("bool", False, alias="caseSensitive")}


class SecretsOptions(FunctionOptions):
    """Which secret detectors to run and an optional entropy threshold."""

    detectors: list[DetectorKind] | None
    min_entropy: float | None
    KEYS = {"detectors": Key("list", None, nullable=True, min_length=1, items=Key(get_args(DetectorKind))),
            "min_entropy": Key("float", None, alias="minEntropy", nullable=True, gt=0, le=8)}


class UniqueOptions(FunctionOptions):
    """``unique`` takes no options."""


class MaxRecipientsOptions(FunctionOptions):
    """The most recipients one message may name."""

    max: int
    KEYS = {"max": _NON_NEGATIVE}

