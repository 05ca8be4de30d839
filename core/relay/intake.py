"""Taking delivery entries into the relay's local outbox, exactly once, many at a time.

The entry's message is stored under the captain's message id, and the ledger maps the captain's
delivery (its outbox id and delivery id) to the local delivery, so an entry seen twice (redelivered
after a crash, claimed from a dead consumer, or duplicated) finds its delivery already there and
queues nothing; one queued just before a crash, before its id was written down, is found as the
local delivery of that message and agent that no captain delivery owns. A message sent to two agents
of one relay comes as two entries with one message id: the second adds its agent's delivery to the
stored message; so does the captain sending a message again (a new delivery id).

``take_all`` takes a whole read of entries with three writes whatever their number: the ledger
rows (one transaction), the local deliveries (one outbox transaction) and their mapping (one
transaction, fsynced). Entries are handled in order, as one by one: the same captain delivery twice
in one read is queued once. The caller acknowledges the entries only after ``take_all`` returned
(the local enqueue is committed by then): ``acknowledge`` XACKs and XDELs them in one round trip.
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from quarterdeck.core.relay.ledger import Key, Ledger
from quarterdeck.core.relay.link import fields_of
from quarterdeck.core.relay.protocol import RELAY_GROUP, DeliveryEntry, Receipt, captain_of
from quarterdeck.core.session import Session
from quarterdeck.core.store import StoreError
from quarterdeck.core.store.control import STOPPED

Pair = tuple[str, str]  # (message id, agent)


@dataclass
class Read:
    """Stream entries as read: every id (to acknowledge), the valid entries, and the malformed ones
    (id, fields, why) that still deserve a failed receipt when they name a delivery and an agent."""

    ids: list[str] = field(default_factory=list)
    entries: list[DeliveryEntry] = field(default_factory=list)
    entry_ids: list[str] = field(default_factory=list)  # the id of each of ``entries``
    refused: list[tuple[str, dict[bytes, bytes], str]] = field(default_factory=list)


def decode_all(raws: Sequence[Any]) -> Read:
    """Parse stream entries (``(id, fields)`` as redis-py returns them); an entry without fields is
    only acknowledged."""
    read = Read()
    for raw in raws:
        entry_id, fields = fields_of(raw)
        read.ids.append(entry_id)
        if not fields:
            continue
        try:
            entry = DeliveryEntry.from_fields(fields)
        except ValueError as exc:
            read.refused.append((entry_id, fields, str(exc)))
            continue
        read.entries.append(entry)
        read.entry_ids.append(entry_id)
    return read


def refusal(relay: str, fields: dict[bytes, bytes], why: str) -> Receipt | None:
    """The failed receipt of a malformed entry, when it still names a delivery and an agent."""
    try:
        delivery = int(fields.get(b"delivery", b""))
        agent = fields[b"agent"].decode()
        raw = fields.get(b"captain", b"")  # this field alone: the rest may not be text
        captain = captain_of({"captain": raw.decode("utf-8", "replace")}, "an entry")
    except (KeyError, ValueError):
        return None
    if not 0 <= delivery < 2**63:  # not an id this relay could store
        return None
    return Receipt(relay, delivery, agent, "failed", verdict="not_typed",
                   reason=f"the relay could not read the entry: {why}", at=time.time(), captain=captain)


def acknowledge(client: Any, stream: str, ids: Sequence[str]) -> None:
    """XACK and XDEL ``ids`` in one round trip (the message text does not stay in Redis)."""
    if ids:
        acknowledging(client.pipeline(transaction=False), stream, ids).execute()


def acknowledging(pipe: Any, stream: str, ids: Sequence[str]) -> Any:
    """``pipe`` with the XACK and XDEL of ``ids`` queued on it (a read may follow in the same round trip)."""
    pipe.xack(stream, RELAY_GROUP, *ids)
    pipe.xdel(stream, *ids)
    return pipe


def _transport(session: Session, agent: str) -> str:
    return session.roster.get(agent).transport.kind if agent in session.roster else "none"


def _local_deliveries(session: Session, pairs: set[Pair]) -> dict[Pair, list[int]]:
    """The local deliveries of each (message, agent), oldest first: one read."""
    found: dict[Pair, list[int]] = {}
    messages = sorted({message for message, _ in pairs})
    rows = session.store.connection().execute(
        "SELECT id, message_id, agent_id FROM deliveries WHERE message_id IN (SELECT value FROM json_each(?)) "
        "ORDER BY id", (json.dumps(messages),)).fetchall()
    for row in rows:
        pair = (str(row[1]), str(row[2]))
        if pair in pairs:
            found.setdefault(pair, []).append(int(row[0]))
    return found


def take(session: Session, ledger: Ledger, entry: DeliveryEntry) -> tuple[int, bool]:
    """Queue one entry unless it is there already; returns (local delivery id, whether it is new)."""
    return take_all(session, ledger, [entry])[0]


def take_all(session: Session, ledger: Ledger, entries: Sequence[DeliveryEntry]) -> list[tuple[int, bool]]:
    """Queue each entry in the local outbox unless it is there already, in order; returns, per entry,
    (local delivery id, whether it is new). While the relay is stopped (stop all) new deliveries are
    cancelled at once."""
    if not entries:
        return []
    store = session.store
    # first: the deliveries' events find them (by message and agent until their local id is written)
    known = ledger.record_many([(e.captain, e.delivery, e.message.id, e.agent) for e in entries])
    first: dict[Key, int] = {}  # captain delivery -> index of its first entry in this read
    pending = []  # indexes of first entries whose captain delivery has no local delivery yet
    for i, row in enumerate(known):
        if row.local_delivery is None and row.key not in first:
            pending.append(i)
        first.setdefault(row.key, i)
    pairs = {(entries[i].message.id, entries[i].agent) for i in pending}
    existing = _local_deliveries(session, pairs) if pairs else {}
    owned = ledger.mapped_locals_of(set(existing)) if existing else {}  # only where a local delivery exists
    local: dict[Key, int] = {}  # captain delivery -> local delivery mapped in this read
    queue = []
    for i in pending:
        entry = entries[i]
        pair = (entry.message.id, entry.agent)
        mine = owned.setdefault(pair, set())
        unowned = [d for d in existing.get(pair, []) if d not in mine]
        if unowned:  # queued before a crash kept its id from being written: it is this one
            local[known[i].key] = unowned[0]
            mine.add(unowned[0])
        else:
            queue.append(i)
    new: set[int] = set()
    if queue:
        ids = store.enqueue_many([(entries[i].message, entries[i].agent, _transport(session, entries[i].agent))
                                  for i in queue])
        for i, local_id in zip(queue, ids, strict=True):
            local[known[i].key] = local_id
            new.add(i)
    if local:
        ledger.set_locals(sorted(local.items()))
    if new and session.dispatcher.stopped:
        for i in sorted(new):
            try:
                store.mark_cancelled(local[known[i].key], STOPPED)
            except StoreError:
                pass  # claimed meanwhile by another process on this outbox: it reports its own outcome
    elif new:
        session.dispatcher.notify()
    results = []
    for i, row in enumerate(known):
        if row.local_delivery is not None:
            results.append((row.local_delivery, False))  # the same captain delivery again
        else:
            results.append((local[row.key], i in new))
    return results
