"""When the forwarder asks the outbox whether a delivery to a relay's agent is queued (a read of the
outbox, or the claim itself: below): in the round after this process queued something (``wanted``: the dispatcher's
notify), after a round that claimed a full batch, and otherwise once ``every`` seconds have passed
since it last asked, so that another process's sends are seen as soon as before. A round that came
for the receipts the reader handed over does not ask again (at 1,000 messages a second such rounds
are about half of all).

After a notify or a full batch the round claims at once, without the read (``told``): something is
most likely queued then, and a claim that finds nothing costs a write transaction that writes
nothing, about what the read costs; the read stays for the polls, which mostly find nothing.

The forwarder's thread asks :meth:`due`; any thread may call :meth:`wanted`.
"""
from __future__ import annotations

__all__ = ["Asking"]


class Asking:
    def __init__(self, every: float) -> None:
        self.every = every
        self._wanted = True
        self._asked = float("-inf")  # time.monotonic() when it last asked
        self.told = False  # the last ask came after a wanted(): claim without reading first

    def wanted(self) -> None:
        """Something may be queued: ask in the next round (call it before waking the forwarder)."""
        self._wanted = True

    def after(self, *, full: bool) -> bool:
        """A round claimed a ``full`` batch: there may be more, so the next asks. Returns ``full``."""
        if full:
            self._wanted = True
        return full

    def due(self, now: float) -> bool:
        """Whether the round at ``now`` asks; if so, it counts as asked from now on."""
        if not self._wanted and now - self._asked < self.every:
            return False
        self.told, self._wanted, self._asked = self._wanted, False, now  # cleared before the read: a wanted()
        # from now on asks again
        return True
