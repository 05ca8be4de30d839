"""Broadcast a 500-character, 5-line Unicode message to 8 Chromium chat windows and time it.

The windows are real Chromium app windows (one browser process, like one Cursor with several
windows) showing a local chat page: Enter submits and clears the input, and every submission is
reported to this bench's server, which checks it byte for byte. Prints, for the same windows:

- a broadcast through the outbox and the dispatcher, default settings (every verdict must be
  ``submitted``, with the input read back over accessibility), and the same with stagger 0;
- GuiDelivery alone with read-back off (``unverified``): the cost of the evidence per agent;
- a bare loop: the clipboard set once, then click, Ctrl+V, Enter per window with PAUSE 0 and the
  same few milliseconds' wait for Chromium's paste that any correct loop needs;
- the targets: total <= 1.5 s with defaults, dispatcher (stagger 0) within 3x of the bare loop.

Runs itself on a private Xvfb display (scripts/with-xvfb.sh, which also starts the accessibility
bus) when DISPLAY is unset. ``--rounds N`` (default 3).
"""
from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

from on_display import bench_main

ROOT = Path(__file__).resolve().parents[1]
AGENTS = 8
TARGET_TOTAL = 1.5
TARGET_RATIO = 3.0


def message(length: int = 500) -> str:
    line = "status é ß 你好 🚀 run `make test` && echo \"$HOME\" | tee 'x' > /dev/null; 100% done, push"
    text = "\n".join(f"Step {n + 1}: {line}" for n in range(5))
    return (text + " " + "·" * length)[:length]


def _wait_all(windows, counts: list[int], timeout: float = 5.0) -> list[str | None]:
    """Each window's newest submission once it has one more than ``counts`` (None: none came)."""
    deadline = time.monotonic() + timeout
    out: list[str | None] = [None] * len(windows)
    while time.monotonic() < deadline and None in out:
        for i, (window, before) in enumerate(zip(windows, counts, strict=True)):
            got = window.submissions()
            if len(got) > before:
                out[i] = got[-1]
        time.sleep(0.01)
    return out


def _dispatch_round(windows, text: str, folder: Path, stagger: float | None) -> tuple[float, int, list[str]]:
    from quarterdeck.core.compose.submit import submit
    from quarterdeck.core.dispatch.dispatcher import Dispatcher
    from quarterdeck.core.models import Agent, GuiTransport, Message
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.store import Store
    from quarterdeck.core.transports.gui.desk_return import DeskReturn
    from quarterdeck.core.transports.gui.screenlock import ScreenLock
    from quarterdeck.core.transports.gui.transport import GuiDelivery

    agents = tuple(Agent(id=w.name, transport=GuiTransport(chat=w.input_point)) for w in windows)
    lock = ScreenLock(folder / "screen.lock")
    store = Store(folder / f"bench-{time.monotonic_ns()}.sqlite3")
    extra = {} if stagger is None else {"stagger": stagger}
    dispatcher = Dispatcher(store, Roster(agents=agents), **extra, desk_return=DeskReturn(),
                            transport_factory=lambda a: GuiDelivery(a.transport, screen_lock=lock, agent=a.id))
    events = []
    dispatcher.add_listener(lambda e: events.append(e) if e.state in ("delivered", "failed", "retrying") else None)
    counts = [len(w.submissions()) for w in windows]
    start = time.perf_counter()
    submit(store, dispatcher.roster, Message(sender="Captain", type="broadcast", recipients=[], content=text))
    while dispatcher.process_next() is not None:
        pass
    took = time.perf_counter() - start
    got = _wait_all(windows, counts)
    store.close()
    exact = sum(1 for g in got if g is not None and g.endswith(text))
    problems = [f"{e.agent_id}: {e.outcome} {e.detail}" for e in events if e.verdict != "submitted"]
    return took, exact, problems


def _unverified_round(windows, text: str) -> tuple[float, int, list[str]]:
    from quarterdeck.core.delivery.contract import DeliveryRequest
    from quarterdeck.core.models import GuiTransport
    from quarterdeck.core.transports.gui.transport import GuiDelivery

    counts = [len(w.submissions()) for w in windows]
    start = time.perf_counter()
    for w in windows:
        GuiDelivery(GuiTransport(chat=w.input_point), read_back=None, agent=w.name).deliver(
            DeliveryRequest(agent_id=w.name, text=text), threading.Event())
    took = time.perf_counter() - start
    got = _wait_all(windows, counts)
    return took, sum(1 for g in got if g == text), []


