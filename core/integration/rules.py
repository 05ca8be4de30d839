"""Field rules for coordinated calls: what must be present in arguments or a JSON body, and how it looks.

A rule set is a plain mapping, written next to the code it guards::

    {"required_fields": ["user_id", "data"], "max_length": {"data.name": 100}}

Keys (a field may be a dotted path into mappings or attributes, e.g. ``data.email``):

- ``required_fields``: [field]. Missing, None, blank text and an empty collection all fail;
- ``field_types``: {field: type, tuple of types or JSON type name (string, integer, number,
  boolean, object, array)}. ``bool`` never passes as ``int``/``float`` unless ``bool`` is listed;
- ``max_length`` / ``min_length``: {field: n}, characters of text or items of a collection;
- ``patterns``: {field: RE2 pattern the text must contain (a search; anchor it for a full match)};
- ``allowed_values``: {field: [values]}, compared as text;
- ``no_secrets``: [field], the credential detectors of ``quarterdeck.core.validation.secrets``;
- ``message_rules``: {field: ``Validator`` or ``RuleStore``}; the captain's message rules, whose
  error-level violations fail the call.

Every check except ``required_fields`` skips a field that is absent. Presence, length, pattern,
allowed values and secrets are the rule engine's own functions (``quarterdeck.core.validation.functions``), so
"empty" and "too long" mean here what they mean in rule files. A bad rule set (unknown key, wrong
option) fails when it is compiled, not on the first call. Violation texts are passed through
secret redaction, so a 422 body or a log line never repeats a credential it found.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from quarterdeck.core.validation.engine import MessageValidator
from quarterdeck.core.validation.functions import FUNCTIONS, make_checker
from quarterdeck.core.validation.model import FieldValue, Violation
from quarterdeck.core.validation.secrets import redact

__all__ = ["JSON_TYPES", "RULE_KEYS", "FieldRules", "ValidationError", "as_field_value", "lookup"]

RULE_KEYS = ("required_fields", "field_types", "min_length", "max_length", "patterns",
             "allowed_values", "no_secrets", "message_rules")
JSON_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (Mapping,), "array": (list, tuple),
}
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


class ValidationError(ValueError):
    """The input broke the rules; the guarded function was not called. ``violations`` says how."""

    def __init__(self, violations: Iterable[Violation], operation: str | None = None) -> None:
        self.violations = tuple(violations)
        self.operation = operation
        prefix = f"{operation}: " if operation else ""
        super().__init__(prefix + "invalid input: " + "; ".join(v.message for v in self.violations))

    def to_dict(self) -> dict[str, Any]:
        return {"error": "validation failed", "violations": [v.to_dict() for v in self.violations]}


def lookup(values: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` through mappings and attributes; ``MISSING`` if absent."""
    head, *rest = path.split(".")
    current = values.get(head, MISSING)
    for part in rest:
        if current is None or current is MISSING:
            return MISSING
        current = (current.get(part, MISSING) if isinstance(current, Mapping)
                   else getattr(current, part, MISSING))
    return current


def as_field_value(value: Any) -> FieldValue | None:
    """What the rule functions see: text, a list of texts, or None for an absent value.

    A mapping counts as the list of its keys, so an empty dict is "empty" to ``required``.
    """
    if value is MISSING or value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return [item if isinstance(item, str) else str(item) for item in value]
    return str(value)


@dataclass(frozen=True)
class _Check:
    rule: str
    field: str
    run: Callable[[Any], list[str]]  # the raw value (or MISSING) -> problems found


def _fields(key: str, spec: Any) -> list[str]:
    if not isinstance(spec, str | Iterable):
        raise ValueError(f"{key} takes a field name or a list of them, not {type(spec).__name__}")
    names = [spec] if isinstance(spec, str) else list(spec)
    bad = [name for name in names if not isinstance(name, str) or not name]
    if bad:
        raise ValueError(f"{key}: field names must be non-empty strings, not {bad!r}")
    return names


def _per_field(key: str, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, Mapping):
        raise ValueError(f"{key} takes a mapping of field name to setting, not {type(spec).__name__}")
    _fields(key, list(spec))
    return dict(spec)


def _engine(function: str, options: dict[str, Any], key: str, field: str) -> Callable[[Any], list[str]]:
    definition = FUNCTIONS[function]
    checked, errors = definition.options.check(options, {"given": field})
    if checked is None:
        problems = "; ".join(error["msg"] for error in errors)
        raise ValueError(f"{key} for {field!r}: {problems}")
    checker = make_checker(definition, checked, field)
    return lambda raw: [finding.error for finding in checker(as_field_value(raw))]


