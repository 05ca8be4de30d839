"""Deliver into a GUI chat pane (Cursor, VS Code) by clicking and pasting; say what that proves.

One delivery, under the machine-wide screen lock:

1. Stop if the pointer sits in a fail-safe corner (``EmergencyStop``: the user's stop-all) or is
   not where Quarterdeck last left it (``HumanActivity``: a person is using the mouse). Likewise
   before the paste and before the submit keys: a person pressed keys since the click
   (``KeyboardActivity``, ``quarterdeck.core.transports.gui.keyboard``).
2. Find the agent's window and the point to click in it (``quarterdeck.core.transports.gui.windows``): refused,
   never clicked elsewhere, when the window is gone, ambiguous or stays covered.
3. Save the user's clipboard, click the chat input (onboarding: click, new-chat keys, click the
   onboarding input), and wait until the clicked window has the keyboard focus.
4. Read the input back over accessibility where the window's application exposes it
   (``quarterdeck.core.transports.gui.evidence``). Text already there is a person's draft: the delivery
   pauses (``DraftInInput``), nothing is typed; unless the captain forces it (it is cleared).
5. Put the text on the clipboard and press the paste keys; wait until the pane has read the
   text (X11: the clipboard owner sees the read) and then until it stops asking for the clipboard
   for a quiet moment: Chromium keeps asking while its paste is in progress and drops the paste
   if the clipboard changes owner meanwhile.
6. With read-back: the input must now hold the text (else ``NotTyped``, safe to retry, or
   ``TypedNotSubmitted``). Press the submit keys (urgent: the urgent ones); the input must be
   empty again, else the keys are pressed once more, then ``TypedNotSubmitted``. The verdict is
   ``submitted`` with its evidence. Without read-back the input box's pixels
   (``quarterdeck.core.transports.gui.pixels``) may show ``submitted``; else the verdict is
   ``unverified`` and says why (pixels never fail one).
7. Give the user's clipboard back.

Text always goes through the clipboard: ``pyautogui.write`` drops non-ASCII characters and presses
Enter at every newline. ``pyautogui.PAUSE`` is set to ``pause`` on every delivery, so the only
waits are the explicit ones. Stop-all (``stop``) is honoured until the paste; after that the short
rest of the sequence completes so no half-typed message is left behind. PyAutoGUI is imported
on first use (``quarterdeck.core.transports.gui.driver``): importing it needs a display.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Literal

from quarterdeck.core.delivery.contract import DeliveryRequest, Receipt
from quarterdeck.core.delivery.errors import Cancelled, DeliveryError, HumanActivity, PermanentError, RetryableError
from quarterdeck.core.desktop.clipboard.backends import system_clipboard
from quarterdeck.core.desktop.clipboard.snapshot import ClipboardError, ClipboardLike, ClipboardUnavailable
from quarterdeck.core.desktop.focus import X11FocusProbe, focus_probe
from quarterdeck.core.models import GuiTransport
from quarterdeck.core.transports.gui import keyboard
from quarterdeck.core.transports.gui.check import point_problem
from quarterdeck.core.transports.gui.driver import load_pyautogui
from quarterdeck.core.transports.gui.guard import SHARED_GUARD, DraftInInput, PointerGuard
from quarterdeck.core.transports.gui.screenlock import ScreenHold, ScreenLock
from quarterdeck.core.transports.gui.verdict import DETAIL, DETAIL_READ, ReadBack, verdict_after_submit, watch_target

if TYPE_CHECKING:
    from quarterdeck.core.desktop.clipboard.snapshot import ClipboardOffer, Snapshot
    from quarterdeck.core.transports.gui.windows import Target

__all__ = ["DETAIL", "DETAIL_READ", "EmergencyStop", "GuiDelivery", "HumanActivity", "load_pyautogui"]

log = logging.getLogger(__name__)

_X11 = sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))


class EmergencyStop(DeliveryError):
    """PyAutoGUI's fail-safe fired (pointer in a screen corner): the user wants everything stopped."""

    retryable = False
    stops_everything = True


