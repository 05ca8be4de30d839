"""The wording of model errors, in one place: what a person reads when input is not a valid model.

Two readers share it. :mod:`quarterdeck.core.model_check` turns msgspec's one error into the short
sentences and kinds the roster, the agent form and the command line report (``Field required``,
``Input should be greater than 0``: :func:`friendly`). The rule-file checks
(:mod:`quarterdeck.core.validation.spec`) give their errors the same shape (``type``, ``loc``,
``msg``, ``input``, ``ctx``), and :func:`rule_message` words one for a rule file, with the value as
written, the allowed values and a "did you mean" for a near miss.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from typing import Any, get_args

ErrorDict = dict[str, Any]

# -- msgspec's errors as short sentences ------------------------------------------------------------

TYPE_NAMES = {"str": ("string", "a valid string"), "int": ("int", "a valid integer"),  # msgspec's -> (kind, words)
              "float": ("float", "a valid number"), "bool": ("bool", "a valid boolean"),
              "array": ("list", "a valid list"), "object": ("dict", "a valid dictionary"),
              "null": ("none_required", "None"), "datetime": ("datetime", "a valid datetime")}
BOUND_WORDS = {">=": "greater than or equal to", ">": "greater than", "<=": "less than or equal to", "<": "less than"}

# filled in by quarterdeck.core.models: the fields whose values are a fixed set (for the errors that
# list the set), and the transport kinds
LITERAL_FIELDS: dict[str, Any] = {}
TAGS: list[str] = []

Rule = tuple[str, Callable[[re.Match[str], tuple[str | int, ...]], tuple[str, str, tuple[str, ...]]]]
_RULES: list[Rule] = [
    (r"Object missing required field `(.+)`", lambda m, loc: ("missing", "Field required", (m[1],))),
    (r"Object contains unknown field `(.+)`",
     lambda m, loc: ("extra_forbidden", "Extra inputs are not permitted", (m[1],))),
    (r"Expected `(\w+)[^`]*`, got `\w+`",
     lambda m, loc: (f"{TYPE_NAMES.get(m[1], (m[1],))[0]}_type",
                     f"Input should be {TYPE_NAMES.get(m[1], ('', m[1]))[1]}", ())),
    (r"Expected `int` >= 1", lambda m, loc: ("greater_than", "Input should be greater than 0", ()) if loc[-1:] in (
        ("pid",), ("id",)) else ("bound", "Input should be greater than or equal to 1", ())),  # gt=0 ids
    (r"Expected `\w+` (>=|>|<=|<) (\S+)",
     lambda m, loc: ("bound", f"Input should be {BOUND_WORDS[m[1]]} {m[2].removesuffix('.0')}", ())),
    (r"Expected `str` matching regex (.*)",
     lambda m, loc: ("string_pattern_mismatch", f"String should match pattern '{_pattern(m[1])}'", ())),
    (r"Expected `str` of length >= (\d+)",
     lambda m, loc: ("string_too_short", f"String should have at least {m[1]} character{'s' * (m[1] != '1')}", ())),
    (r"Expected `array` of length (\d+)(?:, got (\d+))?",
     lambda m, loc: ("length", f"Input should have {m[1]} items", ())),
    (r"Invalid (?:enum )?value (.*)", lambda m, loc: _literal(m[1], loc)),
]


def friendly(text: str, loc: tuple[str | int, ...], cause: BaseException | None) -> tuple[str, str, tuple[str, ...]]:
    """For msgspec's message ``text`` about ``loc``: the error's kind, the sentence a person reads, and
    the key an error about a whole object is about (a missing or unknown key)."""
    if isinstance(cause, ValueError):  # a check of the model's own (__post_init__, the path's dec_hook)
        return "value_error", text, ()
    for pattern, build in _RULES:
        if found := re.fullmatch(pattern, text):
            return build(found, loc)
    return "value_error", text, ()


def _pattern(quoted: str) -> str:
    """The pattern as written in the model, from msgspec's quoted (escaped) form; ``\\Z`` read as ``$``."""
    try:
        pattern = str(ast.literal_eval(quoted))
    except (ValueError, SyntaxError):
        return quoted.strip("'")
    return pattern.removesuffix("\\Z") + "$" if pattern.endswith("\\Z") else pattern


def _literal(given: str, loc: tuple[str | int, ...]) -> tuple[str, str, tuple[str, ...]]:
    name = str(loc[-1]) if loc else ""
    if name == "kind" and TAGS:
        tags = ", ".join(repr(tag) for tag in TAGS)
        return "union_tag_invalid", f"Input tag {given} found using 'kind' does not match any of the " \
                                    f"expected tags: {tags}", ()
    options = [repr(option) for option in get_args(LITERAL_FIELDS.get(name, ()))]
    if not options:
        return "literal_error", f"Input {given} is not allowed", ()
    return "literal_error", f"Input should be {either(options)}", ()


def either(options: Sequence[str]) -> str:
    """``'a', 'b' or 'c'``: the options as one phrase."""
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"


# -- an error in a rule file, worded for its author -------------------------------------------------

_KINDS = {"string_type": "a string", "int_type": "a whole number", "float_type": "a number",
          "bool_type": "true or false", "list_type": "a list", "dict_type": "a mapping"}
_BOUNDS = {"greater_than": "greater than", "greater_than_equal": "at least", "less_than": "less than",
           "less_than_equal": "at most"}


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
    import difflib  # for mistakes only: reading a good roster or rule file loads none

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def one_of(choices: Sequence[str]) -> str:
    """'expected one of: a, b, c'."""
    return "expected one of: " + ", ".join(choices)


def rule_message(error: ErrorDict, name: str, allowed: Sequence[str], subject: str) -> str:
    """One error about the mapping ``subject`` (whose keys are ``allowed``) worded for a rule file;
    ``name`` is where in the mapping (``'min'``, ``'forbid[1]'``)."""
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"missing required key '{name.rsplit('.', 1)[-1]}' in {subject}; add it"
    if kind == "extra_forbidden":
        key = name.rsplit(".", 1)[-1]
        return f"unknown key '{key}' in {subject}; {one_of(allowed)}{suggest(key, allowed)}"
    if kind == "literal_error":
        choices = ctx.get("choices", [])
        return f"invalid value {value!r} for '{name}'; {one_of(choices)}{suggest(str(value), choices)}"
    if kind in _KINDS:
        return f"'{name}' must be {_KINDS[kind]}, not {describe(value)}"
    if kind == "too_short" and isinstance(value, list):
        limit = ctx["min_length"]
        return f"'{name}' needs at least {limit} entr{'y' if limit == 1 else 'ies'}"
    if kind in _BOUNDS:
        limit = next(iter(ctx.values()), "?")
        return f"'{name}' must be {_BOUNDS[kind]} {limit}, not {value!r}"
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    return f"'{name}': {error.get('msg', 'invalid value')}"
