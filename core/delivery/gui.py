"""Deliver into a chat pane of a GUI editor (Cursor, VS Code) by clicking its input and pasting.

One delivery, under the machine-wide screen lock:

1. Stop if the pointer sits in a fail-safe corner (``EmergencyStop``: the user's stop-all) or is
   not where Quarterdeck last left it (``HumanActivity``: a person is using the mouse).
2. Save the user's clipboard.
3. Click the chat input. Onboarding: click it, press the new-chat keys, wait for the new chat,
   then click the onboarding input (the chat input when none is configured).
4. Put the text on the clipboard, wait until the clicked window has the keyboard focus (asked of
   the X server; elsewhere a fixed ``settle``), clear the input (only with
   ``clear_before_paste``) and press the paste keys.
5. Wait until the focused window has read the text off the clipboard (X11: the clipboard owner
   sees it take the text; elsewhere a fixed ``settle``); if it never does, nothing is submitted
   (``RetryableError``).
6. Press the submit keys (urgent: the urgent ones) and restore the user's clipboard.

Text always goes through the clipboard: ``pyautogui.write`` drops non-ASCII characters and presses
Enter at every newline. ``pyautogui.PAUSE`` is set to ``pause`` on every delivery, so the only
waits are the explicit settles. A chat pane cannot be read back, so every receipt says
``confirmed=False``. Stop-all (``stop``) is honoured until the paste; after that the short rest of
the sequence completes so no half-typed message is left behind.

PyAutoGUI is imported on first use: importing it needs a display.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
import warnings
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from core.delivery.base import DeliveryError, DeliveryRequest, PermanentError, Receipt, RetryableError
from core.delivery.clipboard import ClipboardError, ClipboardLike, ClipboardUnavailable, system_clipboard
from core.delivery.focus import focus_probe
from core.delivery.pointer import SHARED_GUARD, HumanActivity, PointerGuard
from core.resilience.retry import Cancelled

__all__ = ["DETAIL", "DETAIL_READ", "EmergencyStop", "GuiDelivery", "HumanActivity", "load_pyautogui"]

log = logging.getLogger(__name__)

DETAIL = "keys sent; arrival not verifiable"
DETAIL_READ = "the window read the pasted text; the chat cannot be read back"  # X11Clipboard saw it
_X11 = sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))


class EmergencyStop(DeliveryError):
    """PyAutoGUI's fail-safe fired (pointer in a screen corner): the user wants everything stopped."""

    retryable = False
    stops_everything = True


def load_pyautogui() -> Any:
    """Import PyAutoGUI, or raise ``PermanentError`` naming why no display can be driven."""
    try:
        import tkinter  # noqa: F401
    except ImportError:
        # PyAutoGUI imports MouseInfo as optional, but MouseInfo calls sys.exit() when tkinter is
        # missing (a Python without python3-tk); marked absent, PyAutoGUI does without it
        sys.modules.setdefault("mouseinfo", None)
    try:
        with warnings.catch_warnings():
            # python-xlib opens the Xauthority file without closing it.
            warnings.filterwarnings("ignore", category=ResourceWarning, module=r"Xlib(\.|$)")
            import pyautogui
    except Exception as exc:  # KeyError('DISPLAY'), XauthError, DisplayConnectionError, ...
        raise PermanentError(f"no display to drive for GUI delivery: {type(exc).__name__}: {exc}") from exc
    return pyautogui


def _screens() -> list:
    from core.screens import detect_screens

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ResourceWarning, module=r"Xlib(\.|$)")
        return detect_screens()


