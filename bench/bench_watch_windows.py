"""What watching GUI agents' windows costs: 8 real Chromium windows, one sample a second.

Opens eight Chromium app windows (one browser and profile each) showing the transcript page
(tests/x11/pages/transcript.html), 960x1080 each, tiled 4 x 2 on a 3840x2160 screen (a 4K desktop),
binds a gui agent to each (default transcript region: ~944x900 px a window) and runs
``WindowWatcher.sample`` once a second:

1. idle: nothing is written (one window has the focus, its caret blinks, outside the region);
2. latency: one window after another is asked (click, type, Enter) at a random moment between two
   samples; the time from its Enter (the prompt shows in the transcript at once) to the sample
   that says working must be within 1 s. Each window then goes on writing;
3. writing: every window's page writes a line every 300 ms (the transcript scrolls).

Prints, for (1) and (3), the watcher's CPU time (process CPU time around ``sample``) as a % of one
core at 1 sample/s, the per-sample time (median / p95 ms) and the X server's CPU over the same
time (Xvfb: it serves Chromium's drawing too). Target: 16 agents within 3% of one core, so 8
within 1.5%.
Runs itself on a private Xvfb display when DISPLAY is unset. ``--rounds N``: seconds per phase.
"""
from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from on_display import bench_main

WINDOWS = 8
SIZE = (960, 1080)
TARGET_PER_AGENT = 3.0 / 16  # % of one core


def _xvfb_cpu() -> float | None:
    """CPU seconds of the Xvfb that scripts/with-xvfb.sh started (our parent's other child)."""
    parent = os.getppid()
    try:
        children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        for pid in children:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "Xvfb":
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None
    return None


GRABS = [0]


def _count_grabs() -> None:
    """Count the watcher's pixel grabs (it calls ``grab`` as imported into window_sample)."""
    from quarterdeck.core.activity.watch import window_sample

    real = window_sample.grab

    def counted(*args):
        GRABS[0] += 1
        return real(*args)

    window_sample.grab = counted


def _phase(watcher, seconds: int) -> dict:
    cpu, times, grabs = 0.0, [], GRABS[0]
    server = _xvfb_cpu()
    wall = time.monotonic()
    for _ in range(seconds):
        started, cpu_started = time.perf_counter(), time.process_time()
        watcher.sample(time.time())
        cpu += time.process_time() - cpu_started
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))
    wall = time.monotonic() - wall
    server_cpu = None if server is None else _xvfb_cpu() - server
    times.sort()
    return {"core": cpu / wall * 100, "median": statistics.median(times), "p95": times[int(len(times) * .95) - 1],
            "server": None if server_cpu is None else server_cpu / wall * 100, "grabs": GRABS[0] - grabs,
            "looks": seconds * WINDOWS}


def _latency(watcher, windows) -> list[float]:
    """Seconds from each window's Enter to the sample that said it is working."""
    lags, rng = [], random.Random(13)
    tick = time.monotonic()
    for window in windows:
        entered = None
        for _ in range(10):
            for event in watcher.sample(time.time()):
                if event.kind == "seen_working" and event.agent_id == window.name and entered is not None:
                    lags.append(event.at - entered)
            if len(lags) == windows.index(window) + 1:
                break
            if entered is None:
                time.sleep(rng.uniform(0.0, 0.6))
                window.ask("keep writing")
                entered = time.time()
            tick += 1.0
            time.sleep(max(0.0, tick - time.monotonic()))
        else:
            raise RuntimeError(f"{window.name} was never seen working")
    return lags


def _print(label: str, result: dict) -> None:
    server = "n/a" if result["server"] is None else f"{result['server']:.2f}%"
    print(f"  {label:<8} watcher {result['core']:.2f}% of one core ({result['core'] / WINDOWS:.3f}% an agent), "
          f"sample {result['median']:.1f} / {result['p95']:.1f} ms (median / p95), Xvfb {server}, "
          f"{result['grabs']} grabs in {result['looks']} looks")


def open_agents(folder: Path, prefix: str, windows: list) -> list:
    """Eight Chromium transcript windows (appended to ``windows`` as they open, so the caller can
    close them whatever happens), tiled 4 x 2, and a gui agent bound to each."""
    from transcript_desk import INPUT_FROM_BOTTOM, open_transcript

    from quarterdeck.core.models import Agent, GuiTransport, WindowMatch, WindowPoint

    width, height = SIZE
    for n in range(WINDOWS):
        rect = (width * (n % 4), 40 + height * (n // 4) - (n // 4) * 40, width, height - 40)
        windows.append(open_transcript(folder, f"{prefix}-{n + 1}", rect, lines=100000, every=300))
    return [Agent(id=w.name, transport=GuiTransport(
        chat=w.input_point, window=WindowMatch(class_="Chromium", title=w.title),
        chat_in_window=WindowPoint(anchor="bottom-left", offset=(w.geometry[2] // 2, -INPUT_FROM_BOTTOM))))
        for w in windows]


def run(rounds: int) -> int:
    from transcript_desk import close_all

    from quarterdeck.core.activity.watch.windows import WindowWatcher

    folder = Path(tempfile.mkdtemp(prefix="bench-watch-windows-"))
    windows: list = []
    try:
        agents = open_agents(folder, "Agent", windows)
        watcher = WindowWatcher(agents)
        _count_grabs()
        watcher.sample(time.time())
        regions = [watcher.looker.look(a).region for a in agents]
        print(f"{WINDOWS} Chromium windows {windows[0].geometry[2]}x{windows[0].geometry[3]}, transcript regions "
              f"{regions[0][2]}x{regions[0][3]} px; {rounds} samples a phase, 1 a second")
        idle = _phase(watcher, rounds)
        _print("idle", idle)
        lags = _latency(watcher, windows)
        print(f"  latency  Enter -> seen_working: {min(lags):.2f} .. {max(lags):.2f} s, "
              f"median {statistics.median(lags):.2f} s ({len(lags)} windows; goal within 1 s: "
              f"{'ok' if max(lags) <= 1.0 else 'over'})")
        writing = _phase(watcher, rounds)
        _print("writing", writing)
        worst = max(idle["core"], writing["core"]) / WINDOWS
        print(f"per agent {worst:.3f}% of one core (worst phase) against {TARGET_PER_AGENT:.3f}% "
              f"(16 agents within 3%): {'ok' if worst <= TARGET_PER_AGENT else 'over'}")
        return 0
    finally:
        close_all(windows)


def main() -> None:
    os.environ.setdefault("QUARTERDECK_SCREEN", "3840x2160x24")
    bench_main(__file__, __doc__, run, rounds=30)


if __name__ == "__main__":
    main()
