"""Fuzzing every command line: whatever the arguments, a clear message and a known exit code,
never a traceback.

Every command's options are read off the real parser, then hypothesis feeds them values: valid
ones, text in any script, bytes that are not UTF-8 (as a shell passes them: escaped surrogates),
huge, negative and non-finite numbers, unknown choices, and standard input that is not UTF-8.
Each invocation is an in-process call of ``quarterdeck.cli.main.main`` on a temporary data folder with inbox
and dry-run agents. The panel, the demo, ``serve``, ``agents watch`` and ``agents capture`` are left out (they run
until stopped, or wait for the pointer); ``serve`` and real subprocesses are covered in
``tests/core/test_storage_faults.py``. ``QUARTERDECK_FUZZ_EXAMPLES`` sets the invocations per
command (default 20); ``QUARTERDECK_FUZZ_REPORT`` names a file that gets one line of counts per
command.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quarterdeck.cli.main import EXIT_INTERNAL, build_parser, main

EXAMPLES = int(os.environ.get("QUARTERDECK_FUZZ_EXAMPLES", "20"))
LEFT_OUT = {("gui",), ("demo",), ("serve",), ("agents", "capture"), ("agents", "watch")}
COUNTS: dict[str, list[int]] = {}


def leaves(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], list]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: dict[tuple[str, ...], list] = {}
            for name, sub in action.choices.items():
                found.update(leaves(sub, (*prefix, name)))
            return found
    return {prefix: [a for a in parser._actions if a.dest != "help"]}


COMMANDS = {path: actions for path, actions in leaves(build_parser()).items() if path not in LEFT_OUT}
# send --when idle waits for the agent to be idle, up to --ttl (30 min by default), and no agent here reports
# its activity: tests/cli/test_send_when_idle.py drives it (--ttl alone, a usage error, is still fuzzed)
COMMANDS[("send",)] = [action for action in COMMANDS[("send",)] if action.dest != "when"]

# what a shell can hand over: any text but NUL, including bytes that are not UTF-8
ESCAPED = st.integers(0x80, 0xFF).map(lambda b: chr(0xDC00 + b))
CHAR = st.one_of(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), ESCAPED)
TEXT = st.one_of(st.text(CHAR, max_size=40), st.sampled_from(["", " ", "-", "--", "Agent-1", "Captain",
                                                              "two words", "captain", "-1", "1e400"]))
NUMBER = st.one_of(st.integers(-(10**25), 10**25).map(str), st.sampled_from(
    ["-1", "0", "1", "99999999999999999999", "nan", "inf", "-inf", "1e308", "0x10", "½", "٣"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr), TEXT)
AGENT = st.one_of(st.sampled_from(["Agent-1", "Agent-2", "Agent-3", "nobody"]), TEXT)


def value_for(action: argparse.Action, tmp: Path) -> st.SearchStrategy[str]:
    kind = getattr(action.type, "__name__", "")
    if kind == "Path":
        return st.one_of(st.just(str(tmp / "agents.yaml")), st.just(str(tmp / "data")),
                         st.text(CHAR.filter(lambda c: c != "/"), min_size=1, max_size=20).map(
                             lambda name: str(tmp / "fuzzed" / name)))
    if kind in ("_count", "_seconds", "_contract_id"):
        return NUMBER
    if action.choices:
        return st.one_of(st.sampled_from(sorted(map(str, action.choices))), TEXT)
    if action.dest in ("agents", "agent", "to", "assign"):
        return AGENT
    if action.dest == "processor":
        return st.sampled_from(["nosuchmodule:handler", "json:loads", ":", "x"])
    return TEXT


def argv_for(command: tuple[str, ...], tmp: Path) -> st.SearchStrategy[list[str]]:
    actions = COMMANDS[command]
    parts = []
    for action in actions:
        if action.option_strings:
            flag = st.sampled_from(action.option_strings)
            if action.nargs == 0:
                part = flag.map(lambda f: [f])
            else:
                part = st.tuples(flag, value_for(action, tmp)).map(list)
        else:
            count = (0, 3) if action.nargs in ("*", "?") else (1, 1)
            part = st.lists(value_for(action, tmp), min_size=count[0], max_size=count[1])
            if action.dest == "text":  # the message, or - for standard input
                part = st.one_of(st.sampled_from([[], ["-"]]), value_for(action, tmp).map(lambda t: [t]))
        parts.append(st.one_of(st.just([]), part))
    base = []
    names = {s for a in actions for s in a.option_strings}
    if "--data-dir" in names:
        base += ["--data-dir", str(tmp / "data")]
    if "--roster" in names:
        base += ["--roster", str(tmp / "agents.yaml")]
    return st.tuples(*parts).map(lambda chosen: [*command, *base, *(x for part in chosen for x in part)])


@pytest.fixture
def fuzz_home(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "agents.yaml").write_text(
        "agents:\n"
        f"  - {{id: Agent-1, role: captain, transport: inbox, path: {tmp_path / 'in1'}}}\n"
        f"  - {{id: Agent-2, transport: inbox, path: {tmp_path / 'in2'}}}\n"
        "  - {id: Agent-3, transport: dryrun}\n", encoding="utf-8")
    monkeypatch.setenv("QUARTERDECK_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def invoke(argv: list[str], stdin: bytes, monkeypatch) -> tuple[int, str]:
    """Run ``main`` with the streams a terminal gives Python: stdout strict UTF-8, stderr UTF-8
    with backslash escapes (so an error message may quote any byte)."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace")
    before = sys.stdout, sys.stderr
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        code = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdout, sys.stderr = before
    err.flush()
    return code, err.buffer.getvalue().decode("utf-8")