def _type_names(types: tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in types)


def _types_of(field: str, spec: Any) -> tuple[type, ...]:
    items = spec if isinstance(spec, tuple) else (spec,)
    types: list[type] = []
    for item in items:
        if isinstance(item, str) and item in JSON_TYPES:
            types.extend(JSON_TYPES[item])
        elif isinstance(item, type):
            types.append(item)
        else:
            raise ValueError(f"field_types for {field!r}: {item!r} is neither a type nor one of "
                             f"{', '.join(JSON_TYPES)}")
    if not types:
        raise ValueError(f"field_types for {field!r}: name at least one type")
    return tuple(types)


def _type_check(field: str, spec: Any) -> Callable[[Any], list[str]]:
    types = _types_of(field, spec)
    strict_bool = bool not in types

    def run(raw: Any) -> list[str]:
        if raw is MISSING or raw is None:
            return []
        if isinstance(raw, types) and not (strict_bool and isinstance(raw, bool)):
            return []
        return [f"{field} must be {_type_names(types)}, not {type(raw).__name__}"]

    return run


def _message_check(field: str, validator: MessageValidator) -> Callable[[Any], list[str]]:
    if not callable(getattr(validator, "validate", None)):
        raise ValueError(f"message_rules for {field!r}: expected a Validator or RuleStore")

    def run(raw: Any) -> list[str]:
        if raw is MISSING or raw is None:
            return []
        try:
            report = validator.validate(raw)
        except TypeError:
            return [f"{field} is not a message (a mapping of message fields)"]
        return [f"{field}.{v.field}: {v.message} [{v.rule_id}]"
                for v in report.violations if v.severity == "error"]

    return run


def _values(key: str, field: str, values: Any) -> list[str]:
    """A field's allowed values as text; a single value (text is not a list of its characters) is refused."""
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise ValueError(f"{key} for {field!r} takes a list of values, not {type(values).__name__}")
    return [str(value) for value in values]


def _compile(key: str, spec: Any) -> list[_Check]:
    if key in ("required_fields", "no_secrets"):
        function = "required" if key == "required_fields" else "secrets"
        return [_Check(key, f, _engine(function, {}, key, f)) for f in _fields(key, spec)]
    fields = _per_field(key, spec)
    if key == "field_types":
        return [_Check(key, f, _type_check(f, t)) for f, t in fields.items()]
    if key == "message_rules":
        return [_Check(key, f, _message_check(f, v)) for f, v in fields.items()]
    if key == "allowed_values":
        return [_Check(key, f, _engine("enumeration", {"values": _values(key, f, values)}, key, f))
                for f, values in fields.items()]
    if key == "patterns":
        return [_Check(key, f, _engine("pattern", {"match": p}, key, f)) for f, p in fields.items()]
    bound = "max" if key == "max_length" else "min"
    return [_Check(key, f, _engine("length", {bound: n}, key, f)) for f, n in fields.items()]


class FieldRules:
    """A compiled rule set (see the module docstring); ``check`` lists violations, ``validate`` raises."""

    def __init__(self, rules: Mapping[str, Any] | None = None) -> None:
        rules = dict(rules or {})
        unknown = sorted(set(rules) - set(RULE_KEYS))
        if unknown:
            raise ValueError(f"unknown rule key(s) {', '.join(map(repr, unknown))}; "
                             f"known keys: {', '.join(RULE_KEYS)}")
        self.spec = rules
        self._checks = [check for key in RULE_KEYS if key in rules for check in _compile(key, rules[key])]

    @classmethod
    def of(cls, rules: FieldRules | Mapping[str, Any] | None) -> FieldRules:
        return rules if isinstance(rules, FieldRules) else cls(rules)

    def __bool__(self) -> bool:
        return bool(self._checks)

    @property
    def roots(self) -> set[str]:
        """The top-level names the rules look at (the part of each field before the first dot)."""
        return {check.field.split(".", 1)[0] for check in self._checks}

    def check(self, values: Mapping[str, Any]) -> list[Violation]:
        violations = []
        for check in self._checks:
            for problem in check.run(lookup(values, check.field)):
                violations.append(Violation(check.rule, "error", redact(problem), check.field))
        return violations

    def validate(self, values: Mapping[str, Any], operation: str | None = None) -> None:
        violations = self.check(values)
        if violations:
            raise ValidationError(violations, operation)
