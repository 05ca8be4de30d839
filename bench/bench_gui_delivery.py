"""Broadcast a 500-character message to 8 xterm agents through GuiDelivery and time it.

Prints, for the same run and the same windows:
- a broadcast through the outbox and the dispatcher, with the default stagger and with none;
- GuiDelivery alone with its defaults (screen lock, the user's clipboard saved and restored, the
  pointer guard, the X focus probe, and waiting until each window has read the text);
- a bare loop (clipboard set once, then click, paste, Enter per agent with PAUSE 0), and the same
  loop with PyAutoGUI's default PAUSE of 0.1 s;
- the ratios, against the targets: total <= 1.5 s, and within 3x of the bare loop.

Every round checks that each xterm received the message byte-exact. Runs itself on a private
Xvfb display (scripts/with-xvfb.sh) when DISPLAY is unset. ``--rounds N`` (default 3).
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
    line = "Agent status: é ß 你好 🚀 run `make test` && echo \"$HOME\" | tee 'x' > /dev/null; 100% done"
    text = "\n".join([f"[C2A] Captain → Agent-{n % 8 + 1} | {line}" for n in range(8)])
    return text[:length].rstrip()


def _arrive(terms, expected: list[bytes], timeout: float) -> list:
    """The terminals whose file did not become exactly ``expected`` within ``timeout``."""
    return [t for t, data in zip(terms, expected, strict=True) if t.wait_for(data, timeout) != data]


def _flush(terms) -> None:
    """Submit whatever a failed round left unsubmitted, so the next round starts clean."""
    import pyautogui

    pyautogui.PAUSE = 0.1
    for term in terms:
        pyautogui.click(*term.point)
        pyautogui.press("enter")
    time.sleep(0.5)


def _gui_round(terms, text: str, lock_path: Path) -> tuple[float, float, int]:
    from xterm_desk import XTERM_PASTE

    from quarterdeck.core.delivery.contract import DeliveryRequest
    from quarterdeck.core.models import GuiTransport
    from quarterdeck.core.transports.gui.screenlock import ScreenLock
    from quarterdeck.core.transports.gui.transport import GuiDelivery

    lock = ScreenLock(lock_path)
    deliveries = [GuiDelivery(GuiTransport(chat=t.point, paste_keys=XTERM_PASTE), screen_lock=lock)
                  for t in terms]
    expected = [t.read() + text.encode() + b"\n" for t in terms]
    stop = threading.Event()
    start = time.perf_counter()
    for n, delivery in enumerate(deliveries):
        delivery.deliver(DeliveryRequest(agent_id=f"Agent-{n + 1}", text=text), stop)
    keys = time.perf_counter() - start
    wrong = _arrive(terms, expected, 5.0)
    return keys, time.perf_counter() - start, wrong


def _bare_round(terms, text: str, pause: float) -> tuple[float, float, int]:
    import pyautogui
    from xterm_desk import XTERM_PASTE

    from quarterdeck.core.desktop.clipboard.snapshot import EMPTY
    from quarterdeck.core.desktop.clipboard.xclip import XclipClipboard

    expected = [t.read() + text.encode() + b"\n" for t in terms]
    clip = XclipClipboard()
    pyautogui.PAUSE = pause
    start = time.perf_counter()
    offer = clip.set(text)
    for term in terms:
        pyautogui.click(*term.point)
        pyautogui.hotkey(*XTERM_PASTE)
        pyautogui.press("enter")
    keys = time.perf_counter() - start
    wrong = _arrive(terms, expected, 1.0)
    total = time.perf_counter() - start
    clip.restore(EMPTY, offer)
    return keys, total, wrong


def _dispatch_round(terms, text: str, folder: Path, stagger: float | None) -> tuple[float, float, list]:
    """The user's path: a broadcast through the outbox and the dispatcher, the stagger as given."""
    from xterm_desk import XTERM_PASTE

    from quarterdeck.core.compose.submit import submit
    from quarterdeck.core.dispatch.dispatcher import Dispatcher
    from quarterdeck.core.models import Agent, GuiTransport, Message
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.store import Store
    from quarterdeck.core.transports.gui.desk_return import DeskReturn
    from quarterdeck.core.transports.gui.screenlock import ScreenLock
    from quarterdeck.core.transports.gui.transport import GuiDelivery

    agents = tuple(Agent(id=f"Agent-{n + 1}", transport=GuiTransport(chat=t.point, paste_keys=XTERM_PASTE))
                   for n, t in enumerate(terms))
    lock = ScreenLock(folder / "screen.lock")
    store = Store(folder / f"bench-{time.monotonic_ns()}.sqlite3")
    extra = {} if stagger is None else {"stagger": stagger}
    dispatcher = Dispatcher(store, Roster(agents=agents), **extra, desk_return=DeskReturn(),
                            transport_factory=lambda a: GuiDelivery(a.transport, screen_lock=lock))
    message = Message(sender="Captain", type="broadcast", recipients=[], content=text)
    expected = [t.read() + f"[C2A] Captain → {a.id} | BROADCAST\n{text}\n".encode()
                for t, a in zip(terms, agents, strict=True)]
    dispatcher.add_listener(lambda e: e.state == "retrying" and RETRIES.append(f"{e.agent_id}: {e.detail}"))
    start = time.perf_counter()
    submit(store, dispatcher.roster, message)
    while dispatcher.process_next() is not None:
        pass
    keys = time.perf_counter() - start
    wrong = _arrive(terms, expected, 5.0)
    store.close()
    return keys, time.perf_counter() - start, wrong


