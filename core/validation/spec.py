"""Checked mappings for the rule file format: each key's type, bounds and checks, every problem found.

A :class:`Spec` subclass lists its keys in ``KEYS`` (a :class:`Key` each: a strict type, the name
as written in rule files, a default, bounds, a check of its own) and may check across keys in
:meth:`Spec.after`. :meth:`Spec.check` reads a mapping and returns the instance, or None and every
problem: a missing key, an unknown key, a wrong type (strict: ``'1'`` is not a number, ``true``
is not 1), a value out of bounds, a failed check. Each problem is a dict with ``type``, ``loc`` (keys
and list indexes, as written), ``msg``, ``input`` and ``ctx``, the shape
:func:`quarterdeck.core.model_errors.rule_message` words for a rule file. The checks across keys
run only once every key is valid. Instances are read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from quarterdeck.core.model_errors import BOUND_WORDS, TYPE_NAMES, ErrorDict, either

Context = dict[str, Any]
REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()
_BAD: Any = type("Bad", (), {})()

_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
                                       "list": (list,), "dict": (dict,)}
_AS_MSGSPEC = {"list": "array", "dict": "object"}  # a kind here -> msgspec's name for it (the errors' wording)
_TYPE_MSGS = {kind: TYPE_NAMES[_AS_MSGSPEC.get(kind, kind)][1] for kind in _TYPES}
_TYPE_KINDS = {kind: f"{TYPE_NAMES[_AS_MSGSPEC.get(kind, kind)][0]}_type" for kind in _TYPES}
# the bounds in the order they are checked, with the error each raises
_LIMITS: tuple[tuple[str, str, str, Callable[[Any, float], bool]], ...] = (
    ("le", "less_than_equal", BOUND_WORDS["<="], lambda value, limit: value <= limit),
    ("ge", "greater_than_equal", BOUND_WORDS[">="], lambda value, limit: value >= limit),
    ("gt", "greater_than", BOUND_WORDS[">"], lambda value, limit: value > limit))


@dataclass(frozen=True, slots=True)
class Key:
    """One key of a checked mapping.

    ``kind``: ``str``, ``int``, ``float`` (an int is taken as a number), ``bool``, ``list``, ``dict``,
    ``any`` (no type check), or a tuple of the allowed values. ``default``: REQUIRED, a value, or
    ``list``/``dict`` for a new empty one. ``items``: the check of each list item, or of each value
    of a mapping, whose keys ``keys`` checks. ``check(value, context)`` runs once the value's type
    and bounds are right; it raises ``ValueError`` to refuse the value, or returns the value to keep."""

    kind: str | tuple[Any, ...]
    default: Any = REQUIRED
    alias: str | None = None
    nullable: bool = False
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    min_length: int | None = None
    items: Key | None = None
    keys: Key | None = None
    check: Callable[[Any, Context], Any] | None = None


def _error(kind: str, loc: tuple[Any, ...], msg: str, value: Any, **ctx: Any) -> ErrorDict:
    return {"type": kind, "loc": loc, "msg": msg, "input": value, "ctx": ctx}


def check_value(key: Key, value: Any, loc: tuple[Any, ...], context: Context, errors: list[ErrorDict]) -> Any:
    """``value`` checked against ``key`` (a list or mapping item by item); problems go to ``errors``
    and the result is then ``_BAD``."""
    if value is None and key.nullable:
        return None
    if isinstance(key.kind, tuple):
        if not any(value == choice for choice in key.kind):
            choices = [str(choice) for choice in key.kind]
            errors.append(_error("literal_error", loc, f"Input should be {either([repr(c) for c in key.kind])}",
                                 value, choices=choices))
            return _BAD
    elif key.kind != "any":
        if not isinstance(value, _TYPES[key.kind]) or (isinstance(value, bool) and key.kind != "bool"):
            errors.append(_error(_TYPE_KINDS[key.kind], loc, f"Input should be {_TYPE_MSGS[key.kind]}", value))
            return _BAD
    given = value
    if key.kind == "float":
        try:
            value = float(value)
        except OverflowError:  # an integer too large for a float
            errors.append(_error("float_type", loc, f"Input should be {_TYPE_MSGS['float']}", value))
            return _BAD
    found = len(errors)
    if isinstance(value, list) and key.items is not None:
        value = [check_value(key.items, item, (*loc, index), context, errors) for index, item in enumerate(value)]
    elif isinstance(value, dict) and (key.items is not None or key.keys is not None):
        value = {
            check_value(key.keys, name, (*loc, name, "[key]"), context, errors) if key.keys else name:
            check_value(key.items, item, (*loc, name), context, errors) if key.items else item
            for name, item in value.items()}
    if len(errors) > found:
        return _BAD
    if key.min_length is not None and len(value) < key.min_length:
        errors.append(_error("too_short", loc, f"List should have at least {key.min_length} item"
                             f"{'s' * (key.min_length != 1)} after validation, not {len(value)}", value,
                             field_type="List", min_length=key.min_length, actual_length=len(value)))
        return _BAD
    for name, kind, words, holds in _LIMITS:
        limit = getattr(key, name)
        if limit is not None:
            limit = float(limit) if key.kind == "float" else limit
            if not holds(value, limit):
                errors.append(_error(kind, loc, f"Input should be {words} {limit}", given, **{name: limit}))
                return _BAD
    if key.check is not None:
        try:
            return key.check(value, context)
        except ValueError as exc:
            errors.append(_error("value_error", loc, f"Value error, {exc}", value, error=exc))
            return _BAD
    return value


class Spec:
    """A checked, read-only mapping of the rule file format; see the module docstring."""

    KEYS: ClassVar[dict[str, Key]] = {}
    _set: frozenset[str]

    def __init__(self, **values: Any) -> None:
        for name, key in self.KEYS.items():
            if name in values:
                value = values[name]
            elif key.default is REQUIRED:
                raise TypeError(f"{type(self).__name__} needs {name!r}")
            else:
                value = key.default() if key.default in (list, dict) else key.default
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_set", frozenset(name for name in values if name in self.KEYS))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.KEYS)
        return f"{type(self).__name__}({shown})"

    def after(self, context: Context) -> None:
        """A check across keys, once each is valid; raises ``ValueError``."""

    @classmethod
    def keys_as_written(cls) -> list[str]:
        """The keys as written in rule files (an alias where there is one)."""
        return [key.alias or name for name, key in cls.KEYS.items()]

    def as_written(self) -> dict[str, Any]:
        """The keys given (not the defaults), as written in rule files."""
        return {self.KEYS[name].alias or name: getattr(self, name) for name in self.KEYS if name in self._set}

    @classmethod
    def check(cls, data: Any, context: Context | None = None) -> tuple[Self | None, list[ErrorDict]]:
        """``data`` as this spec and no errors, or None and every problem found."""
        context = context or {}
        if not isinstance(data, dict):
            return None, [_error("dict_type", (), "Input should be a valid dictionary", data)]
        errors: list[ErrorDict] = []
        values: dict[str, Any] = {}
        for name, key in cls.KEYS.items():
            written = key.alias or name
            if written in data:
                values[name] = check_value(key, data[written], (written,), context, errors)
            elif key.default is REQUIRED:
                errors.append(_error("missing", (written,), "Field required", data))
        known = set(cls.keys_as_written())
        errors += [_error("extra_forbidden", (name,), "Extra inputs are not permitted", value)
                   for name, value in data.items() if name not in known]
        if errors:
            return None, errors
        made = cls(**values)
        try:
            made.after(context)
        except ValueError as exc:
            return None, [_error("value_error", (), f"Value error, {exc}", data, error=exc)]
        return made, []
