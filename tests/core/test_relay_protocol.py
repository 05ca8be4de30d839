"""The relay wire protocol: entries round-trip through Redis's bytes dicts; malformed ones are refused."""
from __future__ import annotations

import pytest

from quarterdeck.core.models import Message
from quarterdeck.core.relay.protocol import (
    KEYS,
    VERSION,
    AnnouncedAgent,
    Announcement,
    ControlEntry,
    DeliveryEntry,
    Keys,
    MalformedEntry,
    Receipt,
)


def _as_redis(fields: dict[str, str]) -> dict[bytes, bytes]:
    return {k.encode(): v.encode() for k, v in fields.items()}


def test_key_names_live_under_the_prefix() -> None:
    assert KEYS.relay_in("box-2") == "qd:relay:box-2:in"
    assert (KEYS.receipts, KEYS.events, KEYS.relays, KEYS.control) == \
        ("qd:receipts", "qd:events", "qd:relays", "qd:control")
    assert KEYS.receipts_of("3f9a0c1d2e4b5a69") == "qd:receipts:3f9a0c1d2e4b5a69"
    assert KEYS.receipts_of("") == "qd:receipts"  # a captain that gives no id
    with pytest.raises(ValueError, match="'a:b' is not a captain's id"):
        KEYS.receipts_of("a:b")
    assert Keys("team7:").relay_in("a") == "team7:relay:a:in"
    for bad in ("", "a:b", "a b", "-x", "x" * 65):
        with pytest.raises(ValueError, match="not a relay name"):
            KEYS.relay_in(bad)


def test_a_delivery_entry_round_trips_from_bytes_and_from_str() -> None:
    message = Message(sender="captain", recipients=["Agent-1"], content="héllo\nworld", tags=["x"])
    entry = DeliveryEntry(41, "Agent-1", message, 1765000000.25, "3f9a0c1d2e4b5a69")
    fields = entry.to_fields()
    assert fields["v"] == "2" and fields["delivery"] == "41" and fields["sent_at"] == "1765000000.25"
    assert fields["captain"] == "3f9a0c1d2e4b5a69"
    assert DeliveryEntry.from_fields(_as_redis(fields)) == entry
    assert DeliveryEntry.from_fields(fields) == entry


def test_a_receipt_and_a_control_entry_round_trip() -> None:
    receipt = Receipt("box-2", 7, "Agent-1", "delivered", verdict="submitted", evidence="pane changed",
                      attempts=1, at=1765000001.5, captain="3f9a0c1d2e4b5a69")
    assert Receipt.from_fields(_as_redis(receipt.to_fields())) == receipt
    anonymous = receipt.to_fields()
    del anonymous["captain"]  # a captain that gives no id
    assert Receipt.from_fields(anonymous).captain == ""
    control = ControlEntry("stop", 3, 1765000002.0)
    assert ControlEntry.from_fields(_as_redis(control.to_fields())) == control


def test_an_announcement_round_trips_and_a_broken_one_is_refused() -> None:
    ann = Announcement("box-2", "host", 123, 1.0, 2.5, [AnnouncedAgent("Agent-1", "One", "dev", "tmux", "qd:0")])
    assert Announcement.from_json(ann.to_json().encode()) == ann
    with pytest.raises(MalformedEntry, match="announcement"):
        Announcement.from_json(b'{"name": "x"}')


@pytest.mark.parametrize(("change", "match"), [
    ({"v": "1"}, "protocol version '1'; this Quarterdeck speaks version '2'"),
    ({"captain": "a:b"}, "'captain' is not a captain's id"),
    ({"v": None}, "no protocol version"),
    ({"delivery": "seven"}, "'delivery' is not a whole number"),
    ({"delivery": str(2**63)}, "'delivery' is out of range"),
    ({"delivery": "-1"}, "'delivery' is out of range"),
    ({"agent": None}, "lacks the field 'agent'"),
    ({"agent": ""}, "names no agent"),
    ({"message": "{not json"}, "its message is invalid"),
    ({"message": '{"sender": "c"}'}, "its message is invalid at content"),
    ({"sent_at": "nan"}, "'sent_at' is not epoch seconds"),
])
def test_a_malformed_delivery_entry_raises_one_clear_value_error(change: dict[str, str | None], match: str) -> None:
    fields = DeliveryEntry(1, "A", Message(sender="c", content="x"), 1.0).to_fields()
    for key, value in change.items():
        if value is None:
            del fields[key]
        else:
            fields[key] = value
    with pytest.raises(ValueError, match=match):
        DeliveryEntry.from_fields(_as_redis(fields))


def test_bytes_that_are_not_utf8_and_unknown_states_are_malformed() -> None:
    fields = _as_redis(DeliveryEntry(1, "A", Message(sender="c", content="x"), 1.0).to_fields())
    fields[b"agent"] = b"\xff"
    with pytest.raises(MalformedEntry, match="not UTF-8"):
        DeliveryEntry.from_fields(fields)
    with pytest.raises(MalformedEntry, match="state 'gone'"):
        Receipt.from_fields(_as_redis(Receipt("r", 1, "A", "delivered").to_fields() | {"state": "gone"}))
    with pytest.raises(MalformedEntry, match="kind 'pause'"):
        ControlEntry.from_fields({"v": VERSION, "kind": "pause", "generation": "1", "at": "1"})
