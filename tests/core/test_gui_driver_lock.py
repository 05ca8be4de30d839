"""PyAutoGUI shares one X connection between threads, so GUI delivery calls it one call at a time:
two threads calling through what ``load_pyautogui`` gives never overlap, settings reach the module,
and its exception classes are the module's own."""
from __future__ import annotations

import threading
import time
import types

from quarterdeck.core.transports.gui.driver import _OneAtATime


class Boom(Exception):
    pass


def test_two_threads_calling_it_never_overlap_and_settings_reach_the_module():
    inside: list[int] = []
    overlapped: list[bool] = []

    def position() -> tuple[int, int]:
        inside.append(1)
        overlapped.append(len(inside) > 1)
        time.sleep(0.01)  # long enough for the other thread to come in, were it let
        inside.pop()
        return (1, 2)

    module = types.SimpleNamespace(position=position, PAUSE=0.1, Boom=Boom)
    gui = _OneAtATime(module)
    threads = [threading.Thread(target=lambda: [gui.position() for _ in range(10)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(overlapped) == 40 and not any(overlapped)
    gui.PAUSE = 0.0
    assert module.PAUSE == 0.0 and gui.PAUSE == 0.0
    assert gui.Boom is Boom  # caught as the module's own class
    assert gui.position() == (1, 2) and gui.position.__name__ == "position"
