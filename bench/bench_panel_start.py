"""The panel's cold start: a fresh process until the main window's first paint.

Runs ``quarterdeck gui`` (the installed command, the ``make run`` path) and ``python -m
quarterdeck.gui`` with ``QUARTERDECK_STARTUP_PROBE=1``: the app prints the wall-clock time of
the main window's first paint event and quits. Each figure is taken from just before the process
is spawned, and printed beside the baselines measured in the same run, in the same way: a bare
``python -c pass`` and ``python -c "import PySide6.QtWidgets"`` (both to exit). The demo swarm is
off (a roster with one inbox agent is given). Target: median <= 0.8 s.

Compiled bytecode is used as an installed panel would have it (``PYTHONDONTWRITEBYTECODE`` is
dropped for the children, whose ``.pyc`` files go to a scratch ``PYTHONPYCACHEPREFIX``, not into
the tree); one run before the measured ones writes them.

``--before DIR`` also measures another copy of the package in the same run, interleaved:
``DIR`` holds a ``quarterdeck`` folder (put first on PYTHONPATH) whose ``core``, ``gui`` and
``cli`` are that copy's folders, e.g. from ``git archive <commit>`` and three symlinks.

Runs itself on a private Xvfb display (scripts/with-xvfb.sh) when DISPLAY is unset.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_START_S = 0.8


STEPS: dict[str, list[float]] = {}  # "at first paint, ms:" of the quarterdeck gui runs, per step


def timed(command: list[str], env: dict[str, str], *, probe: bool) -> float:
    started = time.time()
    out = subprocess.run(command, cwd=env.get("BENCH_CWD", ROOT), env=env, capture_output=True, text=True,
                         timeout=60)
    ended = time.time()
    if not probe:
        if out.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{out.stderr}")
        return ended - started
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("first paint at ")]
    if not line:
        raise SystemExit(f"no first paint reported by {' '.join(command)}:\n{out.stdout}\n{out.stderr}")
    if command[-3:-2] == ["gui"]:
        for ln in out.stdout.splitlines():
            if ln.startswith("at first paint, ms: "):
                words = ln.removeprefix("at first paint, ms: ").split()
                for name, ms in zip(words[::2], words[1::2], strict=True):
                    STEPS.setdefault(name, []).append(float(ms))
    return float(line[0].split()[-1]) - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", type=Path, metavar="DIR", help="measure this copy of the package too")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        wrapper = ROOT / "scripts" / "with-xvfb.sh"
        os.execv(str(wrapper), [str(wrapper), sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]])
    command = Path(sys.executable).with_name("quarterdeck")
    with tempfile.TemporaryDirectory(prefix="qd-bench-start-") as folder:
        env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
               "PYTHONPYCACHEPREFIX": str(Path(folder) / "pycache"), "QUARTERDECK_STARTUP_PROBE": "1",
               "QUARTERDECK_CONFIG_DIR": str(Path(folder) / "config"),
               "QUARTERDECK_DATA_DIR": str(Path(folder) / "data")}
        roster = Path(folder) / "agents.yaml"
        roster.write_text("agents:\n  - {id: Agent-1, transport: inbox, path: " + folder + "/inbox}\n")
        cases: dict[str, tuple[list[str], bool]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], False),
            "python -c 'import PySide6.QtWidgets'": ([sys.executable, "-c", "import PySide6.QtWidgets"], False),
            "quarterdeck gui, to first paint": ([str(command), "gui", "--roster", str(roster)], True),
            "python -m quarterdeck.gui, to first paint": ([sys.executable, "-m", "quarterdeck.gui",
                                                           "--roster", str(roster)], True),
        }
        envs = {name: env for name in cases}
        if args.before is not None:
            name = f"before ({args.before}): python -m quarterdeck.gui"
            cases[name] = (cases["python -m quarterdeck.gui, to first paint"][0], True)
            envs[name] = {**env, "PYTHONPATH": str(args.before.resolve()), "BENCH_CWD": "/",
                          "PYTHONPYCACHEPREFIX": str(Path(folder) / "pycache-before")}
        times: dict[str, list[float]] = {name: [] for name in cases}
        for name, (argv, probe) in cases.items():  # writes the bytecode, warms the disk cache: not counted
            timed(argv, envs[name], probe=probe)
        for _ in range(args.runs):  # interleaved: a burst of load on the machine hits every case alike
            for name, (argv, probe) in cases.items():
                times[name].append(timed(argv, envs[name], probe=probe))
    for name, values in times.items():
        print(f"{name:55s} median {statistics.median(values) * 1000:6.0f} ms  min {min(values) * 1000:6.0f} ms"
              f"  [{' '.join(f'{v * 1000:.0f}' for v in values)}]")
    print("quarterdeck gui, steps of gui.app.main (median ms, each from the end of the one before; before"
          " 'Qt': the interpreter, the command line and gui.app's imports): "
          + ", ".join(f"{name} {statistics.median(values):.0f}" for name, values in STEPS.items()))
    median = statistics.median(times["quarterdeck gui, to first paint"])
    verdict = "met" if median <= TARGET_START_S else "MISSED"
    print(f"target: cold start to first paint <= {TARGET_START_S:g} s: {verdict}"
          f" (median {median:.2f} s; bare python {statistics.median(times['python -c pass']) * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
