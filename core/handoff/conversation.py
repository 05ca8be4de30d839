"""One hand-off connection on the server's side: hello, the message queued through the session, then
each step of its deliveries until every one has an outcome (the protocol: :mod:`.wire`)."""
from __future__ import annotations

import logging
import queue
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from quarterdeck.core.handoff.wire import VERSION, Lines, encode

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
    from quarterdeck.core.handoff.server import HandoffServer
    from quarterdeck.core.models import Message
    from quarterdeck.core.store import DeliveryRow

log = logging.getLogger(__name__)

ENDED = frozenset({"delivered", "failed", "cancelled", "uncertain", "expired"})
FINAL = ENDED | {"paused"}  # paused: queued again for the next process; the sender's wait ends there too
REQUEST_WAIT_S = 10.0
SEND_WAIT_S = 10.0


class Refusal(Exception):
    """The message is not queued: ``answer`` is the line that says so (fallback or error)."""

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__(str(answer))
        self.answer = answer


def event_fields(e: DeliveryEvent) -> dict[str, Any]:
    return {"delivery_id": e.delivery_id, "message_id": e.message_id, "agent": e.agent_id, "state": e.state,
            "attempt": e.attempt, "detail": e.detail, "latency": e.latency, "verdict": e.verdict,
            "evidence": e.evidence, "outcome": e.outcome, "confirmed": e.confirmed}


def row_fields(row: DeliveryRow) -> dict[str, Any]:
    """A delivery's stored outcome (recorded by whichever process) as an event line's fields."""
    return {"delivery_id": row.id, "message_id": row.message_id, "agent": row.agent_id, "state": str(row.state),
            "attempt": row.attempts, "detail": row.reason or "", "verdict": row.verdict,
            "latency": None if row.latency_ms is None else row.latency_ms / 1000.0,
            "evidence": row.evidence or "", "outcome": row.outcome, "confirmed": row.confirmed}


class Conversation:
    def __init__(self, server: HandoffServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.events: queue.Queue[DeliveryEvent] = queue.Queue()

    def run(self) -> None:
        try:
            self.sock.settimeout(SEND_WAIT_S)
            self._say({"hello": VERSION, **self.server.hello()})
            self.sock.settimeout(REQUEST_WAIT_S)
            request = Lines(self.sock).next()
            if request is None or not isinstance(request.get("send"), dict):
                return  # the sender chose to do the work itself
            self.sock.settimeout(SEND_WAIT_S)
            self.server.subscribe(self.events)
            try:
                try:
                    ids = self._queue(request["send"])
                except Refusal as refused:
                    self._say(refused.answer)
                    return
                self._follow(ids)
            finally:
                self.server.unsubscribe(self.events)
        except (OSError, ValueError) as exc:  # the sender went away, or said something unreadable
            log.debug("hand-off connection ended: %s", exc)
        finally:
            self.sock.close()

    def _say(self, obj: dict[str, Any]) -> None:
        self.sock.sendall(encode(obj))

    def _message(self, fields: dict[str, Any]) -> Message:
        from quarterdeck.core.model_check import Invalid, checked
        from quarterdeck.core.models import Message

        try:
            return checked(Message, {"sender": fields["sender"], "recipients": fields["recipients"],
                                     "priority": fields["priority"], "tags": fields["tags"],
                                     "content": fields["content"],
                                     "type": "broadcast" if fields["broadcast"] else fields["type"]})
        except (Invalid, KeyError, TypeError) as exc:  # the sender's own path says what is wrong
            raise Refusal({"fallback": f"the message is not valid here: {type(exc).__name__}"}) from exc

    def _queue(self, fields: dict[str, Any]) -> list[int]:
        from quarterdeck.core.compose.submit import SubmitRefused, UnknownRecipient, resolve_recipients
        from quarterdeck.core.store.faults import translate

        session = self.server.session
        message = self._message(fields)
        captain_last = bool(fields.get("captain_last"))
        when_idle = fields.get("when_idle")
        try:
            agents = resolve_recipients(message, session.delivering, captain_last=captain_last)
        except Exception:  # submit below says what is wrong, as the sender's own path would
            agents = []
        skipped = [a.id for a in agents if not self.server.delivers_to(a)]
        if skipped:
            raise Refusal({"fallback": f"this process does not deliver to {', '.join(skipped)} now"})
        try:
            session.rules.reload_if_changed()  # the sender's own path would read the rules as they are now
            submission = session.submit(message, captain_last=captain_last,
                                        when_idle=None if when_idle is None else float(when_idle))
        except SubmitRefused as exc:
            lines = [f"  {v.severity:<7} {v.rule_id}: {v.message}" for v in exc.report.violations]
            raise Refusal({"error": {"lines": [*lines, f"quarterdeck: error: {exc}"], "exit": 2}}) from exc
        except UnknownRecipient as exc:
            raise Refusal({"error": {"lines": [f"quarterdeck: error: {exc}"], "exit": 2}}) from exc
        except Exception as exc:
            fault = translate(exc, session.store.path.parent)
            if fault is None:
                log.exception("a handed-off message could not be queued")
                text = f"quarterdeck: internal error: {type(exc).__name__}: {exc}"[:500]
                raise Refusal({"error": {"lines": [text], "exit": 70}}) from exc
            text = f"quarterdeck: message not accepted, nothing was queued: {fault}"
            raise Refusal({"error": {"lines": [text], "fault": fault.kind}}) from exc
        self.server.wake()
        ids = list(submission.delivery_ids)
        self._say({"accepted": {"message_id": message.id,
                                "deliveries": [[i, a] for i, a in zip(ids, submission.recipients, strict=False)]}})
        return ids

    def _follow(self, ids: list[int]) -> None:
        """Each step of deliveries ``ids`` as it happens, and an outcome another process recorded as it is
        seen in the outbox, until every one has ended (or the server stops)."""
        mine, finals = set(ids), set[int]()
        poll = self.server.poll
        next_look = time.monotonic() + poll
        while finals != mine:
            if self.server.closing.is_set():
                self._say({"closing": "the Quarterdeck delivering it stopped"})
                return
            try:
                event = self.events.get(timeout=max(0.0, next_look - time.monotonic()))
            except queue.Empty:
                next_look = time.monotonic() + poll
                self._recorded(mine - finals, finals)
                continue
            self._step(event, mine, finals)

    def _recorded(self, waiting: set[int], finals: set[int]) -> None:
        store = self.server.session.store
        try:
            ended = [i for i, state in store.states_of(waiting).items() if state in ENDED]
        except Exception as exc:  # a busy or failing outbox: the next look tries again
            log.debug("hand-off: outcomes not read: %s", exc)
            return
        if not ended:
            return
        while True:  # this process's own events first: they say more than the row
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            self._step(event, waiting, finals)
        for delivery_id in ended:
            if delivery_id not in finals:
                try:
                    row = store.delivery(delivery_id)
                except Exception as exc:
                    log.debug("hand-off: delivery %d not read: %s", delivery_id, exc)
                    continue
                finals.add(delivery_id)
                self._say({"event": row_fields(row)})

    def _step(self, event: DeliveryEvent, mine: set[int], finals: set[int]) -> None:
        if event.delivery_id in mine and event.delivery_id not in finals:
            if event.state in FINAL:
                finals.add(event.delivery_id)
            self._say({"event": event_fields(event)})


def serve_connection(server: HandoffServer, sock: socket.socket) -> Callable[[], None]:
    return Conversation(server, sock).run
