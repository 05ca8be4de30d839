"""When the forwarder reads the outbox for queued deliveries (``captain.asking``): after a notify, after a
round that claimed a full batch, else once per poll; rounds in between (receipts) do not."""
from __future__ import annotations

from quarterdeck.core.captain.asking import Asking


def test_the_first_round_asks_then_only_once_the_poll_passed() -> None:
    asking = Asking(0.01)
    assert asking.due(100.0)
    assert [asking.due(100.0 + t) for t in (0.002, 0.005, 0.0099)] == [False, False, False]
    assert asking.due(100.01)
    assert not asking.due(100.015)


def test_a_notify_or_a_full_batch_makes_the_next_round_ask_once() -> None:
    asking = Asking(10.0)
    assert asking.due(0.0)
    asking.wanted()
    assert asking.due(0.001) and not asking.due(0.002)
    assert asking.after(full=True) is True
    assert asking.due(0.003) and not asking.due(0.004)
    assert asking.after(full=False) is False
    assert not asking.due(0.005)


def test_a_notify_during_a_round_that_asked_is_kept_for_the_next() -> None:
    asking = Asking(10.0)
    assert asking.due(0.0)  # the round asks (its read comes after this)
    asking.wanted()  # something queued meanwhile, maybe after the read
    assert asking.due(0.001)


def test_a_round_after_a_notify_or_a_full_batch_claims_without_reading_first_and_a_poll_reads() -> None:
    asking = Asking(0.01)
    assert asking.due(0.0) and asking.told  # the first round: whatever was queued before the start
    assert asking.due(0.02) and not asking.told  # a poll: read first
    asking.wanted()
    assert asking.due(0.021) and asking.told
    asking.after(full=True)
    assert asking.due(0.022) and asking.told
    asking.after(full=False)
    assert not asking.due(0.023)
    assert asking.due(0.04) and not asking.told
