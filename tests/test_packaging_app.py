"""The packaging around the wheel: the PyInstaller app, the launcher entry, the Docker image, pipx.

Building the frozen app takes a minute, so it is `make app`'s job (it smoke-runs the result).
These tests check what can be checked without it: that the spec puts the rules and assets where
core/resources.py looks, that its exclusions leave every panel importable, the frozen entry
point's ``-m`` dispatch, the .desktop file, and that the command line, ``serve`` and inbox
delivery work with none of the desktop-only modules, which is what the Docker image relies on.
"""
from __future__ import annotations

import ast
import configparser
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
import urllib.request
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def setup_constants() -> dict[str, object]:
    """The literal top-level assignments of setup.py (which folders the wheel is built from)."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    return {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, (ast.Tuple, ast.Constant))}


def package_version() -> str:
    """The one version number: ``quarterdeck.__version__`` (setup reads it from there)."""
    tree = ast.parse((ROOT / "quarterdeck" / "__init__.py").read_text(encoding="utf-8"))
    return next(ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                and getattr(node.targets[0], "id", "") == "__version__")


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"packaging_{name}", PACKAGING / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def spec_value(name: str):
    """The expression (an AST node) assigned to ``name`` at the spec's top level."""
    tree = ast.parse((PACKAGING / "quarterdeck.spec").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == [name]:
            return node.value
    raise AssertionError(f"{name} is not assigned in quarterdeck.spec")


def without(modules, then: str) -> str:
    """Python source that runs ``then`` where ``modules`` (and their submodules) cannot be imported.

    A finder refusing them mimics a bundle that lacks them; ``sys.modules[name] = None`` would
    not, as pyqtgraph picks its Qt binding by what ``sys.modules`` holds.
    """
    return (f"import sys\nBLOCKED = {tuple(modules)!r}\n"
            "class Missing:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.startswith(tuple(b + '.' for b in BLOCKED)) or name in BLOCKED:\n"
            "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
            "sys.meta_path.insert(0, Missing())\n" + then)


def spec_excludes() -> list[str]:
    unused_qt = ast.literal_eval(spec_value("UNUSED_QT"))
    excludes = []
    for element in spec_value("EXCLUDES").elts:
        if isinstance(element, ast.Starred):  # *(f"PySide6.{name}" for name in UNUSED_QT)
            excludes += [f"PySide6.{name}" for name in unused_qt]
        else:
            excludes.append(ast.literal_eval(element))
    return excludes


def test_spec_puts_rules_and_assets_where_the_frozen_app_looks(tmp_path, monkeypatch):
    from quarterdeck.core.resources import bundled_assets_dir, bundled_rules_dir

    analysis = next(node for node in ast.walk(ast.parse((PACKAGING / "quarterdeck.spec").read_text()))
                    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Analysis")
    datas = next(kw.value for kw in analysis.keywords if kw.arg == "datas")
    pairs = {ast.literal_eval(dest): ast.unparse(src) for src, dest in (t.elts for t in datas.elts)}
    patterns = "quarterdeck/core/activity/patterns"
    assert pairs == {"rules": "str(ROOT / 'rules')", "assets": "str(ROOT / 'assets')",
                     patterns: "str(ROOT / 'core' / 'activity' / 'patterns')"}
    # lay a bundle out as the spec does and let quarterdeck.core.resources find it as the frozen app would
    for dest in ("rules", "assets"):
        shutil.copytree(ROOT / dest, tmp_path / "_internal" / dest)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "_internal"), raising=False)
    assert bundled_rules_dir() == tmp_path / "_internal" / "rules"
    assert (bundled_assets_dir() / "quarterdeck.svg").is_file()
    # the pane watcher finds its patterns next to its own module: the spec puts them where that is
    from quarterdeck.core.activity.watch import patterns as module

    assert Path(module.__file__).resolve().parent.parent / "patterns" == \
        ROOT / "core" / "activity" / "patterns" and (ROOT / patterns.replace("quarterdeck/", "")).is_dir()


