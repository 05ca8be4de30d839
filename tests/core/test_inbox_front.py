"""The inbox's front matter is written with libyaml's emitter where PyYAML has it: its text must be
exactly what the pure-Python ``yaml.safe_dump`` writes, so every inbox file reads as before."""
from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
import yaml

from quarterdeck.core.delivery.contract import DeliveryRequest
from quarterdeck.core.transports import inbox, inbox_text

TRICKY = ["captain", "Agent-1", "yes", "No", "ON", "off", "y", "1e3", "12:30", "190:20:30", "0b101", "0o17", "0x1F",
          "123", "1_000", "-1", "1.5", "0.", "6.8523015e+5", ".inf", "NaN", "=", "<<", "~", "", "null", "NULL",
          "2026-12-06", "2026-12-06T16:33:50.123456+00:00", "2026-12-06T16:33:50+00:00", "x:", "a:b", "a b",
          "abc'd", 'say "hi"', "a#b", "a #b", "!x", "%x", "@x", "x@y.com", "x/y", "10.0.0.1", "é", "Ünïcode",
          "-x", "_x", "urgent", "normal", "3f2a9c4e5d6b7a8c9d0e1f2a3b4c5d6e", "12345678901234567890123456789012",
          "0e12", "1e5", "x" * 90, "line\nbreak", "tab\there", " lead", "trail "]


def _dumped(header: dict[str, object]) -> str:
    return yaml.dump(header, Dumper=yaml.SafeDumper, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _written(header: dict[str, object]) -> str:
    return yaml.dump(header, Dumper=inbox_text._DUMPER, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _header(value: str) -> dict[str, object]:
    return {"sender": value, "recipients": [value, "Agent-2"], "priority": "normal", "message_id": value,
            "time": "2026-12-06T16:33:50.123456+00:00", "type": "message"}


def test_the_fast_emitter_is_used_where_pyyaml_has_it() -> None:
    assert inbox_text._DUMPER is getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@pytest.mark.parametrize("value", TRICKY)
def test_the_front_matter_is_what_yaml_writes(value: str) -> None:
    assert _written(_header(value)) == _dumped(_header(value))


def test_random_values_are_written_as_yaml_writes_them() -> None:
    rng = random.Random(14)
    alphabet = "aZ09_.:+-eExyb#'\" é\t"
    for _ in range(2000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        assert _written(_header(value)) == _dumped(_header(value)), value


def test_a_typical_header_reads_back() -> None:
    created = datetime(2026, 12, 6, 16, 33, 50, 123456, tzinfo=UTC)
    request = DeliveryRequest(agent_id="Agent-1", text="hello\n", priority="urgent", onboarding=False,
                              message_id="0123456789abcdef0123456789abcdef", sender="captain",
                              recipients=("Agent-1", "Agent-2"), created_at=created)
    header = {"sender": "captain", "recipients": ["Agent-1", "Agent-2"], "priority": "urgent",
              "message_id": request.message_id, "time": created.isoformat(), "type": "broadcast"}
    data = inbox.render(request, created)
    assert data == b"---\n" + _dumped(header).encode() + b"---\nhello\n"
    parsed, text = inbox.parse_message(data)
    assert parsed["message_id"] == request.message_id and parsed["recipients"] == ["Agent-1", "Agent-2"]
    assert text == "hello\n"


def _request(**given: object) -> DeliveryRequest:
    fields: dict[str, object] = dict(agent_id="Agent-1", text="hi\n", priority="normal", onboarding=False,
                                     message_id="0123456789abcdef0123456789abcdef", sender="Captain",
                                     recipients=("Agent-1",), created_at=datetime(2026, 12, 6, 16, 33, 50, 1, UTC))
    fields.update(given)
    return DeliveryRequest(**fields)  # type: ignore[arg-type]


def _as_dumped(request: DeliveryRequest) -> bytes:
    assert request.created_at is not None
    header = {"sender": request.sender, "recipients": list(request.recipients), "priority": request.priority,
              "message_id": request.message_id, "time": request.created_at.isoformat(),
              "type": inbox.message_type(request)}
    return b"---\n" + _dumped(header).encode() + b"---\n" + request.text.encode()


@pytest.mark.parametrize("value", TRICKY)
def test_the_header_put_together_directly_is_the_dumpers_text_wherever_the_value_is(value: str) -> None:
    for request in (_request(sender=value), _request(recipients=(value, "Agent-2")), _request(message_id=value)):
        assert inbox.render(request, datetime.now(UTC)) == _as_dumped(request)


def test_the_usual_headers_are_put_together_without_the_dumper(monkeypatch) -> None:
    rng = random.Random(14)
    usual = [_request(message_id=f"{rng.getrandbits(128):032x}", recipients=(f"A{n}-2", "Agent-3"),
                      created_at=datetime.fromtimestamp(rng.random() * 2e9, UTC)) for n in range(300)]
    usual += [_request(message_id="12345678901234567890123456789012"), _request(message_id="0b1011"),
              _request(sender="yes"), _request(created_at=datetime(2026, 1, 1, tzinfo=UTC))]
    expected = [_as_dumped(request) for request in usual]
    dumped: list[object] = []
    dump = yaml.dump
    monkeypatch.setattr(yaml, "dump", lambda *a, **k: dumped.append(a) or dump(*a, **k))
    assert [inbox.render(request, datetime.now(UTC)) for request in usual] == expected
    assert len(dumped) == 3  # the all-digit id, the id YAML reads as a number, the sender read as a boolean
