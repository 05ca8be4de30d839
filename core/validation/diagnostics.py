"""Diagnostics: problems found in a rule file, positioned for an editor.

Positions are 1-based in ``line``/``col`` (what ``str()`` prints) and columns
count Unicode code points. ``line0``/``col0`` give the 0-based form, and the
optional end position marks the extent of the offending YAML node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

import yaml

DiagnosticSeverity = Literal["error", "warning"]

#: ``where`` used for problems that belong to the whole document.
ROOT_WHERE = "<document>"
#: ``where`` used for YAML syntax errors.
SYNTAX_WHERE = "<yaml>"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a rule file."""

    file: str
    line: int
    col: int
    severity: DiagnosticSeverity
    message: str
    where: str
    end_line: int | None = None
    end_col: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.message} [{self.where}]"

    @property
    def line0(self) -> int:
        """0-based line."""
        return self.line - 1

    @property
    def col0(self) -> int:
        """0-based column."""
        return self.col - 1

    @property
    def is_error(self) -> bool:
        """True for error diagnostics (they block loading)."""
        return self.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form with a fixed key order."""
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
            "severity": self.severity,
            "message": self.message,
            "where": self.where,
        }


class Mark(Protocol):
    """A place in a text, 0-based: a PyYAML mark, or anything with the same two attributes."""

    line: int
    column: int


def at_mark(
    file: str,
    mark: Mark,
    message: str,
    where: str,
    severity: DiagnosticSeverity = "error",
    end_mark: Mark | None = None,
) -> Diagnostic:
    """A diagnostic at a PyYAML mark (0-based ``line``/``column`` attributes)."""
    end_line = end_col = None
    if end_mark is not None:
        end_line, end_col = end_mark.line + 1, end_mark.column + 1
    return Diagnostic(file, mark.line + 1, mark.column + 1, severity, message, where, end_line, end_col)


def at_node(
    file: str,
    node: yaml.Node,
    message: str,
    where: str,
    severity: DiagnosticSeverity = "error",
) -> Diagnostic:
    """A diagnostic spanning a composed YAML node."""
    return at_mark(file, node.start_mark, message, where, severity, node.end_mark)


def at_start(file: str, message: str, where: str = ROOT_WHERE) -> Diagnostic:
    """An error at 1:1, for problems with no better position."""
    return Diagnostic(file, 1, 1, "error", message, where)


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    """True if any diagnostic is an error."""
    return any(d.is_error for d in diagnostics)


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int, str]:
    """Order diagnostics by file, then position, then message."""
    return (diagnostic.file, diagnostic.line, diagnostic.col, diagnostic.message)
