"""What ``quarterdeck send`` and its neighbours load (issue 15): a command's help loads none of the heavy
modules (the ``--tag`` help reads the tags from ``core.tags``, not the models), and a send without a broker
loads no broker client, no history search and not the integration API; a send to a tmux agent loads no retry
library and none of the agents' activity code (what only a "when idle" send reads), and nothing only some sends
need: no ``logging.handlers`` (the log's rotating handler is ``core.logsetup``'s own), no ``difflib`` to read a good
roster (its "did you mean" is for mistakes), not the dry run's transport, not ``--when idle``'s duration parser,
no ``socket`` with no serve to hand the send to. No command loads pydantic (the models are msgspec Structs and
the rule file is checked by plain code, issue 15). The send path's own packages (resilience, delivery, compose,
the tmux transport, roster, dispatch, session) define no dataclass, during a send or when every one of their
modules is imported: their value types are msgspec Structs."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pydantic", "yaml", "re2", "numpy", "redis", "PySide6", "shiboken6", "pyqtgraph")


# the send path's own packages: their value types are msgspec Structs, made in C at import (a dataclass's
# generated code costs about 1 ms each on a loaded machine, and a send imports dozens)
STRUCT_PACKAGES = tuple(f"quarterdeck.core.{name}" for name in (
    "resilience", "delivery", "compose", "transports.tmux", "roster", "dispatch", "session"))
# the dataclasses alive in the process whose module is one of STRUCT_PACKAGES (or a module inside one)
DATACLASSES_PROBE = ("import dataclasses, gc\n"
                     "def ours(cls):\n    return cls.__module__.startswith(tuple(p + '.' for p in PACKAGES)) "
                     "or cls.__module__ in PACKAGES\n"
                     "def dataclasses_defined():\n"
                     "    return sorted(f'{c.__module__}.{c.__qualname__}' for c in gc.get_objects()\n"
                     "                  if isinstance(c, type) and dataclasses.is_dataclass(c) and ours(c))\n")


def probe_after(argv: list[str], env_dir: Path, extra_env: dict[str, str] | None = None) -> tuple[set[str], list[str]]:
    """The modules a fresh interpreter holds after ``main(argv)`` (an exit by --help included), and the
    dataclasses it then holds that one of ``STRUCT_PACKAGES`` defined."""
    probe = (f"PACKAGES = {STRUCT_PACKAGES!r}\n{DATACLASSES_PROBE}"
             "import json, sys\nfrom quarterdeck.cli.main import main\ntry:\n    code = main(json.loads(sys.argv[1]))\n"
             "except SystemExit as done:\n    code = done.code\n"
             "print(json.dumps([code, sorted(sys.modules), dataclasses_defined()]), file=sys.stderr)")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(env_dir), "QUARTERDECK_CONFIG_DIR": str(env_dir / "config"),
           "QUARTERDECK_DATA_DIR": str(env_dir / "data"), "LC_ALL": "C.UTF-8", **(extra_env or {})}
    done = subprocess.run([sys.executable, "-c", probe, json.dumps(argv)], capture_output=True, text=True,
                          timeout=60, check=False, env=env)
    code, modules, defined = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 0, done.stderr
    return set(modules), defined


def loaded_after(argv: list[str], env_dir: Path, extra_env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter holds after ``main(argv)`` (an exit by --help included)."""
    return probe_after(argv, env_dir, extra_env)[0]


@pytest.mark.parametrize("command", ["send", "history", "status", "rules"])
def test_a_command_s_help_loads_no_heavy_module(command, tmp_path):
    loaded = loaded_after([command, "--help"], tmp_path)
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY) == []
    assert "quarterdeck.core.models" not in loaded


