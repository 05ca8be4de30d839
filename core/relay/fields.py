"""Reading the fields of one stream entry of the relay wire protocol (``protocol``): text, the
protocol version, whole numbers and times, each refused as a ``MalformedEntry`` naming what is wrong."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

VERSION = "2"  # 2: deliveries and receipts name their captain

Fields = Mapping[Any, Any]  # bytes or str keys and values, as Redis hands them back


class MalformedEntry(ValueError):
    """A stream entry that is not a valid entry of this protocol version."""


def _text(value: bytes | str, name: str) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedEntry(f"field {name!r} is not UTF-8 ({exc.reason})") from None
    return str(value)


def decode(fields: Fields) -> dict[str, str]:
    """Redis's field dict (bytes or str keys and values) as str -> str."""
    if not isinstance(fields, Mapping):
        raise MalformedEntry(f"an entry is a field map, not {type(fields).__name__}")
    decoded: dict[str, str] = {}
    for key, value in fields.items():
        name = _text(key, "(a field name)")
        decoded[name] = _text(value, name)
    return decoded


def check_version(fields: Mapping[str, str], what: str) -> None:
    """Refuse an entry of another protocol version (or none)."""
    version = fields.get("v")
    if version is None:
        raise MalformedEntry(f"{what} has no protocol version field 'v'")
    if version != VERSION:
        raise MalformedEntry(f"{what} is protocol version {version!r}; this Quarterdeck speaks version "
                             f"{VERSION!r}: run the same Quarterdeck version on every machine")


def field_of(fields: Mapping[str, str], name: str, what: str) -> str:
    try:
        return fields[name]
    except KeyError:
        raise MalformedEntry(f"{what} lacks the field {name!r}") from None


def number_of(fields: Mapping[str, str], name: str, what: str) -> int:
    """A count or an id: a whole number from 0 to 2**63 - 1 (what SQLite stores as an integer)."""
    text = field_of(fields, name, what)
    try:
        value = int(text)
    except ValueError:
        raise MalformedEntry(f"{what}: field {name!r} is not a whole number: {text[:40]!r}") from None
    if not 0 <= value < 2**63:
        raise MalformedEntry(f"{what}: field {name!r} is out of range (0 to 2**63 - 1): {text[:40]!r}")
    return value


def time_of(fields: Mapping[str, str], name: str, what: str) -> float:
    text = field_of(fields, name, what)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise MalformedEntry(f"{what}: field {name!r} is not epoch seconds: {text[:40]!r}")
    return value


def stamp(at: float) -> str:
    return repr(float(at))
