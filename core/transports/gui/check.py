"""Can a GUI agent's points be clicked now? The part of ``GuiDelivery.check`` about places.

A bound window must be open, alone and hold its points (``quarterdeck.core.transports.gui.windows``); every point
must lie on a screen, and none on a fail-safe corner (clicking one would stop all GUI delivery).
"""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quarterdeck.core.desktop.screens import ScreenRect
    from quarterdeck.core.models import GuiTransport

__all__ = ["point_problem"]


def _screens() -> list[ScreenRect]:
    from quarterdeck.core.desktop.screens import detect_screens

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ResourceWarning, module=r"Xlib(\.|$)")
        return detect_screens()


def _points(settings: GuiTransport) -> list[tuple[str, tuple[int, int]]]:
    points = [("chat", settings.chat)]
    if settings.onboarding is not None:
        points.append(("onboarding", settings.onboarding))
    return [(name, (point[0], point[1])) for name, point in points]


def point_problem(settings: GuiTransport, agent: str, gui: Any, *, x11: bool) -> str | None:
    """None when every point of ``settings`` (a ``GuiTransport``) can be clicked now, else why not."""
    if getattr(settings, "window", None) is not None:
        from quarterdeck.core.transports.gui.windows import window_problems

        problems = window_problems(settings, agent)
        if problems:
            return problems[0]
    screens = _screens() if x11 else []
    for name, point in _points(settings):
        if screens:
            if not any(s.contains(*point) for s in screens):
                from quarterdeck.core.desktop.screens import describe_screens

                return f"{name} point {point} is on no screen (screens: {describe_screens(screens)})"
        elif x11 and not gui.onScreen(*point):
            width, height = gui.size()
            return f"{name} point {point} is outside the {width}x{height} screen"
        if gui.FAILSAFE and point in gui.FAILSAFE_POINTS:
            return f"{name} point {point} is a fail-safe corner: clicking it would stop all GUI delivery"
    return None
