"""CoordinationEventProcessor and its SQLite dead-letter store."""
from __future__ import annotations

import threading

import pytest
from integration_support import SECRET

from quarterdeck.core.integration import (
    CallNotPermitted,
    CoordinationEventProcessor,
    DeadLetterStore,
    NoHandler,
    ValidationError,
    tracker_for,
)
from quarterdeck.core.integration.defaults import DEAD_LETTER_FILE

FAST = {"max_retries": 2, "base_delay": 0.001}


class Downstream:
    """The thing a handler talks to; down until ``up`` is set."""

    def __init__(self) -> None:
        self.up = False
        self.calls: list[dict] = []
        self.received: list[dict] = []

    def __call__(self, payload):
        self.calls.append(payload)
        if not self.up:
            raise ConnectionError(f"downstream unavailable (key {SECRET})")
        self.received.append(payload)
        return payload.get("user_id")


@pytest.fixture
def store(tmp_path):
    with DeadLetterStore(tmp_path / "dead.sqlite3") as s:
        yield s


@pytest.fixture
def processor(store, monitor, breakers):
    return CoordinationEventProcessor(store, error_config=FAST, monitor=monitor, breakers=breakers)


def test_a_handled_event_is_validated_retried_and_measured(processor, monitor, store):
    down = Downstream()
    processor.register("user.created", down, rules={"required_fields": ["user_id"]})
    down.up = True
    result = processor.process("user.created", {"user_id": 7})
    assert result.ok and result.status == "handled" and result.value == 7 and result.attempts == 1
    assert tracker_for(monitor).count("event:user.created", "ok") == 1
    assert store.count() == 0


def test_an_event_that_exhausts_its_retries_is_dead_lettered_and_replays_to_its_handler(
        processor, store, monitor):
    down = Downstream()
    processor.register("user.created", down)
    result = processor.process("user.created", {"user_id": 7, "name": "Ann"}, event_id="evt-1")
    assert not result.ok and result.status == "dead_lettered" and result.reason == "failed"
    assert len(down.calls) == 3 and down.received == []
    assert isinstance(result.error, ConnectionError)

    [entry] = store.list()
    assert entry.id == result.dead_letter_id and entry.event_id == "evt-1"
    assert entry.payload == {"user_id": 7, "name": "Ann"} and entry.attempts == 3
    assert entry.error.startswith("ConnectionError: downstream unavailable")
    assert SECRET not in entry.error

    down.up = True
    replayed = processor.replay(entry.id)
    assert replayed.ok and replayed.status == "replayed" and replayed.value == 7
    assert down.received == [{"user_id": 7, "name": "Ann"}]
    assert store.count() == 0
    replays = monitor.counter("events_replayed", labelnames=("event_type", "outcome"))
    assert replays.labels("user.created", "ok").value == 1


def test_a_replay_that_fails_again_updates_the_same_entry(processor, store):
    down = Downstream()
    processor.register("user.created", down)
    first = processor.process("user.created", {"user_id": 1})
    again = processor.replay(first.dead_letter_id)
    assert again.status == "dead_lettered" and again.dead_letter_id == first.dead_letter_id
    [entry] = store.list()
    assert entry.replays == 1 and entry.attempts == 3 and len(down.calls) == 6
    with pytest.raises(KeyError, match="#999"):
        processor.replay(999)


