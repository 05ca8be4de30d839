"""A relay that holds a delivery it took (GUI delivery paused there: a person at its mouse, a draft in
the agent's input) says why, and the captain shows it: the reason goes on the captain's row, still
``sending``, and is told; the relay going on with it takes the reason back; its end replaces it. Against
a real redis-server, this test speaking the relay's side of the protocol."""
from __future__ import annotations

import threading
import time

from redis_server import redis_server  # noqa: F401
from test_captain_latency import next_entry, own, parts  # noqa: F401

from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.models import Message
from quarterdeck.core.relay.protocol import KEYS, AnnouncedAgent, Announcement, Receipt

PAUSED = ("GUI delivery paused until you resume: Agent-9's input holds a draft (“half”, 4 characters), "
          "nothing typed: send or clear the draft, then resume")


def wait_for(check, what: str, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.01)
    return found


def test_a_relays_pause_is_shown_on_the_captains_row_until_it_goes_on(parts) -> None:
    session, client = parts
    told: list[DeliveryEvent] = []
    session.dispatcher.add_listener(told.append)
    [delivery] = session.submit(Message(sender="Captain", recipients=["Agent-9"], content="go")).delivery_ids
    next_entry(client, b"0")

    def receipt(state: str, reason: str = "", agent: str = "Agent-9", number: int = delivery) -> None:
        client.xadd(own(session), Receipt("M2", number, agent, state, reason=reason, attempts=1,  # type: ignore[arg-type]
                                          at=time.time()).to_fields())

    def row():
        return session.store.delivery(delivery)

    receipt("queued", "another outbox's", agent="Agent-8")  # its delivery of that number: not this row
    receipt("queued", PAUSED)
    held = f"relay M2: {PAUSED}"
    wait_for(lambda: row().reason == held, "the relay's reason on the row")
    assert row().state == "sending" and not [e for e in told if "another outbox's" in e.detail]
    assert wait_for(lambda: [e for e in told if e.detail == held], "the reason told")[0].state == "sending"
    receipt("queued", PAUSED)  # said again (the relay paused on it again): not told twice
    receipt("sending")  # resumed there: on its way again, the reason gone
    wait_for(lambda: row().reason is None, "the reason taken back")
    wait_for(lambda: [e.detail for e in told if e.delivery_id == delivery][-1] == "", "the reason taken back, told")
    details = [e.detail for e in told if e.delivery_id == delivery and e.state == "sending"]
    assert details.count(held) == 1 and details[-2:] == [held, ""], details
    pipe = client.pipeline(transaction=True)  # said again and gone on with in one read: the last word stays
    for state, reason in (("queued", PAUSED), ("sending", "")):
        pipe.xadd(own(session), Receipt("M2", delivery, "Agent-9", state, reason=reason, attempts=1,  # type: ignore[arg-type]
                                        at=time.time()).to_fields())
    pipe.execute()
    # both applied and deleted: only the other outbox's receipt stays (it matches none here)
    wait_for(lambda: client.xlen(own(session)) == 1, "both receipts applied (and deleted)")
    assert row().reason is None and row().state == "sending"
    receipt("queued", PAUSED)
    wait_for(lambda: row().reason == held, "the reason again")
    receipt("delivered")
    wait_for(lambda: row().state == "delivered", "the end")
    assert row().reason is None


def test_a_delivery_a_relay_holds_for_a_person_is_not_timed_out_but_is_once_the_relay_goes_on(parts) -> None:
    session, client = parts
    assert session.forwarder is not None
    session.forwarder.wait = 1.5  # seconds of the relay's alive time to report (30 by default)
    beating, paused = threading.Event(), [PAUSED]

    def heartbeat() -> None:  # M2 is alive (its seen_at changes) and says whether its GUI delivery is paused
        while not beating.wait(0.3):
            now = time.time()
            client.hset(KEYS.relays, "M2", Announcement("M2", "m2.lan", 1, now - 60, now, [
                AnnouncedAgent("Agent-9", "Agent-9", "", "gui", "[10, 10]")], paused[0]).to_json())

    beat = threading.Thread(target=heartbeat, daemon=True)
    beat.start()
    try:
        [delivery] = session.submit(Message(sender="Captain", recipients=["Agent-9"], content="go")).delivery_ids
        next_entry(client, b"0")
        client.xadd(own(session), Receipt("M2", delivery, "Agent-9", "queued", reason=PAUSED, attempts=1,  # type: ignore[arg-type]
                                          at=time.time()).to_fields())
        wait_for(lambda: session.store.delivery(delivery).reason, "the relay's reason on the row")
        time.sleep(4.0)  # well past the wait: the relay says a person there holds it
        assert session.store.delivery(delivery).state == "sending"
        paused[0] = ""  # resumed there: the reason goes with the relay's word, then its silence counts
        wait_for(lambda: session.store.delivery(delivery).reason is None, "the reason gone with the pause")
        assert session.store.delivery(delivery).state == "sending"
        wait_for(lambda: session.store.delivery(delivery).state == "uncertain", "the wait after going on",
                 timeout=15.0)
    finally:
        beating.set()
        beat.join(5)
