"""Python's cycle collector on the GUI thread only.

Left automatic, the collector runs in whichever thread happens to allocate. In a background job
thread it can destroy widgets and models from there, which crashes Qt (seen: a model's attributes
cleared while the view painted, then a segmentation fault). Every Qt process of Quarterdeck (the
panel, the demo swarm) calls :func:`collect_on_the_gui_thread` once its QApplication exists:
automatic collection is off and pyqtgraph's collector collects on a GUI-thread timer instead.
"""
from __future__ import annotations

from typing import Any

_COLLECTOR: Any = None


def collect_on_the_gui_thread(interval: float = 1.0) -> None:
    """Collect cycles every ``interval`` seconds on the GUI thread only (once per process)."""
    global _COLLECTOR
    if _COLLECTOR is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _COLLECTOR = GarbageCollector(interval=interval)
