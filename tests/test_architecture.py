"""House rules that keep the codebase honest: a Qt-free core, small modules, a safe Qt pin."""
from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CEILING = 300


def test_importing_all_of_core_loads_no_qt_or_gui():
    script = (
        "import importlib, pkgutil, sys, core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "{'PySide6', 'shiboken6', 'pyqtgraph', 'gui', 'cli'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"core pulled in: {out.stdout.strip()}"


@pytest.mark.parametrize("package", ["core", "gui", "cli"])
def test_modules_stay_under_the_line_ceiling(package):
    too_long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / package).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > CEILING
    }
    assert not too_long, f"modules over {CEILING} lines: {too_long}"


def _pyside_requirements() -> list[Requirement]:
    reqs = [Requirement(r) for r in metadata.requires("quarterdeck") or []]
    return [r for r in reqs if r.name.lower() == "pyside6-essentials"]


@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13"])
def test_dependency_pin_never_allows_the_aborting_pyside_pair(python):
    env = {"python_version": python, "extra": ""}
    active = [r for r in _pyside_requirements() if r.marker is None or r.marker.evaluate(env)]
    assert len(active) == 1, f"exactly one PySide6-Essentials requirement applies on {python}"
    allows_bad = Version("6.12.0") in active[0].specifier
    assert allows_bad is (python != "3.11")


def test_installed_pyside_is_not_the_aborting_pair():
    import PySide6

    if sys.version_info[:2] == (3, 11):
        assert Version(PySide6.__version__) < Version("6.12")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from 3.12 on")
def test_none_refcount_guard(qapp):
    from PySide6.QtCore import QObject

    before = sys.getrefcount(None)
    obj = QObject()
    for _ in range(100):
        obj.setObjectName("x")
    assert sys.getrefcount(None) >= before
