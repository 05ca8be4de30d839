"""Who has the keyboard: a person typing during a GUI delivery pauses it, like a moved pointer.

Between Quarterdeck's click into an agent's input and its paste, and again between the paste
and the submit keys, a key pressed by a person would land in the agent's input (or steal the
focus): ``check`` raises ``KeyboardActivity`` (a ``HumanActivity``), so the dispatcher pauses GUI
delivery when nothing was typed yet, and fails the delivery (no second paste) when it was.

How a person's key is told from Quarterdeck's own. **XInput2 raw key events**, chosen over the
X idle time: every raw event names the slave device it came from (``sourceid``). PyAutoGUI,
xdotool and every other XTEST client press keys through the server's XTEST keyboard of the
master device ("Virtual core XTEST keyboard"), while a person's keys come from a physical
keyboard device ("AT Translated Set 2 keyboard", a USB keyboard, "xwayland-keyboard"...). The
idle time (XScreenSaver / the XSync IDLETIME counter) is reset by our own XTEST keys too, so it
could only be compared with the moments we pressed keys: a person's key within a few ms of ours
is lost, and its timing races with the server. Raw events are delivered to the root window
whatever window has the focus and whatever grabs are active (XInput 2.2).

What is and is not told apart (be honest about it):
- Told apart: keys from any keyboard device that is not an XTEST device, i.e. a person at a
  local keyboard, also while another window has the focus.
- Not told apart: keys injected through XTEST by another program (xdotool, a remote-desktop
  server such as x11vnc, an on-screen keyboard using XTEST) count as not a person, like ours.
- Only presses count: the release of a key held since before the click does not pause.
- Under Wayland (Xwayland), keys reach X clients only while an X window has the focus.
- No XInput 2.2, no libXi, or an X server that leaves ``sourceid`` 0: no keyboard detection at
  all (``watcher()`` returns None; the reason is logged once). Pointer detection still works.

``synthetic`` decides which device names count as not a person; tests pass their own.
"""
from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from quarterdeck.core.delivery.errors import HumanActivity, RetryableError
from quarterdeck.core.desktop.x11.input2 import RawKey, XI2Connection, XI2Error

log = logging.getLogger(__name__)

__all__ = ["KeyWatcher", "KeyboardActivity", "Press", "check", "from_a_person", "mark", "watcher"]

Point = tuple[int, int]


def xtest_keyboard(name: str) -> bool:
    """The default ``synthetic``: the XTEST keyboard of any master device."""
    return name.endswith("XTEST keyboard")


def from_a_person(sourceid: int, names: dict[int, str], synthetic: Callable[[str], bool] = xtest_keyboard) -> bool:
    """Whether a key from device ``sourceid`` (``names``: id → device name) was pressed by a person.
    A device no longer listed (unplugged meanwhile) counts as a person: pausing is the safe side."""
    name = names.get(sourceid)
    return name is None or not synthetic(name)


@dataclass(frozen=True)
class Press:
    at: float  # time.monotonic() when the watcher read it
    device: str
    sourceid: int
    keycode: int


class KeyboardActivity(HumanActivity):
    """A person pressed keys since Quarterdeck clicked the agent's input."""

    def __init__(self, presses: list[Press], point: Point, *, pasted: bool = False) -> None:
        devices = ", ".join(sorted({f"“{p.device}”" for p in presses}))
        what = "text pasted but not submitted" if pasted else "nothing typed"
        RetryableError.__init__(
            self, f"someone is typing: {len(presses)} key press{'es' if len(presses) != 1 else ''} on {devices} "
                  f"since Quarterdeck clicked at {point}; {what}")
        self.expected = self.actual = point
        self.pasted = pasted
        self.retryable = not pasted
        self.presses = presses


