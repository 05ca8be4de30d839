"""Render a violation's message from its rule's template.

Placeholders: ``{{description}}``, ``{{field}}``, ``{{value}}``, ``{{error}}``
and ``{{rule}}``. ``{{value}}`` is passed through secret redaction and cut to
``VALUE_LIMIT`` characters, so a message never repeats a secret it found.
"""

from __future__ import annotations

import re

from .model import FieldValue, Finding, Rule
from .secrets import redact

PLACEHOLDERS: tuple[str, ...] = ("description", "field", "value", "error", "rule")
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
VALUE_LIMIT = 80


def shorten(text: str, limit: int = VALUE_LIMIT) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def display_value(finding: Finding, value: FieldValue | None) -> str:
    """The offending value as shown to the user: redacted and shortened."""
    if finding.value is not None:
        raw = finding.value
    elif value is None:
        raw = ""
    else:
        raw = value if isinstance(value, str) else ", ".join(value)
    return shorten(redact(raw))


def render(rule: Rule, finding: Finding, value: FieldValue | None) -> str:
    """The message for one finding of ``rule``."""
    if rule.message is not None:
        template = rule.message
    else:
        template = "{{description}} ({{error}})" if rule.description else "{{error}}"
    known = {"description": rule.description, "field": rule.given, "error": finding.error, "rule": rule.id}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "value":
            return display_value(finding, value)
        return known.get(name, match.group(0))

    return PLACEHOLDER.sub(fill, template)
