"""The delivery contract's values: a request's ``typing`` callback is not part of what it is, and a receipt
says submitted or unverified, nothing else."""
from __future__ import annotations

import pickle

import pytest

from quarterdeck.core.delivery.contract import DeliveryRequest, Receipt


def test_requests_that_differ_only_in_their_typing_callback_are_equal_hash_alike_and_print_alike():
    first = DeliveryRequest("A", "hello", recipients=("A", "B"), typing=lambda: None)
    second = DeliveryRequest("A", "hello", recipients=("A", "B"), typing=print)
    assert first == second and hash(first) == hash(second) and repr(first) == repr(second)
    assert "typing" not in repr(first) and repr(first).startswith("DeliveryRequest(agent_id='A', text='hello'")
    assert first != DeliveryRequest("A", "hello!", recipients=("A", "B"))
    assert first != ("A", "hello")  # another type is never equal
    assert {first, second} == {first}


def test_a_request_is_frozen_and_keeps_its_fields_through_a_pickle():
    request = DeliveryRequest("A", "hello", priority="urgent", message_id="m1", force=True)
    with pytest.raises(AttributeError):
        request.text = "other"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(request)) == request


def test_a_receipt_is_submitted_or_unverified():
    assert Receipt("tmux", "submitted", "new line after Enter").confirmed
    assert not Receipt("tmux", "unverified").confirmed
    with pytest.raises(ValueError, match="a receipt's verdict is submitted or unverified, not 'failed'"):
        Receipt("tmux", "failed")  # type: ignore[arg-type]
