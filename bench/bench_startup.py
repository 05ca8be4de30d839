"""How long the ``quarterdeck`` command takes from start to exit, against a bare Python started the same way.

Usage: python bench/bench_startup.py [--runs N] [--as-is] [--strict]   (default 15 runs)

Each figure is the median of N whole processes (the command installed beside this Python), taken in
rounds that run every case once, so a busy machine weighs on all of them alike; ``python -c pass``
(the same Python, its site and .pth files) is the baseline of the same rounds:

- ``quarterdeck --version`` and ``--help``: target within 80 ms of the baseline;
- ``quarterdeck hook --agent Agent-1 --source claude-code``: a Claude Code ``UserPromptSubmit`` event on
  stdin, recorded into a real data folder; target 150 ms end to end;
- ``quarterdeck send -a A TEXT``: to a pane of a private tmux server (its own socket folder) running
  ``cat``, the roster naming it, a real outbox; target 250 ms end to end. The delivery's own time (paste,
  submit key, read-back, as the outbox records it) and, within it, the read-back's wait after the submit
  key (the same evidence seen at two looks in a row at least 25 ms apart: the first look right after the
  key, the confirming one 25 ms after the look that first showed it; as the receipt says it, to 10 ms)
  are printed apart, as is what is left: the
  command's own overhead (interpreter, imports, config, roster, store, exit), and what its imports cost
  group by group (msgspec, the models, the store, the rules, ...: a child importing them in turn; redis,
  the relays' broker client, is loaded only with a broker configured, so it is not among them);
- ``quarterdeck send`` the same way with a ``quarterdeck serve`` running on another data folder (``--data-dir``
  for both): the send hands its message to serve over ``DATA_DIR/quarterdeck.sock`` and prints what serve
  streams back (``quarterdeck.cli.handoff_client``); target 250 ms end to end;
- ``quarterdeck contracts claim ID AGENT`` on a real contracts table.

The modules' bytecode is cached in a folder of this run (``PYTHONPYCACHEPREFIX``), as an installed package
has it, and each case runs once before the timing; ``--as-is`` keeps the environment as it is instead (with
``PYTHONDONTWRITEBYTECODE`` set, every start then compiles the project's sources). Each missed target is
named; ``--strict`` also exits 1 then (not by default: ``make bench`` runs every bench after this one).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALLED = Path(sys.executable).with_name("quarterdeck")
COMMAND = [str(INSTALLED)] if INSTALLED.exists() else [sys.executable, "-m", "quarterdeck"]
PAYLOAD = json.dumps({"session_id": "abc123", "transcript_path": "/t.jsonl", "cwd": "/w", "permission_mode": "default",
                      "hook_event_name": "UserPromptSubmit", "prompt": "Fix the login bug"}).encode()
ROSTER = 'agents:\n- id: A\n  transport: tmux\n  target: "{target}"\n'
TARGETS = {"--version": ("over", 80.0), "--help": ("over", 80.0), "hook": ("total", 150.0), "send": ("total", 250.0),
           "send via serve": ("total", 250.0)}
AFTER_SUBMIT = re.compile(r"([0-9.]+) s after the submit key")
# what send imports, in the order it needs it; each group's figure leaves out what the groups before it loaded
SEND_IMPORTS = {
    "the command line (cli.main)": ["quarterdeck.cli.main"],
    "msgspec": ["msgspec"],
    "the models (core.models)": ["quarterdeck.core.models"],
    "the roster, YAML, send's own module": ["quarterdeck.core.roster.roster", "quarterdeck.cli.delivery_cmd",
                                            "quarterdeck.cli.handoff_client", "quarterdeck.cli.roster_args"],
    "the outbox (core.store)": ["quarterdeck.core.store.outbox"],
    "the rules (core.validation, re2)": ["quarterdeck.core.validation"],
    "dispatcher, session, config": ["quarterdeck.core.session", "quarterdeck.cli.submit_wait"],
    "the tmux transport": ["quarterdeck.core.transports.tmux.transport"],
}
IMPORT_PROBE = """import importlib, json, sys, time
took = {}
for name, modules in json.loads(sys.argv[1]).items():
    started = time.perf_counter()
    for module in modules:
        importlib.import_module(module)
    took[name] = (time.perf_counter() - started) * 1000
