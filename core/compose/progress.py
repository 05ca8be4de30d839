"""The composer's last send, one row per recipient, moved only by what really happened.

Rows appear when the submission comes back (its delivery ids); the dispatcher's
``DeliveryEvent``s move them on: queued → sending → retrying (attempt n) → delivered (latency, with
its verdict: submitted or unverified, and the evidence) / failed (reason, and its verdict when the
transport could tell) / cancelled / uncertain. A message sent "when idle" is waiting (and why)
until its agent is idle, then queued; or it ends expired. "Retry failed" gives a failed row a new
delivery id (the store queues a fresh delivery); the row goes back to queued and follows that id.
A finished row moves once more only when the outbox says the agent's own hook confirmed it
(``confirmed_by_agent``, recorded after the transport's verdict): see :meth:`SendProgress.recorded`.

The submit job and the delivery thread report through different queues, so an event can arrive
before the submission (or the retry) that explains it. Events for a message this send is waiting
for are kept until their row exists, then replayed in order. Events of other messages are ignored.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from msgspec import Struct
from msgspec.structs import replace

from quarterdeck.core.store.rows import DeliveryRow, Verdicted

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent

FINAL = frozenset({"delivered", "failed", "cancelled", "uncertain", "expired"})
PENDING = ("waiting", "queued", "sending", "retrying")  # not over yet
# an uncertain delivery may have arrived: "Retry failed" never sends it again (History's resend can,
# saying so); only a failure, where nothing arrived, is retried
RETRYABLE = frozenset({"failed"})
MAX_EARLY = 1000
CONFIRMED = "confirmed_by_agent"
CONFIRMABLE = frozenset({"delivered", "uncertain"})  # what the agent's hook can still confirm


class ProgressRow(Struct, Verdicted, frozen=True):
    agent_id: str
    message_id: str
    delivery_id: int
    state: str = "queued"
    attempt: int = 0
    detail: str = ""
    latency: float | None = None
    verdict: str | None = None
    evidence: str = ""
    retries: int = 0  # how many times the captain asked to retry this row

    @property
    def finished(self) -> bool:
        return self.state in FINAL

    def text(self) -> str:
        """The state as the composer shows it, e.g. ``submitted ✓ 0.42 s · input read back by
        accessibility`` or ``unverified · keys sent; arrival not verifiable``."""
        if self.state == "retrying":
            return f"retrying (attempt {self.attempt} failed)"
        if self.state == "delivered":
            latency = f" {_duration(self.latency)}" if self.latency is not None else ""
            mark = " ✓" if self.confirmed else ""
            evidence = f" · {self.evidence}" if self.evidence else ""
            return f"{self.outcome}{mark}{latency}{evidence}"
        if self.state == "failed":
            label = self.outcome if self.verdict else "failed"
            return f"{label} ✗ {self.detail}".rstrip()
        if self.state == "paused":
            return "paused (waiting for you to resume)"
        if self.state == "cancelled" and self.detail:
            return f"cancelled ({self.detail})"
        if self.state in ("waiting", "expired") and self.detail.startswith(self.state):
            return self.detail  # "waiting: Agent-3 is working (...)", "expired after 30 min: ..."
        if self.state in ("queued", "sending") and self.detail:  # what it waits for (a broker, a relay)
            return f"{self.state} · {self.detail}"
        return self.state


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


class SendProgress:
    """Rows of the last send (see the module docstring). Methods return the rows they changed."""

    def __init__(self) -> None:
        self.rows: list[ProgressRow] = []
        self._by_delivery: dict[int, int] = {}
        self._expected: set[str] = set()
        self._early: dict[int, list[DeliveryEvent]] = {}

    # -- a new send -------------------------------------------------------------------------------
    def start(self, message_ids: Iterable[str]) -> None:
        """A send is on its way: forget the last one and listen for these messages."""
        self.rows = []
        self._by_delivery = {}
        self._early = {}
        self._expected = set(message_ids)

    def expects(self, message_id: str) -> bool:
        return message_id in self._expected

    def submitted(self, message_id: str, recipients: Iterable[str], delivery_ids: Iterable[int]) -> list[int]:
        """The submission of one message came back: add its rows, replay early events."""
        if message_id not in self._expected:
            return []
        added = []
        for agent_id, delivery_id in zip(recipients, delivery_ids, strict=True):
            self._by_delivery[delivery_id] = len(self.rows)
            added.append(len(self.rows))
            self.rows.append(ProgressRow(agent_id, message_id, delivery_id))
        for delivery_id in list(self._by_delivery):
            for event in self._early.pop(delivery_id, []):
                self.event(event)
        return added

    def refused(self, message_id: str) -> None:
        """That message was not queued (refused or failed to submit): stop waiting for it."""
        self._expected.discard(message_id)

    # -- what happened ---------------------------------------------------------------------------
    def event(self, event: DeliveryEvent) -> int | None:
        """Apply one ``DeliveryEvent``; the changed row, or None when it is not ours (yet)."""
        if event.message_id not in self._expected:
            return None
        row = self._by_delivery.get(event.delivery_id)
        if row is None:
            if sum(len(v) for v in self._early.values()) < MAX_EARLY:
                self._early.setdefault(event.delivery_id, []).append(event)
            return None
        current = self.rows[row]
        self.rows[row] = replace(current, state=event.state, attempt=event.attempt, detail=event.detail,
                                 latency=event.latency, verdict=getattr(event, "verdict", None),
                                 evidence=getattr(event, "evidence", ""))
        return row

    def queue_cancelled(self) -> list[int]:
        """Stop all cancelled everything still queued, paused ones too (a paused delivery waits in
        the queue); no per-delivery events are sent for that. ``recorded`` confirms it later."""
        changed = []
        for i, row in enumerate(self.rows):
            if row.state in ("queued", "paused", "waiting"):
                self.rows[i] = replace(row, state="cancelled", detail="stop all")
                changed.append(i)
        return changed

    def unfinished_ids(self) -> list[int]:
        return [row.delivery_id for row in self.rows if not row.finished]

    def unconfirmed_ids(self) -> list[int]:
        """Finished rows the agent's own hook may still confirm (delivered without it, or uncertain)."""
        return [row.delivery_id for row in self.rows if row.state in CONFIRMABLE and row.verdict != CONFIRMED]

    def recorded(self, records: Iterable[DeliveryRow]) -> list[int]:
        """Take the outbox's rows (``DeliveryRow``s) as the truth for the rows they name; a queued
        record leaves a row that says paused or retrying alone (both wait in the queue). A finished
        row changes only to a record the agent confirmed (its hook reported the delivered text)."""
        changed = []
        for record in records:
            i = self._by_delivery.get(record.id)
            if i is None:
                continue
            state = str(getattr(record.state, "value", record.state))
            current = self.rows[i]
            if current.finished:
                if record.verdict != CONFIRMED or current.verdict == CONFIRMED:
                    continue
            elif ((state == current.state and (record.reason or "") == current.detail)
                  or (state == "queued" and current.state in ("paused", "retrying"))):
                continue  # (a reason that came or went while it waits shows: a relay gone, then back)
            latency = record.latency_ms / 1000 if record.latency_ms is not None else current.latency
            self.rows[i] = replace(current, state=state, detail=record.reason or "", latency=latency,
                                   attempt=record.attempts, verdict=record.verdict, evidence=record.evidence or "")
            changed.append(i)
        return changed

    # -- retry -------------------------------------------------------------------------------------
    def retryable_ids(self) -> list[int]:
        return [row.delivery_id for row in self.rows if row.state in RETRYABLE]

    def requeued(self, new_ids: Mapping[int, int]) -> list[int]:
        """The store queued ``old id → new id``: those rows are queued again under the new id."""
        changed = []
        for old, new in new_ids.items():
            row = self._by_delivery.pop(old, None)
            if row is None:
                continue
            current = self.rows[row]
            self.rows[row] = ProgressRow(current.agent_id, current.message_id, new, retries=current.retries + 1)
            self._by_delivery[new] = row
            changed.append(row)
            for event in self._early.pop(new, []):
                self.event(event)
        return changed

    # -- summary -------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Rows per outcome (``submitted`` and ``unverified`` apart, a failure by its verdict)."""
        tally: dict[str, int] = {}
        for row in self.rows:
            tally[row.outcome] = tally.get(row.outcome, 0) + 1
        return tally

    def summary(self) -> str:
        """One line: ``3 recipients: 1 submitted, 1 unverified, 1 failed``."""
        if not self.rows:
            return "Waiting for the outbox…" if self._expected else ""
        counts = self.counts()
        order = ("submitted", "confirmed by agent", "unverified", "typed, not submitted", "not typed", "failed",
                 "uncertain", "cancelled", "sending", "retrying", "paused", "queued", "waiting", "expired")
        parts = [f"{counts[state]} {state}" for state in order if counts.get(state)]
        noun = "recipient" if len(self.rows) == 1 else "recipients"
        return f"{len(self.rows)} {noun}: " + ", ".join(parts)

    def outcome(self) -> tuple[str, bool] | None:
        """Once nothing is queued or in flight any more: ``("3/4 submitted · 1 typed, not submitted",
        True)``, the second item true when any recipient did not get the message; else None."""
        waiting = self._expected - {r.message_id for r in self.rows}  # submissions not back yet
        if not self.rows or waiting or any(r.state in PENDING for r in self.rows):
            return None
        counts = self.counts()
        ok = counts.pop("submitted", 0) + counts.pop("confirmed by agent", 0)  # both arrived, with evidence
        rest = [f"{n} {state}" for state, n in counts.items()]
        bad = any(state not in ("unverified", "paused") for state in counts)
        return " · ".join([f"{ok}/{len(self.rows)} submitted", *rest]), bad
