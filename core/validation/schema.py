"""The rule file format, checked with pydantic against the composed YAML.

A file holds ``rules:`` (and optionally ``version: 1``). Each rule::

    my-rule:
      description: What the rule is for.
      severity: warning        # error | warning | info | off (default warning)
      given: content           # content | sender | recipients | type | priority | tags
      when: {type: broadcast}  # optional; a value or a list of values per field
      then: {function: pattern, functionOptions: {match: '\\S'}}
      message: "{{description}}: {{error}}"   # optional
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError

from .diagnostics import ROOT_WHERE, Diagnostic, DiagnosticSeverity, at_node
from .functions import FUNCTIONS, FunctionDef, make_checker
from .messages import PLACEHOLDER, PLACEHOLDERS
from .model import FIELDS, KNOWN_VALUES, RULE_ID, FieldName, Rule, Severity
from .options import FunctionOptions, dump_options, option_keys
from .pydantic_errors import describe, one_of, suggest, to_diagnostics
from .yamlnodes import Document, Path, where_of


def _when_values(value: Any) -> frozenset[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) for item in items):
        raise ValueError(f"a 'when' condition needs a value or a non-empty list of values, not {describe(value)}")
    return frozenset(items)


WhenValues = Annotated[frozenset[str], PlainValidator(_when_values)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FileSpec(_Spec):
    """The top level of a rule file."""

    rules: dict[str, Any]
    version: Literal[1] = 1


class RuleSpec(_Spec):
    """One rule, before its function is looked at."""

    description: str = ""
    severity: Severity = "warning"
    given: FieldName
    then: dict[str, Any]
    message: str | None = None
    when: dict[FieldName, WhenValues] = Field(default_factory=dict)


class ThenSpec(_Spec):
    """The function a rule applies, and its options."""

    function: str
    function_options: dict[str, Any] | None = Field(default=None, alias="functionOptions")


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

    def validate(self, model: type[BaseModel], data: Any, path: Path, subject: str, context: Any = None) -> Any:
        try:
            return model.model_validate(data, context=context)
        except ValidationError as error:
            found = to_diagnostics(
                error, file=self.file, index=self.index, base=path, allowed=option_keys(model), subject=subject
            )
            self.diagnostics.extend(found)
            return None

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
            options=MappingProxyType(dump_options(options)),
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
