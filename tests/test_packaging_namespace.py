"""The built wheel installs one ``quarterdeck`` package, usable beside a project's own ``core``.

A service that installs Quarterdeck for its integration API often has a package called ``core``
itself (a Django project's ``core`` app). Both must import side by side, from the project's own
folder, as the project would run them.
"""
from __future__ import annotations

import subprocess
import textwrap
import zipfile
from pathlib import Path

import pytest
from wheel_env import wheel_env  # noqa: F401 - the session fixture, used by name

ROOT = Path(__file__).resolve().parents[1]

APP = '''
import sys

import core  # the project's own package
from core.models import Order

import quarterdeck

assert "quarterdeck.core.integration" not in sys.modules, "import quarterdeck must stay cheap"
from quarterdeck import (CoordinationEventProcessor, CoordinationHealthChecker, CoordinationMetricsExporter,
                         CoordinationMiddleware, CoordinationServiceWrapper, coordinate_operation)

@coordinate_operation(operation_name="orders.place")
def place(order: Order) -> str:
    return f"placed {order.item}"

print(place(Order("tea")))
print("core is", core.__file__)
print("quarterdeck is", quarterdeck.__file__, quarterdeck.__version__)
print("health", sorted(CoordinationHealthChecker().check_health()))
'''


@pytest.mark.slow
def test_the_wheel_holds_one_top_level_package(wheel_env):
    wheel, _ = wheel_env
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist() if not name.split("/")[0].endswith(".dist-info")}
        names = archive.namelist()
    assert tops == {"quarterdeck"}
    assert "quarterdeck/core/_bundled/rules/security.yaml" in names
    assert "quarterdeck/py.typed" in names
    patterns = sorted(p.name for p in (ROOT / "core" / "activity" / "patterns").glob("*.yaml"))
    assert patterns and all(f"quarterdeck/core/activity/patterns/{name}" in names for name in patterns)


@pytest.mark.slow
def test_a_project_with_its_own_core_package_uses_the_integration_api(wheel_env, tmp_path):
    _, env_dir = wheel_env
    project = tmp_path / "shop"
    (project / "core").mkdir(parents=True)
    (project / "core" / "__init__.py").write_text("", encoding="utf-8")
    (project / "core" / "models.py").write_text(textwrap.dedent('''
        from dataclasses import dataclass

        @dataclass
        class Order:
            item: str
    '''), encoding="utf-8")
    (project / "app.py").write_text(APP, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "QUARTERDECK_DATA_DIR": str(tmp_path / "data"),
           "QUARTERDECK_CONFIG_DIR": str(tmp_path / "config")}
    out = subprocess.run([str(env_dir / "bin" / "python"), "app.py"], cwd=project, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "placed tea"
    assert lines[1] == f"core is {project / 'core' / '__init__.py'}"
    assert lines[2].startswith(f"quarterdeck is {env_dir}")
    assert "overall_status" in lines[3] and "components" in lines[3]


@pytest.mark.slow
def test_the_installed_command_and_python_m_give_the_one_version(wheel_env, tmp_path):
    _, env_dir = wheel_env
    show = "import quarterdeck; print(quarterdeck.__version__)"
    version = subprocess.run([str(env_dir / "bin" / "python"), "-c", show],
                             cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    for command in ([str(env_dir / "bin" / "quarterdeck"), "--version"],
                    [str(env_dir / "bin" / "python"), "-m", "quarterdeck", "--version"]):
        out = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == f"quarterdeck {version}"