class GuiDelivery:
    """Click-and-paste delivery into one agent's chat pane (``settings``: a ``GuiTransport``)."""

    kind = "gui"

    def __init__(
        self,
        settings: Any,
        *,
        screen_lock: Any = None,
        clipboard: ClipboardLike | None = None,
        settle: float = 0.05,
        pause: float = 0.0,
        guard: PointerGuard | None = None,
        new_chat_wait: float = 1.0,
        fetch_timeout: float = 1.0,
        focus: Any = "auto",
    ) -> None:
        self.settings = settings
        self.screen_lock = screen_lock
        self._clipboard = clipboard
        self.settle = settle
        self.pause = pause
        self.guard = guard if guard is not None else SHARED_GUARD
        self.new_chat_wait = new_chat_wait
        self.fetch_timeout = fetch_timeout
        self._focus_probe = focus_probe() if focus == "auto" else focus

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> GuiDelivery:
        """A delivery holding the machine-wide screen lock, as the dispatcher uses it."""
        from core.delivery.screenlock import ScreenLock

        kwargs.setdefault("screen_lock", ScreenLock())
        return cls(settings, **kwargs)

    def __repr__(self) -> str:
        return f"GuiDelivery(chat={tuple(self.settings.chat)})"

    # -- delivery -------------------------------------------------------------------------------

    def deliver(self, request: DeliveryRequest, stop: threading.Event) -> Receipt:
        if not request.text:
            raise PermanentError("empty message: nothing to paste")
        if stop.is_set():
            raise Cancelled("stopped before the GUI delivery began")
        gui = load_pyautogui()
        with self._hold(stop):
            try:
                return self._deliver(gui, request, stop)
            except gui.FailSafeException as exc:
                raise EmergencyStop(
                    f"fail-safe: pointer moved to a screen corner {tuple(gui.position())}; all GUI delivery stops"
                ) from exc

    def _hold(self, stop: threading.Event) -> AbstractContextManager:
        lock = self.screen_lock
        if lock is None:
            return nullcontext()
        hold = getattr(lock, "hold", None)
        return hold(stop) if hold is not None else lock(stop)

    def _clip(self) -> ClipboardLike:
        if self._clipboard is None or not getattr(self._clipboard, "alive", True):  # X server restarted
            try:
                self._clipboard = system_clipboard()
            except ClipboardUnavailable as exc:
                raise PermanentError(str(exc)) from exc
        return self._clipboard

    def _deliver(self, gui: Any, request: DeliveryRequest, stop: threading.Event) -> Receipt:
        gui.PAUSE = self.pause
        gui.failSafeCheck()
        self.guard.verify(self._pointer(gui))
        clip = self._clip()
        try:
            snapshot = clip.save()
        except ClipboardError as exc:
            raise RetryableError(f"could not read the clipboard: {exc}") from exc
        offer = None
        try:
            point = self._focus(gui, request, stop)
            clicked_at = time.monotonic()
            try:
                offer = clip.set(request.text)
            except ClipboardUnavailable as exc:
                raise PermanentError(str(exc)) from exc
            except ClipboardError as exc:
                raise RetryableError(f"could not set the clipboard: {exc}") from exc
            self._await_focus(point, clicked_at, stop)
            self._still_at(gui, point, pasted=False)
            if self.settings.clear_before_paste:
                gui.hotkey("ctrl", "a")
                gui.press("delete")
            self._paste(gui, offer, point)
            self._still_at(gui, point, pasted=True)
            submit = self.settings.urgent_submit_keys if request.priority == "urgent" else self.settings.submit_keys
            gui.hotkey(*submit)
        finally:
            problem = self._restore(clip, snapshot, offer)
        detail = DETAIL_READ if getattr(offer, "sees_reads", False) else DETAIL
        return Receipt(self.kind, False, detail if problem is None else f"{detail}; {problem}")

    def _focus(self, gui: Any, request: DeliveryRequest, stop: threading.Event) -> tuple[int, int]:
        chat = tuple(self.settings.chat)
        self._click(gui, chat, stop)
        if not request.onboarding:
            return chat
        self._await_focus(chat, time.monotonic(), stop)
        gui.hotkey(*self.settings.new_chat_keys)
        self._wait(self.new_chat_wait, stop)
        target = tuple(self.settings.onboarding) if self.settings.onboarding is not None else chat
        self._click(gui, target, stop)
        return target

    def _await_focus(self, point: tuple[int, int], clicked_at: float, stop: threading.Event) -> None:
        """Until the clicked window has the keyboard focus (asked of X), else a fixed settle."""
        probe = self._focus_probe
        if probe is None:
            self._wait(clicked_at + self.settle - time.monotonic(), stop)
            return
        if probe.wait_focused(point, self.fetch_timeout, stop):
            return
        self._wait(0, stop)
        raise RetryableError(f"the click at {point} did not give the window under it the keyboard focus "
                             f"within {self.fetch_timeout:g} s; nothing typed")

    def _click(self, gui: Any, point: tuple[int, int], stop: threading.Event) -> None:
        self._wait(self.guard.wait_before_click(point), stop)
        gui.click(*point)
        self.guard.clicked(point)

    def _paste(self, gui: Any, offer: Any, point: tuple[int, int]) -> None:
        if offer is None:
            gui.hotkey(*self.settings.paste_keys)
            time.sleep(self.settle)
            return
        mark = offer.mark()
        gui.hotkey(*self.settings.paste_keys)
        if not offer.wait_taken(mark, self.fetch_timeout):
            raise RetryableError(
                f"no window read the clipboard within {self.fetch_timeout:g} s of the paste keys "
                f"{'+'.join(self.settings.paste_keys)} at {point}: the click did not focus a text input; "
                "nothing submitted"
            )

    def _restore(self, clip: ClipboardLike, snapshot: Any, offer: Any) -> str | None:
        try:
            clip.restore(snapshot, offer)
        except ClipboardError as exc:
            log.warning("could not restore the user's clipboard: %s", exc)
            return f"the user's clipboard could not be restored: {exc}"
        return None

    @staticmethod
    def _wait(seconds: float, stop: threading.Event) -> None:
        stopped = stop.wait(seconds) if seconds > 0 else stop.is_set()
        if stopped:
            raise Cancelled("stopped during the GUI delivery, before the paste")

    def _pointer(self, gui: Any) -> tuple[int, int]:
        x, y = gui.position()
        return int(x), int(y)

    def _still_at(self, gui: Any, point: tuple[int, int], *, pasted: bool) -> None:
        gui.failSafeCheck()
        actual = self._pointer(gui)
        if abs(actual[0] - point[0]) > self.guard.tolerance or abs(actual[1] - point[1]) > self.guard.tolerance:
            raise HumanActivity(point, actual, pasted=pasted)

    # -- health ---------------------------------------------------------------------------------

    def _points(self) -> list[tuple[str, tuple[int, int]]]:
        points = [("chat", tuple(self.settings.chat))]
        if self.settings.onboarding is not None:
            points.append(("onboarding", tuple(self.settings.onboarding)))
        return points

    def check(self) -> str | None:
        """None when every configured point can be clicked now, else why not."""
        if _X11 and not os.environ.get("DISPLAY"):
            return "no X display: DISPLAY is not set"
        if _X11:
            try:
                self._clip()  # this process's own X clipboard, or xclip where python-xlib cannot connect
            except PermanentError as exc:
                return str(exc)
        try:
            gui = load_pyautogui()
        except PermanentError as exc:
            return str(exc)
        screens = _screens() if _X11 else []
        for name, point in self._points():
            if screens:
                if not any(s.contains(*point) for s in screens):
                    from core.screens import describe_screens

                    return f"{name} point {point} is on no screen (screens: {describe_screens(screens)})"
            elif _X11 and not gui.onScreen(*point):
                width, height = gui.size()
                return f"{name} point {point} is outside the {width}x{height} screen"
            if gui.FAILSAFE and point in gui.FAILSAFE_POINTS:
                return f"{name} point {point} is a fail-safe corner: clicking it would stop all GUI delivery"
        return None
