"""The rule file format, checked (:mod:`.spec`) against the composed YAML.

A file holds ``rules:`` (and optionally ``version: 1``). Each rule::

    my-rule:
      description: What the rule is for.
      severity: warning        # error | warning | info | off (default warning)
      given: content           # content | sender | recipients | type | priority | tags
      when: {type: broadcast}  # optional; a value or a list of values per field
      then: {function: pattern, functionOptions: {match: '\\S'}}
      message: "{{description}}: {{error}}"   # optional

Each problem is reported at its place in the file: an unknown key at the key, a missing key at the
mapping that lacks it, anything else at the value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from quarterdeck.core.model_errors import ErrorDict, describe, one_of, rule_message, suggest

from .diagnostics import ROOT_WHERE, Diagnostic, DiagnosticSeverity, at_node
from .functions import FUNCTIONS, FunctionDef, make_checker
from .messages import PLACEHOLDER, PLACEHOLDERS
from .model import FIELDS, KNOWN_VALUES, RULE_ID, SEVERITIES, FieldName, Rule, Severity
from .options import FunctionOptions
from .spec import Context, Key, Spec
from .yamlnodes import Document, NodeIndex, Path, where_of


def _when_values(value: Any, context: Context) -> frozenset[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) for item in items):
        raise ValueError(f"a 'when' condition needs a value or a non-empty list of values, not {describe(value)}")
    return frozenset(items)


class FileSpec(Spec):
    """The top level of a rule file."""

    rules: dict[str, Any]
    version: int
    KEYS = {"rules": Key("dict", keys=Key("str")), "version": Key((1,), 1)}


class RuleSpec(Spec):
    """One rule, before its function is looked at."""

    description: str
    severity: Severity
    given: FieldName
    then: dict[str, Any]
    message: str | None
    when: dict[FieldName, frozenset[str]]
    KEYS = {"description": Key("str", ""), "severity": Key(SEVERITIES, "warning"), "given": Key(FIELDS),
            "then": Key("dict", keys=Key("str")), "message": Key("str", None, nullable=True),
            "when": Key("dict", dict, keys=Key(FIELDS), items=Key("any", check=_when_values))}


class ThenSpec(Spec):
    """The function a rule applies, and its options."""

    function: str
    function_options: dict[str, Any] | None
    KEYS = {"function": Key("str"),
            "function_options": Key("dict", None, alias="functionOptions", nullable=True, keys=Key("str"))}


def _node_for(index: NodeIndex, kind: str, path: Path, on_key: bool) -> Any:
    if kind == "missing":
        parent = path[:-1]
        return index.key_node(parent) or index.value_node(index.nearest(parent))
    if on_key:
        node = index.key_node(path)
        if node is not None:
            return node
    return index.value_node(path) or index.value_node(index.nearest(path))


def to_diagnostics(errors: list[ErrorDict], *, file: str, index: NodeIndex, base: Path, allowed: Sequence[str],
                   subject: str) -> list[Diagnostic]:
    """A diagnostic for each error found in the mapping at ``base`` (whose keys are ``allowed``)."""
    diagnostics: list[Diagnostic] = []
    for item in errors:
        loc = tuple(item["loc"])
        on_key = loc[-1:] == ("[key]",) or item["type"] == "extra_forbidden"
        loc = tuple(part for part in loc if part != "[key]")
        path = (*base, *loc)
        node = _node_for(index, item["type"], path, on_key)
        if on_key and item["type"] == "literal_error":
            choices = item["ctx"]["choices"]
            key = str(item.get("input"))
            container = f"'{where_of(loc[:-1])}'" if loc[:-1] else subject
            message = f"unknown key '{key}' in {container}; {one_of(choices)}{suggest(key, choices)}"
        else:
            message = rule_message(item, where_of(loc) or subject, allowed, subject)
        diagnostics.append(at_node(file, node, message, where_of(path)))
    return diagnostics


class _FileChecker:
    """Walks one parsed rule file, collecting rules and diagnostics."""

    def __init__(self, file: str, document: Document, diagnostics: list[Diagnostic]) -> None:
        self.file = file
        self.index = document.index
        self.data = document.data
        self.diagnostics = diagnostics

    def report(
        self, path: Path, message: str, *, on_key: bool = False, severity: DiagnosticSeverity = "error"
    ) -> None:
        node = (self.index.key_node(path) if on_key else None) or self.index.value_node(path)
        node = node or self.index.value_node(self.index.nearest(path))
        assert node is not None  # the root always exists
        self.diagnostics.append(at_node(self.file, node, message, where_of(path) or ROOT_WHERE, severity))

    def validate(self, spec: type[Spec], data: Any, path: Path, subject: str, context: Context | None = None) -> Any:
        checked, errors = spec.check(data, context)
        self.diagnostics.extend(to_diagnostics(
            errors, file=self.file, index=self.index, base=path, allowed=spec.keys_as_written(), subject=subject))
        return checked

    def run(self) -> list[Rule]:
        if not isinstance(self.data, dict):
            self.report((), f"a rule file must be a mapping with a 'rules' key, not {describe(self.data)}")
            return []
        self.validate(FileSpec, self.data, (), "the rule file")
        rules_data = self.data.get("rules")
        if not isinstance(rules_data, dict):
            return []
        if not rules_data:
            self.report(("rules",), "'rules' is empty; add at least one rule", severity="warning")
        rules = [self.rule(rule_id, body) for rule_id, body in rules_data.items()]
        return [rule for rule in rules if rule is not None]

    def rule(self, rule_id: str, body: Any) -> Rule | None:
        path: Path = ("rules", rule_id)
        subject = f"rule '{rule_id}'"
        id_ok = RULE_ID.fullmatch(rule_id) is not None
        if not id_ok:
            fixed = re.sub(r"[^a-z0-9]+", "-", rule_id.lower()).strip("-") or "my-rule"
            message = f"invalid rule id '{rule_id}'; use lowercase letters, digits and '-' (e.g. '{fixed}')"
            self.report(path, message, on_key=True)
        if not isinstance(body, dict):
            self.report(path, f"{subject} must be a mapping with 'given' and 'then', not {describe(body)}")
            return None
        spec = self.validate(RuleSpec, body, path, subject)
        raw_given = body.get("given")
        given = raw_given if isinstance(raw_given, str) and raw_given in FIELDS else ""
        then_data = body.get("then")
        built = self.function(path, then_data, given) if isinstance(then_data, dict) else None
        if spec is not None:
            self.check_message(path, spec.message)
            self.check_when(path, spec.when)
        if spec is None or built is None or not id_ok:
            return None
        definition, options = built
        key_node = self.index.key_node(path)
        assert key_node is not None  # every rule id is a mapping key
        key_mark = key_node.start_mark
        return Rule(
            id=rule_id,
            severity=spec.severity,
            given=spec.given,
            function=definition.name,
            check=make_checker(definition, options, spec.given),
            options=MappingProxyType(options.as_written()),
            description=spec.description,
            message=spec.message,
            when=MappingProxyType(dict(spec.when)),
            file=self.file,
            line=key_mark.line + 1,
            col=key_mark.column + 1,
        )

    def function(self, path: Path, data: dict[str, Any], given: str) -> tuple[FunctionDef, FunctionOptions] | None:
        then_path = (*path, "then")
        then = self.validate(ThenSpec, data, then_path, "'then'")
        if then is None:
            return None
        definition = FUNCTIONS.get(then.function)
        if definition is None:
            names = list(FUNCTIONS)
            message = f"unknown function '{then.function}'; {one_of(names)}{suggest(then.function, names)}"
            self.report((*then_path, "function"), message)
            return None
        fits = not given or given in definition.fields
        if not fits:
            fields = ", ".join(definition.fields)
            self.report((*path, "given"), f"function '{definition.name}' only works on: {fields}; change 'given'")
        options = self.validate(
            definition.options,
            then.function_options or {},
            (*then_path, "functionOptions"),
            f"the options of '{definition.name}'",
            context={"given": given},
        )
        return (definition, options) if options is not None and fits else None

    def check_message(self, path: Path, message: str | None) -> None:
        for name in PLACEHOLDER.findall(message or ""):
            if name not in PLACEHOLDERS:
                known = ", ".join("{{" + p + "}}" for p in PLACEHOLDERS)
                text = f"unknown placeholder '{{{{{name}}}}}'; use {known}"
                self.report((*path, "message"), text, severity="warning")

    def check_when(self, path: Path, when: dict[str, frozenset[str]]) -> None:
        for name, values in when.items():
            known = KNOWN_VALUES.get(name)
            for value in sorted(values - set(known or values)):
                message = f"no message has {name} '{value}' ({one_of(known or ())}); this condition never holds"
                self.report((*path, "when", name), message, severity="warning")


def check_document(file: str, document: Document, diagnostics: list[Diagnostic]) -> list[Rule]:
    """The valid rules in a parsed document; problems are appended to ``diagnostics``."""
    return _FileChecker(file, document, diagnostics).run()
