"""A non-editable install ships the rules and assets and finds them from any directory."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from wheel_env import wheel_env  # noqa: F401 - the session fixture, used by name

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(wheel_env) -> Path:
    """The venv holding the built wheel (tests/wheel_env.py)."""
    return wheel_env[1]


@pytest.mark.slow
def test_wheel_checks_its_bundled_rules_from_elsewhere(installed, tmp_path):
    out = subprocess.run([str(installed / "bin" / "quarterdeck"), "rules", "check"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert str(installed) in out.stdout, "rules must come from the installed wheel"
    assert "core/_bundled/rules/security.yaml" in out.stdout


@pytest.mark.slow
def test_wheel_ships_assets(installed):
    site = next(installed.glob("lib/python*/site-packages"))
    assert (site / "quarterdeck" / "core" / "_bundled" / "assets").is_dir()
    assert not (site / "core").exists(), "one top-level package: quarterdeck"
    assert not (site / "tests").exists(), "tests are not part of the wheel"
