"""The panel's processes collect cycles on the GUI thread only (see quarterdeck.gui.collector)."""
from __future__ import annotations

import gc
import threading

import quarterdeck.gui.collector as collector


def test_automatic_collection_is_off_and_the_gui_thread_collects_on_a_timer(qapp, qtbot, monkeypatch):
    monkeypatch.setattr(collector, "_COLLECTOR", None)
    gc.enable()
    try:
        collector.collect_on_the_gui_thread(interval=0.05)
        assert not gc.isenabled()
        timer = collector._COLLECTOR.timer
        assert timer.isActive() and timer.thread() is qapp.thread()
        collector.collect_on_the_gui_thread()  # once per process: the same collector
        assert collector._COLLECTOR.timer is timer
        called = []
        real = gc.collect

        def spy(*args):
            called.append(threading.current_thread() is threading.main_thread())
            return real(*args)

        monkeypatch.setattr(gc, "collect", spy)
        for _ in range(3000):  # garbage above the first generation's threshold
            a: list = []
            a.append(a)
        qtbot.waitUntil(lambda: bool(called), timeout=2000)
        assert all(called)
    finally:
        collector._COLLECTOR.timer.stop()
        gc.disable()  # as the suite runs (tests/conftest.py)
