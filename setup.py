"""The wheel's layout: one ``quarterdeck`` package, built from the repository's top-level folders.

The repository keeps ``core/``, ``gui/`` and ``cli/`` at the top, where they are read; installed,
they are ``quarterdeck.core``, ``quarterdeck.gui`` and ``quarterdeck.cli`` (a project with its own
``core`` package, a Django app say, can use Quarterdeck's integration API next to it). The
bundled rule files and assets go to ``quarterdeck/core/_bundled`` (``core/resources.py``). An
editable install (``make bootstrap``) maps the same names onto the folders, so new modules need no
reinstall. Everything else is in ``pyproject.toml``.
"""
from pathlib import Path

from setuptools import find_packages, setup

TOP = ("core", "gui", "cli")
BUNDLED = ("rules", "assets")  # data folders, every file in them and in their subfolders

packages = ["quarterdeck", *(f"quarterdeck.{name}" for name in find_packages(include=[f"{t}*" for t in TOP]))]
package_dir = {"quarterdeck": "quarterdeck", **{f"quarterdeck.{t}": t for t in TOP}}
package_data = {"quarterdeck": ["py.typed"], "quarterdeck.core.activity": ["patterns/*.yaml"]}  # the pane patterns
for folder in BUNDLED:
    for sub in (Path(folder), *sorted(d for d in Path(folder).rglob("*") if d.is_dir())):
        name = "quarterdeck.core._bundled." + ".".join(sub.parts)
        packages.append(name)
        package_dir[name] = sub.as_posix()
        package_data[name] = ["*"]

setup(packages=packages, package_dir=package_dir, package_data=package_data)
