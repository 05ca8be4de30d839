"""The captain's own send never pauses, and the desk is given back after it (real xterms, real pointer).

One xterm stands for the captain's window (the panel or a terminal), two for agents. Between two
sends the captain clicks back into their own window, as they do to type the next message: the
second send must go through. A pointer moved by a person in the middle of a batch still pauses it.
"""
from __future__ import annotations

import subprocess
import time

import pytest
from xterm_desk import XTERM_PASTE, move_pointer

from quarterdeck.core.compose.submit import submit
from quarterdeck.core.dispatch.dispatcher import Dispatcher
from quarterdeck.core.models import Agent, GuiTransport, Message
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.store import Store
from quarterdeck.core.transports.gui.desk_return import DeskReturn
from quarterdeck.core.transports.gui.guard import PointerGuard
from quarterdeck.core.transports.gui.transport import GuiDelivery

pytestmark = pytest.mark.x11


def active_window() -> int:
    return int(subprocess.run(["xdotool", "getactivewindow"], capture_output=True, text=True, check=True,
                              timeout=10).stdout.strip())


def pointer() -> tuple[int, int]:
    out = subprocess.run(["xdotool", "getmouselocation", "--shell"], capture_output=True, text=True,
                         check=True, timeout=10).stdout
    values = dict(line.split("=") for line in out.split())
    return int(values["X"]), int(values["Y"])


def window_at(term) -> int:
    out = subprocess.run(["xdotool", "search", "--pid", str(term.proc.pid)], capture_output=True, text=True,
                         timeout=10).stdout.split()
    return int(out[0])


def setup(tmp_path, terms, guard):
    agents = tuple(Agent(id=f"Agent-{n + 1}", transport=GuiTransport(chat=t.point, paste_keys=XTERM_PASTE))
                   for n, t in enumerate(terms))
    store = Store(tmp_path / "q.sqlite3")
    dispatcher = Dispatcher(store, Roster(agents), stagger=0, desk_return=DeskReturn(guard),
                            transport_factory=lambda a: GuiDelivery(a.transport, guard=guard))
    events = []
    dispatcher.add_listener(events.append)
    return store, dispatcher, events


def send(store, dispatcher, text):
    submit(store, dispatcher.roster, Message(sender="Captain", type="broadcast", content=text))
    while dispatcher.process_next() is not None:
        pass


def test_every_send_after_clicking_back_into_the_captains_window_goes_through(tmp_path, xterms, empty_clipboard):
    captain, *agents = xterms(3)
    guard = PointerGuard()
    store, dispatcher, events = setup(tmp_path, agents, guard)
    for round_ in range(3):
        subprocess.run(["xdotool", "mousemove", str(captain.point[0]), str(captain.point[1]), "click", "1"],
                       check=True, timeout=10)  # the captain clicks into their window and types
        time.sleep(0.3)
        home = pointer()
        send(store, dispatcher, f"round {round_}")
        assert not dispatcher.gui_paused, [e.detail for e in events if e.state == "paused"]
        # the desk is given back: the pointer where the captain left it, the focus in their window
        assert pointer() == home
        assert active_window() == window_at(captain)
    outcomes = [e.outcome for e in events if e.state == "delivered"]
    assert outcomes == ["unverified"] * 6  # xterms give no read-back
    for term in agents:
        assert term.wait_for(b"")  # (bytes arrive; their exact form is tested elsewhere)
        assert all(f"round {n}".encode() in term.read() for n in range(3))


def test_a_person_who_moves_the_mouse_during_a_batch_still_pauses_it(tmp_path, xterms, empty_clipboard):
    captain, *agents = xterms(3)
    guard = PointerGuard()
    store, dispatcher, _events = setup(tmp_path, agents, guard)
    submit(store, dispatcher.roster, Message(sender="Captain", type="broadcast", content="mid-batch"))
    assert dispatcher.process_next().state == "delivered"  # Agent-1 typed
    move_pointer(captain.point[0] + 40, captain.point[1] + 20)  # a person grabs the mouse
    assert dispatcher.process_next().state == "paused"
    assert dispatcher.gui_paused and "someone is using the mouse" in dispatcher.gui_paused
    assert b"mid-batch" not in agents[1].read()
