"""A Redis consumer group that exists: created on first use, and the same group again is no error.

The relay's intake, the captain's receipt reader and its activity-event reader each read a stream
through a consumer group; :func:`ensure_group` creates it (and the stream, ``MKSTREAM``) from the
stream's start, or leaves the one there as it is (``BUSYGROUP``). Any other refusal propagates.
"""
from __future__ import annotations

from typing import Any

from redis import exceptions as rx

__all__ = ["ensure_group"]


def ensure_group(client: Any, stream: str, group: str) -> None:
    """Create ``group`` on ``stream`` (the stream too, when missing) unless it is there already."""
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except rx.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
