"""Print Quarterdeck's dependencies without the desktop-only ones, one requirement per line.

The Docker image (packaging/Dockerfile) runs the command line, ``serve`` and the integration API:
never the panel, and never GUI delivery, since a container has no display to type into. Those
two are the only users of Qt, pyqtgraph, PyAutoGUI and pyperclip, which make up most of an
install's size, and the code imports them only when a panel opens or a GUI delivery starts.
So the image installs the wheel with ``--no-deps`` and this list instead; it is read from
pyproject.toml at build time, so it cannot drift from the real dependencies.

Usage: ``python packaging/headless_requirements.py [pyproject.toml]``.
"""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

# distribution names (normalised) only the panel and GUI delivery need
DESKTOP_ONLY = frozenset({"pyside6-essentials", "pyqtgraph", "pyautogui", "pyperclip", "jeepney"})
# the modules they provide: a headless install must work with none of them importable
DESKTOP_MODULES = ("PySide6", "shiboken6", "pyqtgraph", "pyautogui", "pyperclip", "jeepney")


def distribution_name(requirement: str) -> str:
    """The normalised project name a requirement string starts with (PEP 503 rules)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def headless_requirements(pyproject: Path) -> list[str]:
    """``[project] dependencies`` of ``pyproject`` minus the desktop-only distributions."""
    with pyproject.open("rb") as handle:
        dependencies = tomllib.load(handle)["project"]["dependencies"]
    return [req for req in dependencies if distribution_name(req) not in DESKTOP_ONLY]


def main(argv: list[str]) -> int:
    pyproject = Path(argv[0]) if argv else Path(__file__).resolve().parents[1] / "pyproject.toml"
    print("\n".join(headless_requirements(pyproject)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
