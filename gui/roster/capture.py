"""Capturing a screen point: a visible countdown, then wherever the pointer is.

The captain starts a capture, moves the pointer onto the agent's chat input (or onboarding input)
and waits: a one-second ``QTimer`` counts down (nothing blocks, the window stays responsive and
the capture can be cancelled), then the pointer position is read and reported.

Positions are reported in **physical pixels**, because that is what PyAutoGUI clicks at. Qt's
``QCursor.pos()`` is in logical (device-independent) pixels: on a screen scaled 2x, the pointer
at physical (3000, 1000) of a screen whose top-left is (1920, 0) reads (2460, 500). Qt keeps each
screen's top-left corner unscaled and divides distances from it by the screen's device pixel
ratio, so the conversion multiplies them back (``quarterdeck.core.roster.edit.to_physical``).

Then the window under the pointer is read (``window_under``: ``quarterdeck.core.transports.gui.windows.placement_at``,
a few milliseconds over the process's X connection; any failure is a reason, never an exception),
so the agent can be bound to it the way ``quarterdeck agents capture`` binds it: ``sig_located``
carries a ``Captured`` (the point, its ``Placement`` or None, and why there is none). Our own
windows never count: the Targets overlay is transparent for input (a click goes through it, and
so does the lookup), and a Quarterdeck window under the pointer is refused by its pid.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QCursor, QGuiApplication

from quarterdeck.core.models import Agent
from quarterdeck.core.roster.edit import to_physical

if TYPE_CHECKING:
    from quarterdeck.core.roster.capture import PointName
    from quarterdeck.core.transports.gui.windows import Placement


def pointer_position() -> tuple[int, int]:
    """The pointer, in the physical pixels of the virtual desktop (see the module docstring)."""
    pos = QCursor.pos()
    screen = QGuiApplication.screenAt(pos) or QGuiApplication.primaryScreen()
    if screen is None:
        return pos.x(), pos.y()
    origin = screen.geometry().topLeft()
    return to_physical((pos.x(), pos.y()), (origin.x(), origin.y()), screen.devicePixelRatio())


@dataclass(frozen=True)
class Captured:
    """A captured point (physical pixels), the window it is in (a ``Placement``) or why none."""

    point: tuple[int, int]
    placement: Placement | None = None
    why: str = ""

    def describe(self) -> str:
        """``Chromium 'chat-Agent-1' · 520, -70 from its bottom-left corner (follows the window)``."""
        if self.placement is None:
            return f"{self.point[0]}, {self.point[1]} as a screen point only: {self.why}"
        window, at = self.placement.window, self.placement.at
        return (f"{window.class_name or 'a window'} {window.title!r} · {at.offset[0]}, {at.offset[1]} "
                f"from its {at.anchor} corner (follows the window)")


def window_under(point: tuple[int, int]) -> Captured:
    """``point`` with the application window under it, or with the reason there is none."""
    try:
        from quarterdeck.core.transports.gui.windows import placement_at

        placement = placement_at(point)
    except Exception as exc:
        return Captured(point, None, f"the window under the pointer could not be read ({exc})")
    if placement is None:
        return Captured(point, None, "no application window under the pointer (the desktop, a window "
                                     "frame or a menu)")
    if placement.window.pid == os.getpid():
        return Captured(point, None, "the pointer was over Quarterdeck itself, not the agent's window")
    return Captured(point, placement)


class PointCapture(QObject):
    """One countdown at a time; ``start`` while one runs restarts it for the new target."""

    sig_ticked = Signal(int)  # seconds left (emitted at the start and every second)
    sig_located = Signal(object)  # a Captured: the same point with the window under it
    sig_cancelled = Signal()

    def __init__(self, parent: QObject | None = None, *, seconds: int = 3,
                 pointer: Callable[[], tuple[int, int]] | None = None,
                 locate: Callable[[tuple[int, int]], Captured] | None = None) -> None:
        super().__init__(parent)
        self.seconds = seconds
        self._pointer = pointer  # None: this module's pointer_position / window_under, looked up
        self._locate = locate    # when the countdown ends (so a test can swap them)
        self._left = 0
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    @property
    def seconds_left(self) -> int:
        return self._left if self.active else 0

    def start(self) -> None:
        self._left = self.seconds
        self._timer.start()
        self.sig_ticked.emit(self._left)

    def cancel(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.sig_cancelled.emit()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._left -= 1
        if self._left > 0:
            self.sig_ticked.emit(self._left)
            return
        self._timer.stop()
        point = (self._pointer or pointer_position)()
        point = (int(point[0]), int(point[1]))
        self.sig_located.emit((self._locate or window_under)(point))


def with_captures(agent: Agent, captured: Mapping[PointName, Captured], form: dict[str, Any]) -> Agent:
    """``agent`` (from the dialog's form) bound to the windows its points were captured in, for each
    point still as captured (a point typed anew afterwards is a screen point again)."""
    from quarterdeck.core.roster.capture import with_capture
    from quarterdeck.core.roster.edit import parse_point

    for which, taken in captured.items():
        if agent.transport.kind != "gui" or taken.placement is None:
            continue
        try:
            if parse_point(str(form.get(which) or ""), required=False) == taken.point:
                agent = with_capture(agent, which, taken.point, taken.placement)
        except ValueError:
            continue
    return agent


def binding_text(agent: Agent | None) -> str:
    """What the dialog says about the agent's window: ``Window: Chromium 'api-service' (chat
    follows it: bottom-left +520,-70)``, or that its points are screen points."""
    from quarterdeck.gui.roster.targets import window_text

    if agent is None or agent.transport.kind != "gui":
        return ""
    transport = agent.transport
    if transport.window is None:
        return "Window: none (screen points; Capture binds the agent to the window under the pointer)"
    return f"Window: {window_text(transport)}"
