"""Keep the active rule set and reload it from disk without ever breaking it.

A reload that finds any error diagnostic leaves the previous good rule set
active. Until the first good load, ``active`` is the ``fallback`` rule set
(empty unless one is given, so every message passes) and ``loaded`` is
False; callers that must not run without rules should check ``loaded``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic
from .engine import Validator
from .loader import expand_rule_paths, load_rule_files
from .model import RuleSet
from .report import Report

Signature = tuple[tuple[str, int, int] | tuple[str], ...]


def _signature(paths: Iterable[Path]) -> Signature:
    """What identifies the current state of the files: mtime and size."""
    parts: list[tuple[str, int, int] | tuple[str]] = []
    for path in expand_rule_paths(paths):
        try:
            stat = path.stat()
        except OSError:
            parts.append((str(path),))
        else:
            parts.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(parts)


class RuleStore:
    """The rule set loaded from ``paths`` (files or directories of YAML files)."""

    def __init__(self, paths: Iterable[Path | str], fallback: RuleSet | None = None) -> None:
        self._paths = tuple(Path(p) for p in paths)
        self._lock = threading.Lock()
        self._validator = Validator(fallback or RuleSet.empty())
        self._diagnostics: list[Diagnostic] = []
        self._loaded = False
        self._generation = 0
        self._signature: Signature | None = None

    @property
    def paths(self) -> tuple[Path, ...]:
        """The configured files and directories."""
        return self._paths

    @property
    def active(self) -> RuleSet:
        """The last rule set that loaded without errors (or the fallback)."""
        return self._validator.ruleset

    @property
    def validator(self) -> Validator:
        """A validator for the active rule set."""
        return self._validator

    @property
    def loaded(self) -> bool:
        """True once a load has succeeded."""
        return self._loaded

    @property
    def generation(self) -> int:
        """Increases by one every time a new rule set becomes active."""
        return self._generation

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """The diagnostics of the latest reload."""
        return list(self._diagnostics)

    def reload(self) -> list[Diagnostic]:
        """Load the files again; activate the result only if it has no errors."""
        with self._lock:
            self._signature = _signature(self._paths)
            ruleset, diagnostics = load_rule_files(self._paths)
            self._diagnostics = diagnostics
            if ruleset is not None:
                self._validator = Validator(ruleset)
                self._loaded = True
                self._generation += 1
            return list(diagnostics)

    def reload_if_changed(self) -> list[Diagnostic] | None:
        """Reload when a file's mtime or size changed since the last reload; else None."""
        if self._signature is not None and _signature(self._paths) == self._signature:
            return None
        return self.reload()

    def validate(self, message: Any) -> Report:
        """Validate ``message`` against the active rule set."""
        return self._validator.validate(message)