def test_a_send_without_a_broker_loads_no_broker_client_no_history_search_and_no_integration(tmp_path):
    roster = tmp_path / "agents.yaml"
    roster.write_text("agents:\n- {id: A, transport: dryrun}\n", encoding="utf-8")
    loaded = loaded_after(["send", "--roster", str(roster), "--data-dir", str(tmp_path / "data"), "-a", "A",
                           "-m", "hello"], tmp_path)
    assert "quarterdeck.core.store.outbox" in loaded and "quarterdeck.core.validation.schema" in loaded  # it did send
    assert "msgspec" in loaded and sorted(m for m in loaded if m.split(".")[0] == "pydantic") == []
    assert sorted(m for m in loaded if m.split(".")[0] == "redis") == []
    assert "quarterdeck.core.store.history" not in loaded
    assert sorted(m for m in loaded if m.startswith("quarterdeck.core.integration")) == []


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_a_send_to_a_tmux_agent_loads_no_retry_library_and_no_activity_code(tmp_path):
    tmux_dir = tmp_path / "tmux"
    tmux_dir.mkdir()
    env = {**{k: v for k, v in os.environ.items() if k != "TMUX"}, "TMUX_TMPDIR": str(tmux_dir)}
    target = subprocess.run(["tmux", "-f", "/dev/null", "new-session", "-d", "-s", "imports", "-x", "120", "-y", "30",
                             "-P", "-F", "#{session_name}:#{window_index}.#{pane_index}",
                             f"exec cat > {tmp_path / 'pane.txt'}"],
                            env=env, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    try:
        roster = tmp_path / "agents.yaml"
        roster.write_text(f"agents:\n- {{id: A, transport: tmux, target: '{target}'}}\n", encoding="utf-8")
        loaded, defined = probe_after(["send", "--roster", str(roster), "--data-dir", str(tmp_path / "data"), "-a",
                                       "A", "-m", "hello"], tmp_path, {"TMUX_TMPDIR": str(tmux_dir)})
    finally:
        subprocess.run(["tmux", "kill-server"], env=env, capture_output=True, timeout=10, check=False)
    assert "quarterdeck.core.transports.tmux.submit" in loaded  # it typed, and the exit code said submitted
    assert sorted(m for m in loaded if m.split(".")[0] == "pydantic") == []
    assert sorted(m for m in loaded if m.split(".")[0] == "tenacity" or m.startswith("concurrent.futures")) == []
    assert sorted(m for m in loaded if m.startswith("quarterdeck.core.activity")) == []
    assert "quarterdeck.core.dispatch.idle_judge" not in loaded
    assert "quarterdeck.cli.handoff_follow" not in loaded  # no server took the send
    assert "quarterdeck.core.desktop.screens" not in loaded  # the screens are read for gui agents' points only
    assert "logging.handlers" not in loaded  # quarterdeck.log's rotating handler is logsetup's own
    assert "quarterdeck.core.transports.dryrun" not in loaded  # --dry-run's transport and throwaway outbox
    assert "quarterdeck.core.compose.when_idle" not in loaded  # --when idle's --ttl
    assert "socket" not in loaded  # no serve was running: nothing to connect to
    assert defined == []  # the send path's value types are msgspec Structs, none a dataclass


def test_the_send_path_s_packages_define_no_dataclass(tmp_path):
    """Every module of the send path's packages (what a send loads and the rest of them) makes its value
    types msgspec Structs; a dataclass planted in one of them is found, so a dataclass coming back is too."""
    probe = (f"PACKAGES = {STRUCT_PACKAGES!r}\n{DATACLASSES_PROBE}"
             "import importlib, json, pkgutil, sys\n"
             "for name in PACKAGES:\n    package = importlib.import_module(name)\n"
             "    for found in pkgutil.walk_packages(getattr(package, '__path__', []), name + '.'):\n"
             "        importlib.import_module(found.name)\n"
             "clean = dataclasses_defined()\n"
             "exec('@dataclasses.dataclass(frozen=True)\\nclass Planted:\\n    x: int',"
             " {'dataclasses': dataclasses, '__name__': 'quarterdeck.core.roster.problems'})\n"
             "print(json.dumps([sorted(m for m in sys.modules if m.startswith(PACKAGES)), clean,"
             " dataclasses_defined()]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LC_ALL": "C.UTF-8"})
    modules, clean, planted = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"quarterdeck.core.roster.remote", "quarterdeck.core.compose.templates",
            "quarterdeck.core.dispatch.idle_judge", "quarterdeck.core.session"} <= set(modules)
    assert clean == []
    assert planted == ["quarterdeck.core.roster.problems.Planted"]


def test_reading_a_good_roster_loads_no_difflib(tmp_path):
    """The roster's "did you mean" is for a roster with a mistake in it: a good one (every send reads one)
    loads no difflib; a bad key still gets its suggestion."""
    roster = tmp_path / "agents.yaml"
    roster.write_text("agents:\n- {id: A, transport: tmux, target: 'qd:0.0'}\n", encoding="utf-8")
    probe = ("import sys\nfrom pathlib import Path\nfrom quarterdeck.core.roster.problems import RosterError\n"
             "from quarterdeck.core.roster.roster import load_roster, parse_roster\n"
             "print(len(load_roster(Path(sys.argv[1]), screens=()).ids()), 'difflib' in sys.modules)\n"
             "try:\n    parse_roster('agents:\\n- {id: A, rol: x, transport: dryrun}\\n', screens=())\n"
             "except RosterError as bad:\n    print(bad.problems[0].message, 'difflib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe, str(roster)], capture_output=True, text=True, timeout=60,
                          check=True)
    assert done.stdout.splitlines() == ["1 False", "unknown key 'rol' (did you mean 'role'?) True"]
