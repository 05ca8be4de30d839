"""Checked construction of the msgspec models (:mod:`quarterdeck.core.models`), and their errors.

msgspec checks types and constraints when it converts or decodes, not when a class is called, so
everything built from untrusted input (command-line arguments, YAML, JSON, the wire) goes through
:func:`checked` (or :func:`decoded` for JSON). A failure is :class:`Invalid`, a
``msgspec.ValidationError`` whose :meth:`Invalid.errors` gives each problem as a dict with ``loc``
(the path: keys and list indexes, as written), ``msg`` (a sentence for a person), ``type`` and
``input`` (the value found at ``loc``, or None): the shape the roster parser, the agent form and the
command line report from. msgspec stops at the first problem; :func:`checked_all` drops the key at
fault and tries again, to report every problem of an entry it can. The sentences are
:mod:`quarterdeck.core.model_errors`'s.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from quarterdeck.core.model_errors import ErrorDict as ErrorDict  # the roster's parser reads it here
from quarterdeck.core.model_errors import friendly

T = TypeVar("T")


class FieldError(ValueError):
    """A check in a model's ``__post_init__`` that failed at ``loc`` below the model (a field, a list item)."""

    def __init__(self, message: str, *loc: str | int):
        super().__init__(message)
        self.loc = loc


def where(error: ErrorDict) -> str:
    """Where an error is, dotted: ``window.id``, ``recipients.0``; '' at the top."""
    return ".".join(str(part) for part in error["loc"])


class Invalid(msgspec.ValidationError, ValueError):
    """Input that is not a valid model; :meth:`errors` says where and why. A ``ValueError`` too, for
    the callers that catch one. Its text is the first problem with where it is: ``window.id: Input
    should be greater than 0``."""

    def __init__(self, errors: list[ErrorDict]):
        first = errors[0]
        at = where(first)
        super().__init__(f"{at}: {first['msg']}" if at else first["msg"])
        self._errors = errors

    def errors(self) -> list[ErrorDict]:
        return list(self._errors)


def _dec_hook(kind: type, value: Any) -> Any:
    if kind is Path:
        if isinstance(value, Path):
            return value
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("the inbox path is empty")
            return Path(value)
        raise TypeError(f"Expected `str`, got `{type(value).__name__}`")
    raise NotImplementedError(f"no conversion to {kind!r}")


def _enc_hook(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise NotImplementedError(f"cannot write {type(value).__name__}")


def checked(kind: type[T], data: Any) -> T:
    """``data`` (plain values, or models already checked) as a ``kind``; raises :class:`Invalid`."""
    try:
        return msgspec.convert(data, kind, dec_hook=_dec_hook)
    except msgspec.ValidationError as exc:
        raise Invalid([describe(exc, data)]) from None


def decoded(kind: type[T], raw: bytes | str) -> T:
    """A ``kind`` from JSON text; raises :class:`Invalid` (bad JSON too: an error at the top)."""
    try:
        return msgspec.json.decode(raw, type=kind, dec_hook=_dec_hook)
    except msgspec.ValidationError as exc:
        try:
            data = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            data = None
        raise Invalid([describe(exc, data)]) from None
    except msgspec.DecodeError as exc:
        raise Invalid([{"loc": (), "msg": str(exc), "type": "json_invalid", "input": None}]) from None


def encoded(model: Any) -> bytes:
    """A model as JSON."""
    return msgspec.json.encode(model, enc_hook=_enc_hook)


def dumped(model: Any) -> Any:
    """A model as the plain values JSON would give (lists, dicts, strings, numbers)."""
    return msgspec.json.decode(encoded(model))


# what stands in for a roster entry's required key at fault, so that the next try reaches the keys after it
_STAND_INS: dict[str, Any] = {"id": "A", "transport": {"kind": "dryrun"}, "chat": [0, 0], "target": "x", "path": "x"}


def checked_all(kind: type[T], data: dict[str, Any]) -> tuple[T | None, list[ErrorDict]]:
    """``data`` as a ``kind`` and no errors, or None and every error found by putting the key at
    fault aside (in ``data`` or a mapping within it, such as ``transport`` or its ``window``) and trying
    again. A problem of a mapping as a whole (a check across its keys) counts only when it is the first."""
    data = _copied(data)
    errors: list[ErrorDict] = []
    tried: set[tuple[str | int, ...]] = set()
    for _ in range(64):
        try:
            model = checked(kind, data)
        except Invalid as exc:
            [error] = exc.errors()
        else:
            return (None, errors) if errors else (model, errors)
        loc = tuple(error["loc"])
        holder: dict[str, Any] = data
        depth = 0
        while depth < len(loc) and isinstance(holder.get(str(loc[depth])), dict):
            holder = holder[str(loc[depth])]
            depth += 1
        key = loc[:depth + 1]
        if depth == len(loc):  # about a mapping as a whole: a check across its keys, made after them all
            if not errors:
                errors.append(error)
            if not loc:
                break
            key, depth = loc, depth - 1
            holder = _at(data, loc[:-1])
        elif key not in tried:
            errors.append(error)
        if key in tried:
            break
        tried.add(key)
        name = str(key[-1])
        if name in _STAND_INS and depth <= 1:
            holder[name] = _STAND_INS[name]
        elif name in holder:
            del holder[name]
        else:
            break
    return None, errors


def _copied(data: Any) -> Any:
    return {key: _copied(value) for key, value in data.items()} if isinstance(data, dict) else data


_AT = re.compile(r"(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?", re.S)
_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
def describe(exc: msgspec.ValidationError, data: Any) -> ErrorDict:
    """msgspec's one error as ``{"loc", "msg", "type", "input"}`` (see the module docstring)."""
    match = _AT.fullmatch(str(exc))
    text, path = (match["msg"], match["path"] or "") if match else (str(exc), "")
    loc: tuple[str | int, ...] = tuple(int(index) if index else name for name, index in _PART.findall(path))
    cause = exc.__cause__
    if isinstance(cause, FieldError):
        loc += cause.loc
    kind, text, more = friendly(text, loc, cause)
    loc += more
    return {"loc": loc, "msg": text, "type": kind, "input": _at(data, loc)}


def _at(data: Any, loc: tuple[str | int, ...]) -> Any:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list | tuple) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data
