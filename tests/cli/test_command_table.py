"""The command line resolves its commands lazily: the table in ``quarterdeck.cli.commands`` says where each
command lives and its help line, ``quarterdeck --version`` and ``--help`` import none of the heavy modules,
and a chosen command imports its own module only."""
from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys

import pytest

from quarterdeck.cli.commands import COMMANDS, PACKAGE, module_names
from quarterdeck.cli.main import build_parser, main

HEAVY = ("pydantic", "yaml", "re2", "numpy", "PySide6", "shiboken6", "pyqtgraph")


def loaded_after(argv: list[str]) -> set[str]:
    """The modules a fresh interpreter holds after ``main(argv)`` (its exit by --help or --version included)."""
    probe = ("import json, sys\nfrom quarterdeck.cli.main import main\ntry:\n    main(json.loads(sys.argv[1]))\n"
             "except SystemExit:\n    pass\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe, json.dumps(argv)], capture_output=True, text=True,
                          timeout=60, check=False)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def registered(module: str) -> dict[str, str | None]:
    """The commands ``module`` registers, each with its help line."""
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(f"{PACKAGE}.{module}").register(sub)
    return {action.dest: action.help for action in sub._choices_actions}


@pytest.mark.parametrize("module", module_names())
def test_the_table_holds_the_help_line_each_module_registers(module):
    assert registered(module) == {name: text for name, (owner, text) in COMMANDS.items() if owner == module}


def test_help_lists_every_command_with_its_help_line(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    listing = " ".join(capsys.readouterr().out.split())  # argparse wraps long help lines
    for name, (_, text) in COMMANDS.items():
        assert f"{name} {' '.join(text.split())}" in listing


def test_the_lazy_parser_and_the_whole_parser_take_the_same_commands():
    whole = build_parser()
    commands = next(a for a in whole._actions if isinstance(a, argparse._SubParsersAction))
    assert list(commands.choices) == list(COMMANDS)


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_import_no_heavy_module_and_no_command(argv):
    loaded = loaded_after(argv)
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert heavy == [], f"quarterdeck {argv[0]} imports {heavy}"
    assert sorted(m for m in loaded if m.startswith(f"{PACKAGE}.") and m.endswith("_cmd")) == []
    assert "quarterdeck.core.config" not in loaded


def test_a_chosen_command_imports_its_own_module_only():
    loaded = loaded_after(["completion", "bash"])
    assert sorted(m for m in loaded if m.startswith(f"{PACKAGE}.") and m.endswith("_cmd")) == [
        f"{PACKAGE}.completion_cmd"]


def test_a_command_s_help_is_its_own(capsys):
    with pytest.raises(SystemExit) as done:
        main(["send", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "usage: quarterdeck send" in out and "--priority" in out and "--config" in out


def test_an_unknown_command_is_refused_in_one_line_naming_the_commands(capsys):
    with pytest.raises(SystemExit) as done:
        main(["sned"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'sned'" in err and "'send'" in err


def subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices[name]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_resolved_when_chosen_is_the_one_of_the_whole_parser(name, capsys):
    lazy, whole = build_parser(lazy=True), build_parser()
    assert "func" not in subparser(lazy, name)._defaults  # a placeholder until chosen
    with pytest.raises(SystemExit):
        lazy.parse_args([name, "--help"])  # argparse chooses it: its module registers it
    chosen, expected = subparser(lazy, name), subparser(whole, name)
    assert capsys.readouterr().out == expected.format_help()
    assert chosen._defaults == expected._defaults  # its func, the shared options it takes
    names, all_names = lazy.get_default("_option_names"), whole.get_default("_option_names")
    assert names == {dest: all_names[dest] for dest in names}


def test_a_hook_imports_no_heavy_module(tmp_path):
    probe = ("import json, sys\nfrom quarterdeck.cli import entry\n"
             f"entry.main(['hook', '--agent', 'A', '--source', 'claude-code', '--data-dir', {str(tmp_path)!r}])\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)")
    event = json.dumps({"hook_event_name": "UserPromptSubmit", "session_id": "s-1", "prompt": "Rebase on main"})
    done = subprocess.run([sys.executable, "-c", probe], input=event, capture_output=True, text=True, timeout=60,
                          check=False)
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert sorted(m for m in loaded if m.split(".")[0] in (*HEAVY, "redis")) == []
    assert (tmp_path / "quarterdeck.sqlite3").exists() or (tmp_path / "agent-events.spool.jsonl").exists()


def test_no_command_loads_pydantic_and_nothing_depends_on_it():
    """pydantic is gone (issue 15): no module of the package imports it, whichever command runs, and the
    package does not require it; every command module loads without it."""
    import re
    from importlib.metadata import requires
    from pathlib import Path

    root = Path(importlib.import_module("quarterdeck.cli").__file__).parents[1]
    importing = re.compile(r"^\s*(?:from|import)\s+pydantic\b", re.M)
    sources = [path for folder in ("cli", "core", "gui") for path in (root / folder).rglob("*.py")]
    assert len(sources) > 100
    assert [str(path) for path in sources if importing.search(path.read_text(encoding="utf-8"))] == []
    assert [req for req in requires("quarterdeck") or [] if req.lower().startswith("pydantic")] == []
    probe = ("import importlib, json, sys\nfor name in json.loads(sys.argv[1]):\n    importlib.import_module(name)\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)")
    names = [f"{PACKAGE}.{module}" for module in module_names()] + ["quarterdeck.core.config",
                                                                     "quarterdeck.core.validation.schema"]
    done = subprocess.run([sys.executable, "-c", probe, json.dumps(names)], capture_output=True, text=True,
                          timeout=60, check=True)
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert set(names) <= loaded and sorted(m for m in loaded if m.split(".")[0] == "pydantic") == []