RETRIES: list[str] = []  # retried attempts of the dispatcher rounds, with the reason

RUNS = {
    "send": "broadcast via dispatcher, defaults",
    "send-0": "broadcast via dispatcher, stagger 0",
    "gui": "GuiDelivery, default settings",
    "bare": "bare click-paste-Enter, PAUSE 0",
    "bare-pause": "bare click-paste-Enter, PAUSE 0.1",
}


def run(rounds: int) -> int:
    from xterm_desk import XtermPool, missing_tools

    from quarterdeck.core.transports.gui.guard import SHARED_GUARD
    from quarterdeck.core.transports.gui.transport import load_pyautogui

    missing = missing_tools()
    if missing:
        raise SystemExit(f"bench_gui_delivery: missing tools: {', '.join(missing)}")
    load_pyautogui()
    text = message()
    print(f"GUI delivery bench: {AGENTS} xterm agents, {len(text)}-character message "
          f"({text.count(chr(10)) + 1} lines), {rounds} rounds each")
    rows: dict[str, list[tuple[float, float, list]]] = {name: [] for name in RUNS}
    with tempfile.TemporaryDirectory(prefix="qd-bench-gui-") as folder:
        pool = XtermPool(Path(folder))
        try:
            terms = pool.start(AGENTS)
            for name in RUNS:
                for _ in range(rounds):
                    SHARED_GUARD.forget()
                    if name.startswith("send"):
                        row = _dispatch_round(terms, text, Path(folder), None if name == "send" else 0.0)
                    elif name.startswith("gui"):
                        row = _gui_round(terms, text, Path(folder) / "screen.lock")
                    else:
                        row = _bare_round(terms, text, 0.0 if name == "bare" else 0.1)
                    rows[name].append(row)
                    if row[2]:
                        _flush(row[2])
                    time.sleep(0.3)  # no click joins the previous round's click on the same xterm
        finally:
            pool.close()
    return _report(rows)


def _report(rows: dict[str, list[tuple[float, float, list]]]) -> int:
    print(f"{'':34} {'keys sent (s)':>13} {'arrived (s)':>12} {'exact':>7}   (medians; arrival per round)")
    median = {}
    for name, label in RUNS.items():
        got = rows[name]
        keys, total = statistics.median(r[0] for r in got), statistics.median(r[1] for r in got)
        exact = sum(AGENTS - len(r[2]) for r in got)
        median[name] = total
        every = " ".join(f"{r[1]:.3f}" + ("!" if r[2] else "") for r in got)
        print(f"{label:34} {keys:13.3f} {total:12.3f} {exact:>3}/{AGENTS * len(got):<3}   [{every}]")
    print("(! marks a round where some agent did not receive the message exactly; it waited 1-5 s for it)")
    print(f"dispatcher retries: {len(RETRIES)}" + "".join(f"\n  {r}" for r in RETRIES))
    gui_total, bare_total = median["send"], median["bare"]
    ratio = median["send-0"] / bare_total
    print(f"per agent, dispatcher defaults: {gui_total / AGENTS * 1000:.0f} ms; GuiDelivery alone: "
          f"{median['gui'] / AGENTS * 1000:.0f} ms")
    print(f"ratio dispatcher stagger 0 / bare PAUSE 0: {ratio:.1f}x; GuiDelivery alone / bare PAUSE 0: "
          f"{median['gui'] / bare_total:.1f}x; dispatcher defaults / bare PAUSE 0.1: "
          f"{gui_total / median['bare-pause']:.2f}x")
    verdict = "met" if gui_total <= TARGET_TOTAL else "MISSED"
    print(f"target total (dispatcher, defaults) <= {TARGET_TOTAL} s: {verdict} ({gui_total:.3f} s)")
    print(f"target stagger 0 within {TARGET_RATIO:g}x of the bare loop: {'met' if ratio <= TARGET_RATIO else 'MISSED'} "
          f"({ratio:.1f}x)")
    failed = any(r[2] for name in ("send", "send-0", "gui") for r in rows[name])
    if failed:
        print("FAIL: a Quarterdeck delivery did not deliver every message exactly")
    return 1 if failed else 0


def main() -> None:
    bench_main(__file__, __doc__, run, rounds=3)


if __name__ == "__main__":
    main()
