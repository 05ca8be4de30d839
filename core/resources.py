"""Locate data shipped with Quarterdeck: the default rule files and GUI assets.

Three layouts are supported, tried in this order:

* frozen by PyInstaller: ``sys._MEIPASS/<name>``;
* installed from a wheel: ``core/_bundled/<name>`` (hatchling force-include);
* a source checkout: ``<repo>/<name>``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _candidate_dirs(name: str) -> list[Path]:
    """Every place a bundled directory called ``name`` may live, best first."""
    candidates: list[Path] = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        candidates.append(Path(frozen_root) / name)
    candidates.append(_PACKAGE_DIR / "_bundled" / name)
    candidates.append(_PACKAGE_DIR.parent / name)
    return candidates


def _find_dir(name: str) -> Path:
    candidates = _candidate_dirs(name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"bundled directory {name!r} not found; tried: {tried}")


def bundled_rules_dir() -> Path:
    """The directory holding the default rule files (message, quality, security)."""
    return _find_dir("rules")


def bundled_assets_dir() -> Path:
    """The directory holding icons and other GUI assets."""
    return _find_dir("assets")
