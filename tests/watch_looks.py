"""Counting a stop-all watch's looks at the outbox file, for tests that wait on them.

Each look starts by reading ``PRAGMA data_version``; a look that found a change reports it (the
stop or resume listeners) before the next look starts. So once a look that *began* after some
moment has ended, everything committed before that moment has been reported.
"""
from __future__ import annotations

from typing import Any


class WatchLookCounter:
    """``started`` counts the looks begun so far (the watch's ``_data_version`` is wrapped)."""

    def __init__(self, watch: Any, monkeypatch: Any) -> None:
        self.started = 0
        real = watch._data_version

        def look() -> int:
            self.started += 1
            return real()

        monkeypatch.setattr(watch, "_data_version", look)
