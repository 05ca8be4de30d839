"""A person at the mouse pauses GUI delivery: nothing lost, nothing counted, resumed by the captain."""
from __future__ import annotations

from quarterdeck.core.compose.submit import submit
from quarterdeck.core.delivery.contract import UNVERIFIED, Receipt
from quarterdeck.core.delivery.errors import HumanActivity
from quarterdeck.core.dispatch.dispatcher import Dispatcher
from quarterdeck.core.models import Agent, DryRunTransport, GuiTransport, Message
from quarterdeck.core.resilience import State
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.store import Store
from quarterdeck.core.transports.dryrun import DryRunDelivery
from quarterdeck.core.transports.gui.desk_return import DeskReturn
from quarterdeck.core.transports.gui.guard import SHARED_GUARD


class Desk:
    """A GUI transport whose pointer a person moves before the first ``interrupted`` deliveries."""

    kind = "gui"

    def __init__(self, interrupted: int, *, pasted: bool = False) -> None:
        self.interrupted = interrupted
        self.pasted = pasted
        self.typed: list[str] = []

    def deliver(self, request, stop):
        if self.interrupted:
            self.interrupted -= 1
            raise HumanActivity((10, 10), (300, 200), pasted=self.pasted)
        self.typed.append(request.text)
        return Receipt("gui", UNVERIFIED, "typed")


def setup(tmp_path, desk):
    roster = Roster((Agent(id="Pane", transport=GuiTransport(chat=(10, 10))),
                     Agent(id="Inbox", transport=DryRunTransport())))
    inbox = DryRunDelivery()
    store = Store(tmp_path / "q.sqlite3")
    dispatcher = Dispatcher(store, roster, stagger=0, desk_return=DeskReturn(),
                            transport_factory=lambda a: desk if a.id == "Pane" else inbox)
    events = []
    dispatcher.add_listener(events.append)
    submit(store, roster, Message(sender="Captain", type="broadcast", content="Rebase on main."))
    return store, dispatcher, inbox, events


def counts(store):
    return {k: v for k, v in store.counts_by_state().items() if v}


def drain(dispatcher):
    while dispatcher.process_next() is not None:
        pass


def test_a_moved_pointer_pauses_gui_delivery_without_an_attempt_or_a_breaker_count(tmp_path, monkeypatch):
    forgotten = []
    monkeypatch.setattr(SHARED_GUARD, "forget", lambda: forgotten.append(True))
    desk = Desk(interrupted=1)
    store, dispatcher, inbox, events = setup(tmp_path, desk)
    drain(dispatcher)
    paused = [e for e in events if e.state == "paused"]
    assert [e.agent_id for e in paused] == ["Pane"]
    assert "(300, 200)" in paused[0].detail and "resume" in paused[0].detail
    assert dispatcher.gui_paused and not desk.typed
    assert len(inbox.sent) == 1  # other transports go on
    assert counts(store) == {"queued": 1, "delivered": 1}
    assert dispatcher.breakers.get("Pane").state == State.CLOSED
    assert dispatcher.process_next() is None  # held until the captain resumes

    dispatcher.resume()
    drain(dispatcher)
    assert forgotten and dispatcher.gui_paused is None
    assert desk.typed and desk.typed[0].endswith("Rebase on main.")
    assert counts(store) == {"delivered": 2}
    pane = next(e for e in events if e.agent_id == "Pane" and e.state == "delivered")
    assert pane.attempt == 1
    assert store.delivery(pane.delivery_id).attempts == 1


def test_text_pasted_before_the_person_moved_is_never_pasted_again(tmp_path):
    desk = Desk(interrupted=5, pasted=True)
    _store, dispatcher, _, events = setup(tmp_path, desk)
    drain(dispatcher)
    failed = [e for e in events if e.state == "failed"]
    assert [e.agent_id for e in failed] == ["Pane"]
    assert failed[0].attempt == 1 and "pasted but not submitted" in failed[0].detail
    assert desk.interrupted == 4
    assert not dispatcher.gui_paused


def test_skip_cancels_the_paused_delivery_and_the_rest_go_on(tmp_path):
    desk = Desk(interrupted=1)
    store, dispatcher, _inbox, events = setup(tmp_path, desk)
    submit(store, dispatcher.roster, Message(sender="Captain", recipients=["Pane"], content="Second one."))
    drain(dispatcher)
    paused = next(e for e in events if e.state == "paused")
    cancelled = dispatcher.skip(paused, "skipped by the captain")
    assert (cancelled.state, cancelled.delivery_id) == ("cancelled", paused.delivery_id)
    assert store.delivery(paused.delivery_id).state == "cancelled" and dispatcher.gui_paused is None
    drain(dispatcher)
    assert len(desk.typed) == 1 and desk.typed[0].endswith("Second one.")  # the skipped one never typed
    assert counts(store) == {"delivered": 2, "cancelled": 1}


class Drafted:
    """A GUI transport whose agent's input holds a draft: it types only when the captain forces it."""

    kind = "gui"

    def __init__(self) -> None:
        self.typed: list[str] = []

    def deliver(self, request, stop):
        from quarterdeck.core.transports.gui.guard import DraftInInput

        if not request.force:
            raise DraftInInput("Pane", "half a thought", (10, 10))
        self.typed.append(request.text)
        return Receipt("gui", UNVERIFIED, "typed over the cleared draft")


def test_send_anyway_delivers_the_delivery_a_draft_paused_on(tmp_path):
    desk = Drafted()
    store, dispatcher, _, events = setup(tmp_path, desk)
    drain(dispatcher)
    paused = next(e for e in events if e.state == "paused")
    assert "holds a draft" in paused.detail and not desk.typed
    dispatcher.force(paused)
    drain(dispatcher)
    assert desk.typed and desk.typed[0].endswith("Rebase on main.")
    assert counts(store) == {"delivered": 2}