class KeyWatcher:
    """Reads raw key presses on its own X connection and thread; ``mark``/``since`` are
    thread-safe and exact: both first make a round trip, so a key the server saw before the call
    is counted."""

    def __init__(self, *, display_name: str | None = None, synthetic: Callable[[str], bool] = xtest_keyboard,
                 keep: int = 256) -> None:
        self.synthetic = synthetic
        self.keep = keep
        self.conn = XI2Connection(display_name)
        self.names = self.conn.devices()
        self.presses: list[Press] = []  # a person's, the last ``keep``
        self.count = 0  # a person's presses ever seen
        self.blind = False  # the server gave no source devices: nothing can be told apart
        self._cond = threading.Condition()
        self._asked = self._served = 0
        self._closed = False
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="x11-keyboard", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return not self._closed and not self.conn.dead

    def mark(self, timeout: float = 0.25) -> int:
        """A point to count a person's presses from."""
        self._round_trip(timeout)
        with self._cond:
            return self.count

    def since(self, mark: int, timeout: float = 0.25) -> list[Press]:
        """A person's presses after ``mark`` (at most the last ``keep``)."""
        self._round_trip(timeout)
        with self._cond:
            new = self.count - mark
            return list(self.presses[-new:]) if new > 0 else []

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            os.write(self._wake_w, b"x")
        self._thread.join(2.0)

    def _round_trip(self, timeout: float) -> None:
        with self._cond:
            if not self.alive:
                return
            self._asked += 1
            want = self._asked
            os.write(self._wake_w, b"x")
            if not self._cond.wait_for(lambda: self._served >= want or not self.alive, timeout):
                log.debug("the keyboard watcher did not answer within %g s", timeout)

    # -- on the watcher's thread ------------------------------------------------------------
    def _run(self) -> None:
        conn = self.conn
        try:
            while not self._closed and not conn.dead:
                ready, _, _ = select.select([conn.fileno(), self._wake_r], [], [], 5.0)
                if self._wake_r in ready:
                    os.read(self._wake_r, 4096)
                with self._cond:
                    serving = self._asked
                conn.sync()
                self._take(conn.events())
                with self._cond:
                    self._served = serving
                    self._cond.notify_all()
        except Exception:
            log.exception("the keyboard watcher failed")
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()
                os.close(self._wake_r)
                os.close(self._wake_w)
            conn.close()

    def _take(self, events: list[RawKey | str]) -> None:
        for ev in events:
            if ev == "hierarchy":
                self.names = self.conn.devices()
                continue
            assert isinstance(ev, RawKey)
            if ev.sourceid == 0:  # an X server too old to say where keys come from
                if not self.blind:
                    log.warning("the X server does not say which device a key came from: "
                                "a person typing cannot be told from Quarterdeck's own keys")
                self.blind = True
                continue
            if ev.sourceid not in self.names:
                self.names = self.conn.devices()
            if from_a_person(ev.sourceid, self.names, self.synthetic):
                press = Press(time.monotonic(), self.names.get(ev.sourceid, f"device {ev.sourceid}"),
                              ev.sourceid, ev.keycode)
                with self._cond:
                    self.presses = [*self.presses, press][-self.keep:]
                    self.count += 1


_shared: KeyWatcher | None = None
_failed: str | None = None
_lock = threading.Lock()


def watcher() -> KeyWatcher | None:
    """The process's watcher, started on first use; None where none can run (logged once)."""
    global _shared, _failed
    with _lock:
        if _shared is not None and _shared.alive:
            return _shared
        display = os.environ.get("DISPLAY")
        if not display:
            return None
        if _failed is not None and _failed.startswith(f"{display}:"):
            return None
        try:
            _shared = KeyWatcher()
        except XI2Error as exc:
            _failed = f"{display}: {exc}"
            log.warning("no detection of a person typing during GUI delivery: %s", exc)
            return None
        return _shared


def mark() -> tuple[KeyWatcher, int] | None:
    """Call right before clicking an agent's input; hand the result to ``check``."""
    keys = watcher()
    return None if keys is None else (keys, keys.mark())


def check(marked: tuple[KeyWatcher, int] | None, point: Point, *, pasted: bool) -> None:
    """Raise ``KeyboardActivity`` if a person pressed a key since ``marked``."""
    if marked is None:
        return
    presses = marked[0].since(marked[1])
    if presses:
        raise KeyboardActivity(presses, point, pasted=pasted)
