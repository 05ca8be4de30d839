"""DryRunDelivery, its fault injection against the real retry loop, and transport_for."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from quarterdeck.core.delivery.contract import DeliveryRequest, Transport
from quarterdeck.core.delivery.errors import PermanentError, RetryableError
from quarterdeck.core.models import Agent, DryRunTransport, GuiTransport, InboxTransport, TmuxTransport
from quarterdeck.core.paths import user_data_dir
from quarterdeck.core.resilience.retry import RetryPolicy, run_with_resilience
from quarterdeck.core.transports.dryrun import DryRunDelivery
from quarterdeck.core.transports.inbox import InboxDelivery
from quarterdeck.core.transports.registry import transport_for
from quarterdeck.core.transports.tmux.transport import TmuxDelivery


def req(text: str = "hello", agent: str = "Agent-1") -> DeliveryRequest:
    return DeliveryRequest(agent_id=agent, text=text, message_id=f"id-{text}")


def test_records_what_would_be_sent_and_claims_nothing():
    dry = DryRunDelivery()
    first, second = req("one"), req("two", agent="Agent-2")
    receipts = [dry.deliver(r, threading.Event()) for r in (first, second)]
    assert dry.sent == [first, second]
    assert all(r.transport == "dryrun" and not r.confirmed for r in receipts)
    assert {r.detail for r in receipts} == {"dry run: not sent"}
    assert isinstance(dry, Transport)
    assert dry.check() is None


def test_sent_is_a_snapshot_and_recording_is_thread_safe():
    dry = DryRunDelivery()
    barrier = threading.Barrier(8)

    def worker(n: int) -> None:
        barrier.wait()
        for i in range(200):
            dry.deliver(req(f"{n}-{i}"), threading.Event())

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    texts = [r.text for r in dry.sent]
    assert sorted(texts) == sorted(f"{n}-{i}" for n in range(8) for i in range(200))
    snapshot = dry.sent
    snapshot.clear()
    assert len(dry.sent) == 1600


def test_fails_the_given_number_of_times_then_succeeds():
    dry = DryRunDelivery(fail_times=2)
    for attempt in (1, 2):
        with pytest.raises(RetryableError, match=f"injected failure {attempt} of 2") as info:
            dry.deliver(req(), threading.Event())
        assert info.value.retryable
    assert dry.deliver(req(), threading.Event()).detail == "dry run: not sent"
    assert len(dry.attempts) == 3
    assert dry.sent == [req()]


def test_injected_error_can_be_permanent_or_a_given_instance():
    with pytest.raises(PermanentError):
        DryRunDelivery(fail_times=1, error=PermanentError).deliver(req(), threading.Event())
    boom = RetryableError("pane busy")
    dry = DryRunDelivery(fail_times=2, error=boom)
    for _ in range(2):
        with pytest.raises(RetryableError) as info:
            dry.deliver(req(), threading.Event())
        assert info.value is boom


def test_negative_fail_times_is_rejected():
    with pytest.raises(ValueError):
        DryRunDelivery(fail_times=-1)


def test_unreachable_reason_is_reported_by_check():
    assert DryRunDelivery(unreachable="pane gone").check() == "pane gone"


def test_retry_loop_recovers_from_injected_retryable_failures():
    dry = DryRunDelivery(fail_times=2)
    stop = threading.Event()
    waits: list[float] = []
    outcome = run_with_resilience(
        lambda: dry.deliver(req(), stop),
        policy=RetryPolicy(max_retries=3, base_delay=0.5, jitter=0),
        stop_event=stop,
        sleep=waits.append,
    )
    assert outcome.ok and outcome.attempts == 3
    assert waits == [0.5, 1.0]
    assert outcome.value.detail == "dry run: not sent"


def test_retry_loop_gives_up_at_once_on_injected_permanent_failure():
    dry = DryRunDelivery(fail_times=5, error=PermanentError)
    outcome = run_with_resilience(
        lambda: dry.deliver(req(), threading.Event()), sleep=lambda _d: None
    )
    assert not outcome.ok and outcome.attempts == 1
    assert isinstance(outcome.error, PermanentError)
    assert dry.sent == []


def test_transport_for_maps_each_kind(tmp_path):
    tmux = transport_for(Agent(id="Agent-1", transport=TmuxTransport(target="swarm:0.1")))
    assert isinstance(tmux, TmuxDelivery) and tmux.target == "swarm:0.1"
    inbox = transport_for(Agent(id="Agent-2", transport=InboxTransport(path=tmp_path / "in")))
    assert isinstance(inbox, InboxDelivery) and inbox.path == tmp_path / "in"
    assert isinstance(transport_for(Agent(id="Agent-3", transport=DryRunTransport())), DryRunDelivery)
    assert isinstance(transport_for(InboxTransport(path=Path("x"))), InboxDelivery)
    assert {t.kind for t in (tmux, inbox)} == {"tmux", "inbox"}


def test_transport_for_gui_shares_the_machine_wide_screen_lock():
    from quarterdeck.core.transports.gui.screenlock import ScreenLock
    from quarterdeck.core.transports.gui.transport import GuiDelivery

    gui = transport_for(Agent(id="Agent-4", transport=GuiTransport(chat=(-1269, 481))))
    assert isinstance(gui, GuiDelivery) and gui.kind == "gui"
    assert isinstance(gui.screen_lock, ScreenLock)
    assert gui.screen_lock.path == user_data_dir() / "screen.lock"


def test_transport_for_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="unknown transport kind"):
        transport_for(object())