print(json.dumps(took))
"""


def timed(argv: list[str], env: dict[str, str], stdin: bytes = b"") -> tuple[float, str]:
    """Milliseconds from start to exit of one process, and its stdout; any failure ends the bench."""
    started = time.perf_counter()
    done = subprocess.run(argv, input=stdin, env=env, capture_output=True, check=False, cwd=ROOT, timeout=120)
    took = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {done.returncode}\n{done.stderr.decode(errors='replace')}")
    return took, done.stdout.decode(errors="replace")


class Tmux:
    """A tmux server of its own (``TMUX_TMPDIR``: a fresh socket folder), one pane running ``cat``."""

    def __init__(self, folder: Path) -> None:
        self.env = {key: value for key, value in os.environ.items() if key != "TMUX"}
        self.env["TMUX_TMPDIR"] = str(folder / "tmux")
        Path(self.env["TMUX_TMPDIR"]).mkdir()
        where = "#{session_name}:#{window_index}.#{pane_index}"
        self.target = subprocess.run(
            ["tmux", "-f", "/dev/null", "new-session", "-d", "-s", f"qd-bench-{uuid.uuid4().hex[:8]}", "-x", "160",
             "-y", "40", "-P", "-F", where, f"exec cat > {folder / 'pane.txt'}"],
            env=self.env, capture_output=True, text=True, check=True, timeout=10).stdout.strip()

    def close(self) -> None:
        subprocess.run(["tmux", "kill-server"], env=self.env, capture_output=True, check=False, timeout=10)


def start_serve(env: dict[str, str], roster: Path, data: Path) -> subprocess.Popen[bytes]:
    """``quarterdeck serve`` on ``data``, once it listens for sends on ``data/quarterdeck.sock``."""
    import socket

    serve = subprocess.Popen([*COMMAND, "serve", "--roster", str(roster), "--data-dir", str(data), "--port", "0"],
                             env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and serve.poll() is None:
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(data / "quarterdeck.sock"))
                return serve
            except OSError:
                time.sleep(0.1)
    serve.kill()
    raise SystemExit(f"quarterdeck serve did not listen: {serve.communicate()[1].decode(errors='replace')}")


def median_line(label: str, took: list[float], base: float | None) -> float:
    middle = statistics.median(took)
    over = f"{middle - base:+7.1f} ms over python" if base is not None else " " * 22
    print(f"{label:<44} {middle:7.1f} ms   {over}   (fastest {min(took):6.1f} ms)")
    return middle


def run(runs: int, as_is: bool, strict: bool) -> int:
    folder = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    env = dict(os.environ)
    if not as_is:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    env.update(QUARTERDECK_DATA_DIR=str(folder / "data"), QUARTERDECK_CONFIG_DIR=str(folder / "config"),
               LC_ALL="C.UTF-8")
    tmux = Tmux(folder) if shutil.which("tmux") else None
    serve: subprocess.Popen[bytes] | None = None
    try:
        roster = folder / "agents.yaml"
        roster.write_text(ROSTER.format(target=tmux.target if tmux else "none:0.0"), encoding="utf-8")
        claims = iter(range(1, runs + 2))
        sends: list[tuple[float, float]] = []  # (the delivery's own seconds, the read-back's wait after the key)

        def send(round_: int) -> list[str]:
            return [*COMMAND, "send", "--json", "--roster", str(roster), "-a", "A", "-m", f"bench round {round_}"]

        cases: dict[str, tuple[Callable[[int], list[str]], bytes]] = {
            "python -c pass": (lambda _: [sys.executable, "-c", "pass"], b""),
            "--version": (lambda _: [*COMMAND, "--version"], b""),
            "--help": (lambda _: [*COMMAND, "--help"], b""),
            "hook": (lambda _: [*COMMAND, "hook", "--agent", "Agent-1", "--source", "claude-code"], PAYLOAD),
            "contracts claim": (lambda _: [*COMMAND, "contracts", "claim", str(next(claims)), "A", "--roster",
                                           str(roster)], b""),
            "send's imports": (lambda _: [sys.executable, "-c", IMPORT_PROBE, json.dumps(SEND_IMPORTS)], b""),
        }
        if tmux is not None:
            env["TMUX_TMPDIR"] = tmux.env["TMUX_TMPDIR"]
            env.pop("TMUX", None)
            cases["send"] = (send, b"")
            served = folder / "served"
            serve = start_serve(env, roster, served)
            cases["send via serve"] = (lambda round_: [*send(round_), "--data-dir", str(served)], b"")
        for n in range(runs + 1):
            timed([*COMMAND, "contracts", "create", f"task {n}", "--roster", str(roster)], env)
        took: dict[str, list[float]] = {name: [] for name in cases}
        imports: dict[str, list[float]] = {name: [] for name in SEND_IMPORTS}
        for round_ in range(runs + 1):  # round 0 warms up (bytecode, the outbox's first use)
            for name, (argv, stdin) in cases.items():
                ms, out = timed(argv(round_), env, stdin)
                if round_ == 0:
                    continue
                took[name].append(ms)
                if name == "send's imports":
                    for group, group_ms in json.loads(out).items():
                        imports[group].append(group_ms)
                if name == "send":
                    result = json.loads(out)["results"][0]
                    waited = AFTER_SUBMIT.search(result["detail"] or "")
                    sends.append((result["latency_s"] or 0.0, float(waited.group(1)) if waited else 0.0))
        mode = "environment as is" if as_is else "bytecode cached"
        print(f"quarterdeck start to exit, median of {runs} processes each ({mode}; {COMMAND[0]})")
        base = median_line("python -c pass (the baseline)", took.pop("python -c pass"), None)
        missed = []
        del took["send's imports"]
        for name, times in took.items():
            label = f"quarterdeck {name}" + (" (tmux agent, end to end)" if name == "send" else "")
            if name == "send via serve":
                label = "quarterdeck send, serve running (hand-off)"
            middle = median_line(label, times, base)
            kind, limit = TARGETS.get(name, ("", 0.0))
            figure = middle - base if kind == "over" else middle
            if kind and figure > limit:
                missed.append(f"{name}: {figure:.0f} ms" + (" over python" if kind == "over" else "")
                              + f" (target {limit:.0f} ms)")
        if sends:
            own = statistics.median(s for s, _ in sends) * 1000
            readback = statistics.median(w for _, w in sends) * 1000
            e2e = statistics.median(took["send"])
            print(f"  send: the delivery itself (paste, key, read-back)  {own:7.1f} ms, of which the read-back's wait "
                  f"after the submit key {readback:.1f} ms")
            print(f"  send: the command's own overhead (e2e - delivery) {e2e - own:7.1f} ms "
                  f"({e2e - own - base:.1f} ms over python), of which its imports:")
            loading = 0.0
            for group, times in imports.items():
                loading += statistics.median(times)
                print(f"    {group:<46} {statistics.median(times):7.1f} ms")
            print(f"    {'all imports':<46} {loading:7.1f} ms; the rest (config, roster, outbox, session, exit) "
                  f"{e2e - own - base - loading:.1f} ms")
        else:
            print("  send: tmux is not installed, not measured")
        print("targets: " + ("all met" if not missed else "MISSED " + "; ".join(missed)))
        return 1 if missed and strict else 0
    finally:
        if serve is not None:
            serve.send_signal(2)  # SIGINT: serve stops as after Ctrl+C
            serve.communicate(timeout=30)
        if tmux is not None:
            tmux.close()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--as-is", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE and the bytecode as they are")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    sys.exit(run(args.runs, args.as_is, args.strict))


if __name__ == "__main__":
    main()