def _bare_round(windows, text: str) -> tuple[float, int, list[str]]:
    import pyautogui

    from quarterdeck.core.desktop.clipboard.x11 import shared_x11_clipboard

    pyautogui.PAUSE = 0.0
    offer = shared_x11_clipboard().set(text)  # held for the whole loop: Chromium may re-read it
    counts = [len(w.submissions()) for w in windows]
    start = time.perf_counter()
    for w in windows:
        pyautogui.click(*w.input_point)
        mark = offer.mark()
        pyautogui.hotkey("ctrl", "v")
        offer.wait_taken(mark, 1.0)
        offer.wait_quiet(0.03, 1.0)
        pyautogui.press("enter")
    took = time.perf_counter() - start
    got = _wait_all(windows, counts)
    return took, sum(1 for g in got if g == text), []


RUNS = {
    "send": "broadcast via dispatcher, defaults",
    "send-0": "broadcast via dispatcher, stagger 0",
    "unverified": "GuiDelivery, read-back off",
    "bare": "bare click-paste-Enter, PAUSE 0",
}


def run(rounds: int) -> int:
    from chromium_desk import ChromiumDesk, missing_tools

    from quarterdeck.core.transports.gui.guard import SHARED_GUARD
    from quarterdeck.core.transports.gui.transport import load_pyautogui

    missing = missing_tools()
    if missing:
        raise SystemExit(f"bench_chromium_delivery: missing tools: {', '.join(missing)}")
    load_pyautogui()
    text = message()
    print(f"Chromium delivery bench: {AGENTS} chat windows (4 contenteditable, 4 textarea, one browser), "
          f"{len(text)}-character message ({text.count(chr(10)) + 1} lines), {rounds} rounds each")
    rows: dict[str, list[tuple[float, int, list[str]]]] = {name: [] for name in RUNS}
    with tempfile.TemporaryDirectory(prefix="qd-bench-chromium-") as folder:
        desk = ChromiumDesk(Path(folder))
        try:
            windows = desk.start(AGENTS // 2, kind="contenteditable") + desk.start(AGENTS // 2, kind="textarea")
            for name in RUNS:
                for _ in range(rounds):
                    SHARED_GUARD.forget()
                    if name.startswith("send"):
                        row = _dispatch_round(windows, text, Path(folder), None if name == "send" else 0.0)
                    elif name == "unverified":
                        row = _unverified_round(windows, text)
                    else:
                        row = _bare_round(windows, text)
                    rows[name].append(row)
                    time.sleep(0.3)
        finally:
            desk.close()
    print(f"{'':38} {'median (s)':>10} {'exact':>7}   per round")
    median = {}
    for name, label in RUNS.items():
        got = rows[name]
        median[name] = statistics.median(r[0] for r in got)
        exact = sum(r[1] for r in got)
        print(f"{label:38} {median[name]:10.3f} {exact:>3}/{AGENTS * len(got):<3}   "
              f"[{' '.join(f'{r[0]:.3f}' for r in got)}]")
    problems = [p for name in ("send", "send-0") for r in rows[name] for p in r[2]]
    print(f"verdicts other than submitted: {len(problems)}" + "".join(f"\n  {p}" for p in problems[:8]))
    evidence = (median["send-0"] - median["unverified"]) / AGENTS * 1000
    print(f"per agent: dispatcher defaults {median['send'] / AGENTS * 1000:.0f} ms; read-back evidence "
          f"{evidence:.0f} ms (stagger 0 minus read-back off); bare loop {median['bare'] / AGENTS * 1000:.0f} ms")
    ratio = median["send-0"] / median["bare"]
    print(f"target total (dispatcher, defaults) <= {TARGET_TOTAL} s: "
          f"{'met' if median['send'] <= TARGET_TOTAL else 'MISSED'} ({median['send']:.3f} s)")
    print(f"target stagger 0 within {TARGET_RATIO:g}x of the bare loop: {'met' if ratio <= TARGET_RATIO else 'MISSED'} "
          f"({ratio:.1f}x)")
    failed = bool(problems) or any(r[1] != AGENTS for name in RUNS for r in rows[name])
    if failed:
        print("FAIL: some window did not receive the message exactly, or a verdict was not submitted")
    return 1 if failed else 0


def main() -> None:
    bench_main(__file__, __doc__, run, rounds=3)


if __name__ == "__main__":
    main()
