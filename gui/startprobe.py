"""The startup probe (``QUARTERDECK_STARTUP_PROBE=1``) for bench/bench_panel_start.py and its test.

At the main window's first paint it prints the wall-clock time (``first paint at T``), which of
``PROBED_MODULES`` were imported, which panels were made, what the history counted, how long each
step of ``quarterdeck.gui.app.main`` took, then closes the window.
"""
from __future__ import annotations

import sys
import time
from typing import Any

PROBED_MODULES = ("pyqtgraph", "numpy", "redis", "msgspec", "yaml", "re2")


def probe_first_paint(window: Any, steps: dict[str, float]) -> None:
    """For bench/bench_panel*.py: print the wall-clock time of the first paint, which of
    ``PROBED_MODULES`` were imported, which panels made and what the history counted by then,
    and how long each step of ``main`` took (``steps``: when each ended), then quit."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, watched: Any, event: Any) -> bool:
            if event.type() == QEvent.Type.Paint and watched is window:
                window.removeEventFilter(self)
                print(f"first paint at {time.time():.6f}", flush=True)
                print("at first paint, imported: " + ",".join(m for m in PROBED_MODULES if m in sys.modules))
                print("at first paint, panels made: " + ",".join(window.panels.built()))
                count = getattr(window.panels.built().get("history"), "count_label", None)
                print(f"at first paint, history count: {count.text() if count is not None else '-'}")
                ends = [*steps.items(), ("paint", time.perf_counter())]
                print("at first paint, ms: " + " ".join(f"{name} {(end - ends[n][1]) * 1000:.0f}"
                                                        for n, (name, end) in enumerate(ends[1:])), flush=True)
                QTimer.singleShot(0, window.close)
            return False

    window._first_paint = FirstPaint(window)
    window.installEventFilter(window._first_paint)