class GuiDelivery:
    """Click-and-paste delivery into one agent's chat pane (``settings``: a ``GuiTransport``)."""

    kind, marks_typing = "gui", True  # request.typing() right before the input changes

    def __init__(
        self,
        settings: GuiTransport,
        *,
        screen_lock: ScreenHold | Callable[[threading.Event], AbstractContextManager[object]] | None = None,
        clipboard: ClipboardLike | None = None,
        settle: float = 0.05,
        pause: float = 0.0,
        guard: PointerGuard | None = None,
        new_chat_wait: float = 1.0,
        fetch_timeout: float = 1.0,
        focus: X11FocusProbe | Literal["auto"] | None = "auto",
        read_back: ReadBack = "auto",
        quiet: float = 0.03,
        agent: str = "",
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
        self.read_back = read_back  # "auto": the shared accessibility reader; None: no read-back
        self.quiet = quiet
        self.agent = agent or "the agent"

    @classmethod
    def from_settings(cls, settings: GuiTransport, **kwargs: Any) -> GuiDelivery:
        """A delivery holding the machine-wide screen lock, as the dispatcher uses it."""
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

    def _hold(self, stop: threading.Event) -> AbstractContextManager[object]:
        lock = self.screen_lock
        if lock is None:
            return nullcontext()
        return lock.hold(stop) if isinstance(lock, ScreenHold) else lock(stop)

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
        agent = request.agent_id or self.agent
        clip = self._clip()
        try:
            snapshot = clip.save()
        except ClipboardError as exc:
            raise RetryableError(f"could not read the clipboard: {exc}") from exc
        offer: ClipboardOffer | None = None
        try:
            target = self._focus(gui, request, agent, stop)
            point = target.point
            self._await_focus(point, time.monotonic(), stop)
            watch, no_watch, pixels = watch_target(agent, target, self.read_back, x11=_X11)
            clear = self.settings.clear_before_paste or (request.force and watch is not None and bool(watch.draft()))
            if watch is not None and watch.draft() and not clear:
                raise DraftInInput(agent, watch.draft(), point)
            try:
                offer = clip.set(request.text)
            except ClipboardUnavailable as exc:
                raise PermanentError(str(exc)) from exc
            except ClipboardError as exc:
                raise RetryableError(f"could not set the clipboard: {exc}") from exc
            self._still_at(gui, point, pasted=False)
            if request.typing is not None:
                request.typing()  # from here the input changes: the text may arrive
            if clear:
                gui.hotkey("ctrl", "a")
                gui.press("delete")
            self._paste(gui, offer, point)
            if offer is not None:  # the pane may still be pasting: the clipboard must not change yet
                offer.wait_quiet(self.quiet, self.fetch_timeout)
            if watch is not None:
                watch.typed(request.text)
            elif pixels is not None:
                pixels.pasted()  # the input box's look must change (quarterdeck.core.transports.gui.pixels)
            self._still_at(gui, point, pasted=True)
            submit = self.settings.urgent_submit_keys if request.priority == "urgent" else self.settings.submit_keys
            gui.hotkey(*submit)
            verdict, evidence = verdict_after_submit(gui, watch, no_watch, offer, submit, agent, pixels)
        finally:
            problem = self._restore(clip, snapshot, offer)
        where = target.evidence if target.window is not None else ""
        return Receipt(self.kind, verdict, evidence, "; ".join(p for p in (where, problem or "") if p))

    def _focus(self, gui: Any, request: DeliveryRequest, agent: str, stop: threading.Event) -> Target:
        """Click the agent's input (onboarding: open a new chat first); the ``Target`` clicked."""
        chat = self._target("chat", agent, stop)
        self._click(gui, chat.point, stop)
        if not request.onboarding:
            return chat
        self._await_focus(chat.point, time.monotonic(), stop)
        gui.hotkey(*self.settings.new_chat_keys)
        self._wait(self.new_chat_wait, stop)
        kind = "onboarding" if self.settings.onboarding is not None else "chat"
        target = self._target(kind, agent, stop)
        self._click(gui, target.point, stop)
        return target

    def _target(self, kind: str, agent: str, stop: threading.Event) -> Target:
        from quarterdeck.core.transports.gui.windows import resolve_target

        return resolve_target(self.settings, kind, agent=agent, stop=stop)

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
        self._keys = keyboard.mark() if _X11 else None  # a person's key presses count from here
        gui.click(*point)
        self.guard.clicked(point)

    def _paste(self, gui: Any, offer: ClipboardOffer | None, point: tuple[int, int]) -> None:
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

    def _restore(self, clip: ClipboardLike, snapshot: Snapshot, offer: ClipboardOffer | None) -> str | None:
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
        keyboard.check(getattr(self, "_keys", None), point, pasted=pasted)  # KeyboardActivity: someone typed

    # -- health ---------------------------------------------------------------------------------

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
        return point_problem(self.settings, self.agent, gui, x11=_X11)
