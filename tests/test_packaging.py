"""A non-editable install ships the rules and assets and finds them from any directory."""
from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """Build the wheel, install it (without re-downloading dependencies) into a fresh venv."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(work.glob("quarterdeck-*.whl"))
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=False)
    site = next(env_dir.glob("lib/python*/site-packages"))
    # dependencies come from the test environment; quarterdeck itself only from the wheel
    (site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(env_dir / "bin" / "python"), "install",
                    "--no-deps", "-q", str(wheel)], check=True, capture_output=True)
    return env_dir


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
