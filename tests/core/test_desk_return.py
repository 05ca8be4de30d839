"""A batch starts from where the captain is and gives the pointer and focus back (no display)."""
from __future__ import annotations

import threading

from quarterdeck.core.transports.gui.desk_return import DeskReturn
from quarterdeck.core.transports.gui.guard import PointerGuard


class Desk:
    """A desk whose active window is 7, and which records the windows it activates."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.activated: list[int] = []
        self.root = self

    def atom(self, name: str) -> str:
        return name

    def get_full_property(self, atom, kind):
        return type("Prop", (), {"value": [7]})()

    def window(self, wid: int):
        return type("Window", (), {"id": wid})()

    def activate(self, window) -> None:
        self.activated.append(window.id)


class Pointer:
    def __init__(self, at: tuple[int, int]) -> None:
        self.at = at

    def calls(self):
        return (lambda: self.at), self.move

    def move(self, x: int, y: int) -> None:
        self.at = (x, y)


def make(at=(500, 400)):
    guard, desk, pointer = PointerGuard(), Desk(), Pointer(at)
    return guard, desk, pointer, DeskReturn(guard, desk=desk, pointer=pointer.calls())


def test_a_batch_accepts_the_pointer_where_the_captain_left_it():
    guard, _, _, batch = make()
    guard.clicked((10, 10))  # the last delivery of the previous batch
    batch.claimed("tmux")
    assert guard.placed is None  # the captain clicked into the panel since: not a person's interruption


def test_after_a_gui_batch_the_pointer_and_the_focus_go_back():
    guard, desk, pointer, batch = make()
    batch.claimed("gui")
    pointer.at = (900, 300)  # Quarterdeck clicked into an agent's window
    guard.clicked((900, 300))
    batch.claimed("gui")  # the same batch: nothing new remembered
    batch.idle()
    assert pointer.at == (500, 400) and desk.activated == [7]
    batch.idle()  # no batch: nothing more
    assert desk.activated == [7]


def test_a_person_who_took_the_mouse_keeps_it():
    guard, desk, pointer, batch = make()
    batch.claimed("gui")
    guard.clicked((900, 300))
    pointer.at = (120, 700)  # a person moved it after Quarterdeck's last click
    batch.idle()
    assert pointer.at == (120, 700) and desk.activated == []


def test_a_batch_without_gui_deliveries_touches_nothing():
    _guard, desk, pointer, batch = make()
    batch.claimed("inbox")
    batch.idle()
    assert pointer.at == (500, 400) and desk.activated == []
