"""What the captain has in flight with relays, and how long each relay has been there to answer:
relay_wait counts only the time a relay is seen alive (its seen_at changing, by this machine's clock)
and the broker answers. Clocks are passed in."""
from __future__ import annotations

from quarterdeck.core.captain.sent import Liveness, Sent


def test_a_relay_is_alive_while_its_seen_at_changes_whatever_its_clock_says() -> None:
    live = Liveness(stale=10.0, gone_after=10.0)
    assert live.observe({"M1": 1000.0, "M2": 500.0, "M3": 1030.0}, now=0.0, wall=1000.0) == ["M2"]
    assert live.alive("M1", now=0.0) and live.alive("M3", now=0.0)  # M3's clock is 30 s ahead: no matter
    assert not live.alive("M2", now=0.0)  # first read 500 s after it was last seen: gone
    assert live.gone_now() == {"M2"}
    assert live.observe({"M1": 1000.0, "M2": 470.0, "M3": 1031.0}, now=1.0, wall=1001.0) == []
    assert live.alive("M2", now=1.0)  # its seen_at changed since the last reading: alive, 530 s slow clock or not
    assert live.observe({"M1": 1000.0, "M2": 480.0, "M3": 1041.0}, now=11.0, wall=1011.0) == ["M1"]
    assert not live.alive("M1", now=11.0)  # the same seen_at for 11 s: it stopped
    assert live.alive("M2", now=11.0) and live.alive("M3", now=11.0) and live.gone_now() == {"M1"}
    assert live.observe({"M1": 1000.0, "M2": 482.0, "M3": 1043.0}, now=12.0, wall=1012.0) == []  # said once


def test_a_relay_that_died_while_nobody_looked_is_gone_at_the_first_look() -> None:
    """Its last heartbeats changed seen_at after the previous reading, but long ago: the change is dated
    by the stamp, not by when it was noticed."""
    live = Liveness(stale=5.0, gone_after=10.0)
    assert live.observe({"M1": 100.0}, now=0.0, wall=100.0) == []
    assert live.observe({"M1": 102.0}, now=30.0, wall=130.0) == ["M1"]  # beat at 102, then died
    assert not live.alive("M1", now=30.0)


def test_the_wait_counts_only_while_the_relay_is_alive_and_the_broker_answers() -> None:
    live = Liveness(stale=10.0, gone_after=10.0)
    sent = Sent(live)
    live.observe({"M1": 100.0}, now=0.0, wall=100.0)
    live.tick(True, now=0.0)
    sent.add([(1, "m1", "A", "M1"), (2, "m2", "A", "M1")], now=0.0)
    live.tick(True, now=4.0)
    live.tick(False, now=8.0)  # the broker down for 4 s: not counted
    assert sent.expired(5.0) == [] and len(sent) == 2
    live.tick(True, now=9.0)
    assert [f.delivery for f in sent.expired(5.0)] == [1, 2] and len(sent) == 0
    sent.add([(3, "m3", "A", "M1")], now=9.0)
    live.tick(True, now=10.5)
    live.tick(True, now=30.0)  # M1 not seen since 0: stale from 10 on, its clock stands still
    assert live.clock("M1") == 5.0 and sent.expired(0.5) == []  # 4 s, then 1 s after the outage
    live.observe({"M1": 130.0}, now=30.0, wall=130.0)  # back
    live.tick(True, now=31.0)
    assert [f.delivery for f in sent.expired(0.5)] == [3]


def test_a_delivery_leaves_by_its_receipt_and_is_found_by_relay_and_age() -> None:
    live = Liveness()
    sent = Sent(live)
    sent.add([(1, "m1", "A", "M1"), (2, "m2", "B", "M2"), (3, "m3", "C", "M2")], now=0.0)
    assert sent.pop(2) is not None and sent.pop(2) is None
    assert [f.delivery for f in sent.of_relay("M2")] == [3]
    assert sent.get(1) is not None and sent.get(1).agent == "A"  # type: ignore[union-attr]
    sent.add([(4, "m4", "A", "M1")], now=5.0)
    assert sorted(f.delivery for f in sent.older_than(2.0, now=6.0)) == [1, 3]


def test_the_clock_stops_after_two_missed_heartbeats_and_the_relay_is_said_gone_later() -> None:
    live = Liveness(stale=5.0, gone_after=10.0)
    live.observe({"M1": 100.0}, now=0.0, wall=100.0)
    live.tick(True, now=0.0)
    live.tick(True, now=5.0)
    live.tick(True, now=6.0)  # not alive since 5: no more counted
    assert live.clock("M1") == 5.0 and live.observe({"M1": 100.0}, now=6.0, wall=106.0) == []
    assert live.observe({"M1": 100.0}, now=10.5, wall=110.5) == ["M1"]


def test_a_relay_working_through_an_agents_queue_is_not_taken_for_one_that_lost_it() -> None:
    live = Liveness(stale=10.0, gone_after=10.0)
    sent = Sent(live)
    live.observe({"M1": 100.0}, now=0.0, wall=100.0)
    live.tick(True, now=0.0)
    sent.add([(1, "m1", "A", "M1"), (2, "m2", "A", "M1"), (3, "m3", "B", "M1")], now=0.0)
    live.tick(True, now=4.0)
    sent.progress("M1", "A")  # a receipt of one of A's deliveries: A's queue moves
    live.tick(True, now=6.0)
    assert [f.delivery for f in sent.expired(5.0)] == [3]  # B's never moved
    live.tick(True, now=8.9)
    assert sent.expired(5.0) == []
    live.tick(True, now=9.0)
    assert [f.delivery for f in sent.expired(5.0)] == [1, 2]  # 5 s since A's queue last moved


def test_receipts_take_their_deliveries_out_at_once_and_leave_the_rest() -> None:
    sent = Sent(Liveness())
    sent.add([(1, "m1", "A", "M1"), (2, "m2", "A", "M1"), (3, "m3", "B", "M2"), (4, "m4", "C", "M2")], now=0.0)
    sent.pop_many([1, 3, 9])  # 9: not in flight (another outbox's, or taken already)
    assert len(sent) == 2 and sent.get(1) is None and sent.get(3) is None
    assert [f.delivery for f in sent.of_relay("M1")] == [2] and [f.delivery for f in sent.of_relay("M2")] == [4]
    sent.pop_many([2, 4])
    assert len(sent) == 0 and sent.of_relay("M1") == [] and sent.older_than(0.0, now=1.0) == []


def test_a_relay_holding_deliveries_for_a_person_there_is_not_timed_out_and_its_wait_starts_again_after() -> None:
    live = Liveness(stale=100.0, gone_after=100.0)
    sent = Sent(live)
    live.observe({"M1": 100.0, "M2": 100.0}, now=0.0, wall=100.0)
    live.tick(True, now=0.0)
    sent.add([(1, "m1", "A", "M1"), (2, "m2", "B", "M1"), (3, "m3", "C", "M2")], now=0.0)
    live.tick(True, now=1.0)
    sent.hold("M1", ["A"])  # GUI delivery paused on M1 (a draft in A's input): A is its screen agent, B is not
    sent.hold("M2", ())  # M2 holds nothing
    live.tick(True, now=60.0)
    assert [f.delivery for f in sent.expired(5.0)] == [2, 3]  # the silence about B and C counts
    sent.hold("M1", ())  # resumed there: A's queue waits afresh from now
    live.tick(True, now=64.0)
    assert sent.expired(5.0) == []
    live.tick(True, now=65.0)
    assert [f.delivery for f in sent.expired(5.0)] == [1]