def test_invalid_rejected_and_unhandled_events_are_kept_too(processor, store, breakers):
    down = Downstream()
    processor.register("order.paid", down, rules={"required_fields": ["order_id"]},
                       error_config={"max_retries": 0})
    invalid = processor.process("order.paid", {"amount": 3})
    assert invalid.reason == "invalid" and isinstance(invalid.error, ValidationError)
    for _ in range(2):
        processor.process("order.paid", {"order_id": 1})
    rejected = processor.process("order.paid", {"order_id": 2})
    assert rejected.reason == "rejected" and isinstance(rejected.error, CallNotPermitted)
    unknown = processor.process("order.refunded", {"order_id": 3})
    assert unknown.reason == "no_handler" and isinstance(unknown.error, NoHandler)
    assert [e.reason for e in store.list()] == ["invalid", "failed", "failed", "rejected", "no_handler"]
    assert len(down.calls) == 2  # neither the invalid nor the rejected event reached it
    assert store.counts() == {"order.paid": 4, "order.refunded": 1}

    @processor.handler("order.refunded")
    def refunded(payload):
        return payload["order_id"]

    down.up = True
    breakers.get("event:order.paid").reset()
    results = processor.replay_all(event_type="order.refunded")
    assert [r.status for r in results] == ["replayed"] and store.count(event_type="order.refunded") == 0
    results = processor.replay_all()
    assert [r.status for r in results] == ["dead_lettered", "replayed", "replayed", "replayed"]
    assert store.list()[0].reason == "invalid"


def test_process_event_reads_type_payload_and_id(processor, store):
    seen = []
    processor.register("ping", seen.append)
    assert processor.process_event({"type": "ping", "data": {"n": 1}}).ok
    assert processor.process_event({"type": "ping", "payload": [1, 2], "id": 5}).ok
    assert seen == [{"n": 1}, [1, 2]]
    with pytest.raises(ValueError, match="'type'"):
        processor.process_event({"payload": {}})
    assert processor.event_types() == ["ping"]


def test_registration_mistakes_are_refused(processor):
    processor.register("a", print)
    with pytest.raises(ValueError, match="has a handler"):
        processor.register("a", print)
    with pytest.raises(TypeError, match="coroutine"):
        async def handler(payload):
            return payload

        processor.register("b", handler)
    with pytest.raises(TypeError, match="not callable"):
        processor.register("c", "print")
    with pytest.raises(ValueError, match="non-empty"):
        processor.register("", print)


def test_the_default_store_lives_in_the_user_data_dir(monkeypatch, tmp_path, monitor, breakers):
    monkeypatch.setenv("QUARTERDECK_DATA_DIR", str(tmp_path / "data"))
    processor = CoordinationEventProcessor(monitor=monitor, breakers=breakers, error_config=FAST)
    assert not (tmp_path / "data" / DEAD_LETTER_FILE).exists()  # opened on first need only
    processor.process("nobody.listens", {"x": 1})
    assert (tmp_path / "data" / DEAD_LETTER_FILE).is_file()
    assert processor.dead_letters.count() == 1
    processor.close()
    processor.close()


def test_store_keeps_odd_payloads_purges_and_works_across_threads(tmp_path):
    now = [1000.0]
    with DeadLetterStore(tmp_path / "d.sqlite3", clock=lambda: now[0]) as store:
        first = store.add("a", {"when": object.__name__, "n": 1}, reason="failed", error="e", attempts=1)
        now[0] += 100
        store.add("b", {"raw": b"bytes"}, reason="invalid", error="e", attempts=0)
        assert store.get(first).payload == {"when": "object", "n": 1}
        assert store.list(event_type="b")[0].payload == {"raw": "b'bytes'"}
        assert [e.id for e in store.list(limit=1)] == [first]
        with pytest.raises(ValueError, match="reason"):
            store.add("a", {}, reason="broken", error="", attempts=0)
        assert not store.failed_again(999, reason="failed", error="", attempts=1)
        assert not store.remove(999) and store.get(999) is None

        added = []
        worker = threading.Thread(target=lambda: added.append(
            store.add("c", {}, reason="failed", error="e", attempts=1)))
        worker.start()
        worker.join()
        assert store.count() == 3 and store.get(added[0]).event_type == "c"

        assert store.purge(older_than=50) == 1  # only the first is older than 50 s
        assert store.purge(event_type="c") == 1
        assert [e.event_type for e in store.list()] == ["b"]
        assert store.purge() == 1 and store.count() == 0
