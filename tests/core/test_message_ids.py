"""Message ids (``quarterdeck.core.models``): 32 lowercase hex characters as before, now time-ordered
(the Unix time in milliseconds, then 80 random bits), so ids made later sort later."""
from __future__ import annotations

import re
import time

from quarterdeck.core.models import Message, new_id


def test_an_id_is_32_lowercase_hex_the_first_12_its_time_in_milliseconds():
    before = time.time_ns() // 1_000_000
    ids = [Message(sender="Captain", recipients=["A1"], content="hi").id for _ in range(50)]
    after = time.time_ns() // 1_000_000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert all(before <= int(i[:12], 16) <= after for i in ids)


def test_ids_made_later_sort_later_and_never_repeat():
    first = [new_id() for _ in range(5000)]
    time.sleep(0.002)
    second = [new_id() for _ in range(5000)]
    assert max(first) < min(second)
    assert len(set(first + second)) == 10_000
    assert len({i[12:] for i in first}) == 5000  # the random part: not a counter, not repeated
