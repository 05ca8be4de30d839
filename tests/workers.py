"""A session's delivery worker running for the length of a ``with`` block, as the panel and ``serve``
run theirs: the tests that need one share this."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from quarterdeck.core.service import DeliveryWorker
from quarterdeck.core.session import Session


@contextmanager
def delivering(session: Session, *, idle_wait: float = 0.05, close: bool = False) -> Iterator[DeliveryWorker]:
    """The worker runs inside the block; after it, it is stopped and joined (and with ``close`` the
    session is closed)."""
    worker = DeliveryWorker(session.dispatcher, idle_wait=idle_wait)
    worker.start()
    try:
        yield worker
    finally:
        worker.request_stop()
        worker.join(10)
        if close:
            session.close()
