"""A transport that sends nothing: it records what would have been sent.

Used for the captain's dry-run mode (whose messages go to a throw-away outbox,
``throwaway_outbox``) and as a stand-in transport in tests. Every successful call
appends the request to ``sent`` and returns an unconfirmed receipt ("dry run: not sent"), so a
dry run can never be mistaken for a delivery.

Fault injection: ``DryRunDelivery(fail_times=N, error=RetryableError)`` raises ``error`` on the
first N calls (recording them in ``attempts`` but not in ``sent``), then behaves normally. This lets
the retry loop and circuit breaker be exercised without a tmux server or a screen. ``error`` may be
an exception class (instantiated with a message naming the attempt) or an instance (raised as is).
``unreachable`` makes ``check()`` report that reason, for health checks.
"""
from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from quarterdeck.core.delivery.contract import UNVERIFIED, DeliveryRequest, Receipt
from quarterdeck.core.delivery.errors import RetryableError

__all__ = ["DryRunDelivery", "throwaway_outbox"]


@contextmanager
def throwaway_outbox(dry_run: bool, data_dir: Path | None) -> Iterator[Path | None]:
    """``data_dir`` as is, or for a dry run a fresh outbox folder removed again on the way out
    (however the run ends), so a dry run leaves nothing behind in the temp folder."""
    if not dry_run:
        yield data_dir
        return
    with tempfile.TemporaryDirectory(prefix="quarterdeck-dry-") as folder:
        yield Path(folder)


class DryRunDelivery:
    kind = "dryrun"

    def __init__(
        self,
        *,
        fail_times: int = 0,
        error: type[BaseException] | BaseException = RetryableError,
        unreachable: str | None = None,
    ) -> None:
        if fail_times < 0:
            raise ValueError("fail_times must be >= 0")
        self.fail_times = fail_times
        self.error = error
        self.unreachable = unreachable
        self._lock = threading.Lock()
        self._sent: list[DeliveryRequest] = []
        self._attempts: list[DeliveryRequest] = []

    def __repr__(self) -> str:
        return f"DryRunDelivery(fail_times={self.fail_times})"

    @property
    def sent(self) -> list[DeliveryRequest]:
        """Requests that "went out", in call order (a copy: safe to read while others deliver)."""
        with self._lock:
            return list(self._sent)

    @property
    def attempts(self) -> list[DeliveryRequest]:
        """Every call to ``deliver``, failed ones included, in call order."""
        with self._lock:
            return list(self._attempts)

    def check(self) -> str | None:
        return self.unreachable

    def deliver(self, request: DeliveryRequest, stop: threading.Event) -> Receipt:
        with self._lock:
            self._attempts.append(request)
            attempt = len(self._attempts)
            if attempt > self.fail_times:
                self._sent.append(request)
                return Receipt(self.kind, UNVERIFIED, "a dry run types nothing", "dry run: not sent")
        raise self._make_error(attempt)

    def _make_error(self, attempt: int) -> BaseException:
        if isinstance(self.error, BaseException):
            return self.error
        message = f"injected failure {attempt} of {self.fail_times} for {self.kind}"
        return self.error(message)

