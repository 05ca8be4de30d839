"""What the panel costs while nobody uses it: ``quarterdeck`` as ``make run`` starts it (the demo swarm,
built-in defaults, a fresh data folder), left alone; its CPU (% of one core) over SECONDS once it has
settled, and the threads that took the most. Target: at most 3 % of one core (a panel left open all day
on a laptop must not be what keeps its fan on).

    python bench/bench_panel_idle.py [--seconds 20] [--settle 8]

Runs itself on a private Xvfb display (scripts/with-xvfb.sh) when DISPLAY is unset.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench")]
from relay_fleet import cpu_seconds, stat_seconds  # noqa: E402

TARGET_PCT = 3.0


def threads(pid: int) -> dict[str, tuple[str, float]]:
    """Thread id -> (its name, CPU seconds so far)."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found[task.name] = ((task / "comm").read_text().strip(), stat_seconds(task / "stat"))
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended meanwhile
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--settle", type=float, default=8.0, help="seconds after start before measuring")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        wrapper = ROOT / "scripts" / "with-xvfb.sh"
        os.execv(str(wrapper), [str(wrapper), sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]])
    with tempfile.TemporaryDirectory(prefix="qd-bench-idle-") as folder:
        env = {**os.environ, "QUARTERDECK_CONFIG_DIR": f"{folder}/config", "QUARTERDECK_DATA_DIR": f"{folder}/data",
               "QUARTERDECK_NOTIFICATIONS": "off"}
        env = {k: v for k, v in env.items() if not k.upper().startswith("COORDINATION_")}
        panel = subprocess.Popen([sys.executable, "-m", "quarterdeck"], cwd=folder, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(args.settle)
            if panel.poll() is not None:
                raise SystemExit(f"the panel ended early: {panel.stderr.read() if panel.stderr else ''}")
            before, process_before, began = threads(panel.pid), cpu_seconds(panel.pid), time.monotonic()
            time.sleep(args.seconds)
            after, process_after = threads(panel.pid), cpu_seconds(panel.pid)
            wall = time.monotonic() - began
        finally:
            panel.terminate()
            try:
                panel.wait(15)
            except subprocess.TimeoutExpired:
                panel.kill()
    pct = (process_after - process_before) / wall * 100
    used = sorted(((spent - before.get(tid, (name, 0.0))[1], name) for tid, (name, spent) in after.items()),
                  reverse=True)
    top = ", ".join(f"{name} {spent / wall * 100:.1f}" for spent, name in used[:4] if spent > 0)
    print(f"idle panel (demo swarm, {len(after)} threads) over {wall:.0f} s: {pct:.1f} % of one core "
          f"(busiest threads, %: {top or 'none measurable'})")
    print(f"target <= {TARGET_PCT:g} %: {'met' if pct <= TARGET_PCT else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