def test_spec_exclusions_leave_every_panel_and_the_demo_importable():
    excludes = spec_excludes()
    assert {"PySide6.QtWebEngineCore", "PySide6.QtQml", "PySide6.Qt3DCore", "tkinter"} <= set(excludes)
    # what the frozen app lacks, this interpreter lacks too: then import what the app imports
    script = without(excludes, "from quarterdeck.gui.app import load_panels\n"
                               "import quarterdeck.gui.demo.swarm, quarterdeck.cli.main\n"
                               "print(len(load_panels()))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    from quarterdeck.gui.app import PANELS

    assert done.stdout.strip() == str(len(PANELS))


def test_qt_hook_keeps_the_desktop_plugins_and_drops_kiosk_ones():
    tree = ast.parse((PACKAGING / "hooks" / "hook-PySide6.QtGui.py").read_text(encoding="utf-8"))
    # the hook's filter alone: PyInstaller (its import, its collection) is not needed to test it
    tree.body = [node for node in tree.body
                 if not (isinstance(node, ast.ImportFrom) and node.module.startswith("PyInstaller"))
                 and not (isinstance(node, ast.Assign) and "binaries" in ast.unparse(node.targets[0]))]
    namespace: dict = {}
    exec(compile(tree, "hook-PySide6.QtGui.py", "exec"), namespace)
    wanted = namespace["wanted"]
    plugins = "PySide6/Qt/plugins"
    for folder, name in [("platforms", "libqxcb.so"), ("platforms", "libqoffscreen.so"),
                         ("platforms", "libqwayland.so"), ("imageformats", "libqsvg.so"),
                         ("iconengines", "libqsvgicon.so"), ("xcbglintegrations", "libqxcb-glx-integration.so")]:
        assert wanted(f"{plugins}/{folder}", f"/qt/{folder}/{name}"), name
    for folder, name in [("platforms", "libqeglfs.so"), ("platforms", "libqminimalegl.so"),
                         ("platforms", "libqvnc.so"), ("platformthemes", "libqgtk3.so"),
                         ("generic", "libqevdevmouseplugin.so"), ("imageformats", "libqtiff.so")]:
        assert not wanted(f"{plugins}/{folder}", f"/qt/{folder}/{name}"), name
    assert wanted("PySide6/Qt/lib", "/qt/lib/libQt6Gui.so.6")


@pytest.fixture
def entry(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["quarterdeck"])
    return load("quarterdeck_main")


def test_frozen_entry_point_runs_the_command_line(entry, capsys):
    assert entry.run(["rules", "check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: ") and "rules/security.yaml" in out


def test_frozen_entry_point_runs_the_demo_swarm_as_python_m_would(entry, capsys):
    with pytest.raises(SystemExit) as stop:
        entry.run(["-m", "quarterdeck.gui.demo.swarm", "--agents", "0", "--dir", "x"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m quarterdeck.gui.demo.swarm") and "--agents: invalid choice" in err
    assert sys.argv == ["quarterdeck", "--agents", "0", "--dir", "x"]


@pytest.mark.parametrize("argv", [["-m"], ["-m", "os"], ["-m", "quarterdeck.cli.main", "--version"]])
def test_frozen_entry_point_refuses_other_modules(entry, capsys, argv):
    assert entry.run(argv) == 2
    helpers = "quarterdeck.core.desktop.clipboard.keeper, quarterdeck.gui.demo.swarm"
    assert f"-m runs only Quarterdeck's own helpers ({helpers})" in capsys.readouterr().err


def test_desktop_entry_launches_the_panel_with_the_bundled_icon():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(PACKAGING / "quarterdeck.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "Quarterdeck" and entry["Terminal"] == "false"
    assert entry["Exec"].split()[0] == entry["TryExec"] == next(iter(PYPROJECT["project"]["scripts"]))
    assert entry["Exec"].split()[1:] == ["gui"]
    assert (ROOT / "assets" / f"{entry['Icon']}.svg").is_file()
    app_source = (ROOT / "gui" / "app.py").read_text(encoding="utf-8")
    assert f'setApplicationName("{entry["StartupWMClass"]}")' in app_source, "Qt's window class"
    if shutil.which("desktop-file-validate"):
        done = subprocess.run(["desktop-file-validate", str(PACKAGING / "quarterdeck.desktop")],
                              capture_output=True, text=True)
        assert done.returncode == 0 and not done.stdout.strip(), done.stdout


def test_headless_requirements_drop_only_the_desktop_packages():
    headless = load("headless_requirements")
    assert headless.distribution_name("PySide6-Essentials>=6.8,<6.12; python_version < '3.12'") \
        == "pyside6-essentials"
    assert headless.distribution_name("google_re2 >= 1.1") == "google-re2"
    every = PYPROJECT["project"]["dependencies"]
    kept = headless.headless_requirements(ROOT / "pyproject.toml")
    dropped = {headless.distribution_name(req) for req in every if req not in kept}
    assert dropped == set(headless.DESKTOP_ONLY)
    assert "numpy>=1.26" in kept and any(req.startswith("msgspec") for req in kept)


def test_docker_build_copies_everything_the_wheel_is_built_from():
    dockerfile = (PACKAGING / "Dockerfile").read_text(encoding="utf-8")
    copied = {src for line in dockerfile.splitlines() if line.startswith("COPY ") and "--from" not in line
              for src in line.split()[1:-1]}
    layout = setup_constants()
    needed = {"pyproject.toml", "setup.py", PYPROJECT["project"]["readme"], "quarterdeck", *layout["TOP"],
              *layout["BUNDLED"], "packaging/headless_requirements.py"}
    assert needed <= copied
    ignore = (PACKAGING / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert ignore[0] == "*" and needed <= {line[1:] for line in ignore if line.startswith("!")}


def headless_env(tmp_path: Path) -> dict[str, str]:
    """A container's view: no display, no Qt platform; config and data in tmp_path."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(QUARTERDECK_CONFIG_DIR=str(tmp_path / "config"), QUARTERDECK_DATA_DIR=str(tmp_path / "data"))
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "agents.yaml").write_text(
        f"agents:\n  - {{id: Builder, transport: inbox, path: {tmp_path / 'inbox'}}}\n", encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    return env


def headless_command(*args: str) -> list[str]:
    """`quarterdeck ARGS` in a Python where no desktop-only module can be imported."""
    script = without(load("headless_requirements").DESKTOP_MODULES,
                     "from quarterdeck.cli.main import main\nsys.exit(main())\n")
    return [sys.executable, "-c", script, *args]


def test_command_line_works_without_the_desktop_modules(tmp_path):
    env = headless_env(tmp_path)
    for args, expected in [(("rules", "check"), "rules/security.yaml"), (("config", "show"), "max_retries = 3"),
                           ((), "No display here, so the panel cannot open"),
                           (("send", "-a", "Builder", "-m", "Ship the parser today."), "submitted")]:
        done = subprocess.run(headless_command(*args), cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0 and expected in done.stdout, (args, done.stdout, done.stderr)
    (delivered,) = (tmp_path / "inbox").glob("*.md")
    assert delivered.read_text(encoding="utf-8").endswith("Ship the parser today.")
    done = subprocess.run(headless_command("gui"), cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "the panel needs a display" in done.stderr


def test_serve_works_without_the_desktop_modules(tmp_path):
    server = subprocess.Popen(headless_command("serve", "--port", "0"), cwd=tmp_path, env=headless_env(tmp_path),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = server.stdout.readline()
        match = re.match(r"serving (http://127\.0\.0\.1:\d+)/metrics", first)
        if match is None:
            server.kill()
            pytest.fail(f"serve did not start: {first}{server.communicate()[1]}")
        with urllib.request.urlopen(match.group(1) + "/livez", timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(match.group(1) + "/health", timeout=10) as response:
            assert "Builder" in json.loads(response.read())["components"]["agents"]["components"]
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
    finally:
        if server.poll() is None:
            server.kill()
        server.communicate()


@pytest.mark.slow
def test_pipx_install_gives_a_working_quarterdeck_command(tmp_path):
    tools = tmp_path / "tools"
    venv.create(tools, with_pip=True)
    got = subprocess.run([str(tools / "bin" / "python"), "-m", "pip", "install", "-q", "pipx"],
                         capture_output=True, text=True, timeout=120)
    if got.returncode != 0:
        pytest.skip(f"pipx could not be installed (no package index?): {got.stderr[-500:]}")
    env = {**headless_env(tmp_path), "PIPX_HOME": str(tmp_path / "pipx"),
           "PIPX_BIN_DIR": str(tmp_path / "bin"), "PIPX_MAN_DIR": str(tmp_path / "man")}
    done = subprocess.run([str(tools / "bin" / "pipx"), "install", str(ROOT)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    command = tmp_path / "bin" / "quarterdeck"
    version = subprocess.run([str(command), "--version"], env=env, capture_output=True, text=True)
    assert version.stdout.strip() == f"quarterdeck {package_version()}"
    rules = subprocess.run([str(command), "rules", "check"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert f"{tmp_path / 'pipx' / 'venvs' / 'quarterdeck'}" in rules.stdout
    assert "core/_bundled/rules/security.yaml" in rules.stdout