@pytest.mark.parametrize("command", sorted(COMMANDS), ids=" ".join)
def test_no_traceback_whatever_the_arguments(command, fuzz_home, monkeypatch):
    seen = COUNTS.setdefault(" ".join(command), [0, 0])

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(argv=argv_for(command, fuzz_home), stdin=st.binary(max_size=64))
    def one(argv, stdin):
        code, err = invoke(argv, stdin, monkeypatch)
        seen[0] += 1
        broken = "Traceback" in err or code == EXIT_INTERNAL
        seen[1] += broken
        assert not broken, (argv, code, err)
        assert code in (0, 1, 2, 3, 4, 5, 6, 7, 8), (argv, code, err)

    one()
    report = os.environ.get("QUARTERDECK_FUZZ_REPORT")
    if report:  # for the figures: one line per command
        with open(report, "a", encoding="utf-8") as out:
            out.write(f"{' '.join(command)}: {seen[0]} invocations, {seen[1]} tracebacks\n")


@pytest.mark.parametrize("argv, expected", [
    (["send", "-a", "Agent-1", "-m", "hi", "--tag", "Captain"], "--tag: 'Captain' is not a tag"),
    (["send", "-a", "Agent-1", "-m", "hi", "--tag", "two words"], "did you mean 'two-words'?"),
    (["send", "-a", "Agent-1", "-m", "caf\udce9"], "--message is not UTF-8 text"),
    (["history", "--search", "\udcff"], "--search is not UTF-8 text"),
    (["history", "--agent", "\udcff"], "--agent is not UTF-8 text"),
    (["contracts", "create", "t\udce9che"], "title is not UTF-8 text"),
    (["history", "--limit", "-1"], "argument --limit: -1 is out of range"),
    (["history", "--limit", "99999999999999999999"], "99999999999999999999 is out of range"),
    (["send", "-a", "Agent-1", "--stagger", "nan", "-m", "x"], "argument --stagger: nan is out of range"),
])
def test_the_cases_fuzzing_found(argv, expected, fuzz_home, monkeypatch):
    if argv[0] in ("history", "send"):
        argv = [argv[0], "--data-dir", str(fuzz_home / "data"), "--roster", str(fuzz_home / "agents.yaml"),
                *argv[1:]]
    code, err = invoke(argv, b"", monkeypatch)
    assert code == 2 and expected in err and "Traceback" not in err, err


def test_standard_input_that_is_not_utf8(fuzz_home, monkeypatch):
    code, err = invoke(["send", "-a", "Agent-1", "--roster", str(fuzz_home / "agents.yaml"), "-"],
                       b"caf\xe9 au lait", monkeypatch)
    assert code == 2 and "standard input is not UTF-8 text (byte 0xe9 at offset 3)" in err
    assert not (fuzz_home / "in1").exists()
