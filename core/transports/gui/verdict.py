"""The verdict of a GUI delivery once its submit keys were pressed, and the read-back behind it.

``watch_target`` finds the input to read back for the window a delivery clicked (the agent's
bound window, else the application window under the click); ``verdict_after_submit`` turns what
that input shows after the submit keys into ``submitted`` (it emptied: pressed once more if it
did not at first) or ``unverified`` (no read-back, or the input could not be read afterwards),
and raises ``TypedNotSubmitted`` when the text stays after the second press. Without read-back, a
``PixelWatch`` (``quarterdeck.core.transports.gui.pixels``) may still make it ``submitted``, never a failure.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeAlias

from quarterdeck.core.delivery.errors import SUBMITTED, UNVERIFIED, TypedNotSubmitted, Verdict
from quarterdeck.core.transports.gui.evidence import READ_BACK, InputWatch, watch_input
from quarterdeck.core.transports.gui.pixels import PixelWatch, watch_pixels

if TYPE_CHECKING:
    from typing import Literal

    from quarterdeck.core.desktop.atspi import AccessibilityReader
    from quarterdeck.core.desktop.clipboard.snapshot import ClipboardOffer
    from quarterdeck.core.desktop.window_match import Window
    from quarterdeck.core.transports.gui.windows import Target

__all__ = ["DETAIL", "DETAIL_READ", "ReadBack", "verdict_after_submit", "watch_target"]

ReadBack: TypeAlias = "Literal['auto'] | AccessibilityReader | None"  # "auto": the shared reader; None: off

log = logging.getLogger(__name__)

DETAIL = "keys sent; arrival not verifiable"
DETAIL_READ = "the window read the pasted text off the clipboard"  # X11Clipboard saw it: not proof of arrival


def watch_target(agent: str, target: Target, read_back: ReadBack, *,
                 x11: bool) -> tuple[InputWatch | None, str, PixelWatch | None]:
    """(a read-back watch on the agent's input or None, why not, a pixel watch where there is no
    read-back). ``read_back``: "auto" (the shared accessibility reader), None (off: no evidence
    at all), or a reader. The window is found once, for both."""
    if read_back is None:
        return None, "read-back is off for this agent", None
    window = target.window if target.window is not None else _window_at(target.point, x11)
    if window is None:
        watch, why = None, "no application window under the click"
    else:
        watch, why = watch_input(agent, window.pid, window.title or None,
                                 reader=None if read_back == "auto" else read_back)
    pixels = watch_pixels(target.point, window) if watch is None and x11 else None
    return watch, why, pixels


def _window_at(point: tuple[int, int], x11: bool) -> Window | None:
    if not x11:
        return None
    try:
        from quarterdeck.core.transports.gui.windows import topmost_at

        return topmost_at(point)
    except Exception as exc:  # WindowsUnavailable, or an X error on a window that just closed
        log.debug("no window at %s: %s", point, exc)
        return None


def _by_pixels(pixels: PixelWatch | None, keys: str, unverified: str) -> tuple[Verdict, str]:
    """Without read-back: ``submitted`` when the input box's pixels changed with the paste and came
    back to the empty look after the submit keys (``quarterdeck.core.transports.gui.pixels``); otherwise still
    ``unverified``, with what the pixels showed. Pixels never fail a delivery."""
    if pixels is None:
        return UNVERIFIED, unverified
    cleared = pixels.cleared()
    log.debug("pixel evidence: %s", pixels.cost)
    if cleared:
        return SUBMITTED, pixels.evidence(keys, cleared=True)
    return UNVERIFIED, f"{unverified}; {pixels.evidence(keys, cleared=False)}"


def verdict_after_submit(gui: Any, watch: InputWatch | None, no_watch: str, offer: ClipboardOffer | None,
                         submit: tuple[str, ...], agent: str, pixels: PixelWatch | None = None) -> tuple[Verdict, str]:
    """(verdict, evidence) once the submit keys were pressed (see the module docstring)."""
    keys = "+".join(submit)
    if watch is None:
        seen = DETAIL_READ if getattr(offer, "sees_reads", False) else DETAIL
        unverified = f"{seen}; no read-back: {no_watch}" if no_watch else seen
        return _by_pixels(pixels, keys, unverified)
    left = watch.submitted()
    if left is None:
        return UNVERIFIED, (f"the input held the text, then could not be read after {keys} "
                            f"({watch.reader.reason or 'unknown'})")
    if left:
        return SUBMITTED, f"{READ_BACK}: it held the text, then emptied on {keys}"
    gui.hotkey(*submit)  # the pane missed the first press (busy, or it came too soon): once more
    if watch.submitted():
        return SUBMITTED, f"{READ_BACK}: it held the text, then emptied on a second {keys}"
    raise TypedNotSubmitted(
        f"{agent}'s message is in its input but {keys} did not send it (pressed twice); it was not "
        "pasted again: send it from the pane or clear it", evidence=READ_BACK)
