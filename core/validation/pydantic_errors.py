"""Turn pydantic validation errors into positioned, actionable diagnostics.

Each error's ``loc`` is appended to the path of the validated mapping and
looked up in the ``NodeIndex``: unknown keys point at the key, missing keys
at the mapping that lacks them, everything else at the offending value.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .diagnostics import Diagnostic, at_node
from .yamlnodes import NodeIndex, Path, where_of

_KINDS = {
    "string_type": "a string",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
}
_BOUNDS = {
    "greater_than": "greater than",
    "greater_than_equal": "at least",
    "less_than": "less than",
    "less_than_equal": "at most",
}
_QUOTED = re.compile(r"'([^']*)'")


def describe(value: Any) -> str:
    """How a YAML value reads in a message: 'null', 'a list', 'the number 3'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def suggest(word: str, choices: Sequence[str]) -> str:
    """' (did you mean 'x'?)' when a choice is close to ``word``, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def one_of(choices: Sequence[str]) -> str:
    """'expected one of: a, b, c'."""
    return "expected one of: " + ", ".join(choices)


def _choices(ctx: dict[str, Any]) -> list[str]:
    """The allowed values named in a literal error's context."""
    expected = str(ctx.get("expected", ""))
    return _QUOTED.findall(expected) or [part for part in re.split(r", | or ", expected) if part]


def _message(error: ErrorDetails, name: str, allowed: Sequence[str], subject: str) -> str:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"missing required key '{name.rsplit('.', 1)[-1]}' in {subject}; add it"
    if kind == "extra_forbidden":
        key = name.rsplit(".", 1)[-1]
        return f"unknown key '{key}' in {subject}; {one_of(allowed)}{suggest(key, allowed)}"
    if kind == "literal_error":
        choices = _choices(ctx)
        return f"invalid value {value!r} for '{name}'; {one_of(choices)}{suggest(str(value), choices)}"
    if kind in _KINDS:
        return f"'{name}' must be {_KINDS[kind]}, not {describe(value)}"
    if kind in ("too_short", "too_long") and isinstance(value, list):
        limit = ctx.get("min_length", ctx.get("max_length"))
        least = "at least" if kind == "too_short" else "at most"
        return f"'{name}' needs {least} {limit} entr{'y' if limit == 1 else 'ies'}"
    if kind in _BOUNDS:
        limit = next(iter(ctx.values()), "?")
        return f"'{name}' must be {_BOUNDS[kind]} {limit}, not {value!r}"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    return f"'{name}': {error.get('msg', 'invalid value')}"


def _node_for(index: NodeIndex, kind: str, path: Path, on_key: bool) -> Any:
    if kind == "missing":
        parent = path[:-1]
        return index.key_node(parent) or index.value_node(index.nearest(parent))
    if on_key:
        node = index.key_node(path)
        if node is not None:
            return node
    return index.value_node(path) or index.value_node(index.nearest(path))


def to_diagnostics(
    error: ValidationError,
    *,
    file: str,
    index: NodeIndex,
    base: Path,
    allowed: Sequence[str],
    subject: str,
) -> list[Diagnostic]:
    """Diagnostics for every error pydantic collected about the mapping at ``base``."""
    diagnostics: list[Diagnostic] = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if isinstance(part, int | str))
        on_key = loc[-1:] == ("[key]",) or item["type"] == "extra_forbidden"
        loc = tuple(part for part in loc if part != "[key]")
        path = (*base, *loc)
        node = _node_for(index, item["type"], path, on_key)
        if on_key and item["type"] == "literal_error":
            choices = _choices(item.get("ctx") or {})
            key = str(item.get("input"))
            container = f"'{where_of(loc[:-1])}'" if loc[:-1] else subject
            message = f"unknown key '{key}' in {container}; {one_of(choices)}{suggest(key, choices)}"
        else:
            message = _message(item, where_of(loc) or subject, allowed, subject)
        diagnostics.append(at_node(file, node, message, where_of(path)))
    return diagnostics
