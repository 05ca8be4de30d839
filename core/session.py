"""The composition root: config, roster, rules, outbox, monitor and dispatcher, wired once.

The CLI and the GUI both open a ``Session``; nothing here starts a thread. A session recovers
the outbox on open: a delivery a crashed process left ``sending`` becomes ``uncertain``.

With a broker configured (``broker_url``, issue 14) and ``relays=True`` (a captain's process:
send, the panel) the session reads the relays' agents and merges them with the local roster
(``machines``: ``delivering`` is what the dispatcher delivers to and ``submit`` checks; ``roster``
stays the file's, the one the panel edits and saves, so no relay's agent is ever written into it),
delivers to remote agents through their relay, refuses a send to an id found on two machines, and
passes stop-all and resume-all on to every relay (``qd:control``). Deliveries to a relay's agents
go through the captain's forwarder (``quarterdeck.core.captain``), a companion of the dispatcher:
its threads start when the dispatcher first works (``run``, a ``DeliveryWorker``), the dispatcher
itself skips those agents, and ``close()`` ends the threads.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from quarterdeck.core.compose.submit import BatchRefused, Submission, UnknownRecipient, submit, submit_many
from quarterdeck.core.config import LoadedConfig, load_config
from quarterdeck.core.delivery.contract import Transport
from quarterdeck.core.dispatch.dispatcher import Dispatcher
from quarterdeck.core.models import Agent, Message
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.roster.roster import Roster, load_roster
from quarterdeck.core.store import DeliveryRow, Store, default_db_path
from quarterdeck.core.transports.gui.desk_return import DeskReturn
from quarterdeck.core.transports.registry import transport_for
from quarterdeck.core.validation import RuleStore, Validator
from quarterdeck.core.validation.location import active_rules_path

if TYPE_CHECKING:  # the broker's side (redis, the forwarder) loads only when a broker is configured
    from quarterdeck.core.captain import Forwarder
    from quarterdeck.core.relay.protocol import Announcement
    from quarterdeck.core.roster.remote import Machines
    from quarterdeck.core.transports.broker import BrokerLink, ControlOut

RELAYS_SEEN = "relays-seen.json"  # the relays as last read from the broker, for when it is unreachable
AS_LAST_SEEN = ": relays as last seen"  # ends the problem of a broker that cannot be read
RELAYS_FRESH_S = 2.0  # a submit reads the relays again when they were read longer ago (they heartbeat every 2 s)


class AmbiguousRecipient(UnknownRecipient):
    """A recipient's id is on more than one machine: nothing is sent to it, never a guess."""


class Session(Struct):
    loaded: LoadedConfig
    roster: Roster
    store: Store
    rules: RuleStore
    monitor: Monitor
    dispatcher: Dispatcher
    recovered: list[DeliveryRow] = field(default_factory=list)
    machines: Machines | None = None
    broker: BrokerLink | None = None
    forwarder: Forwarder | None = None
    control_out: ControlOut | None = None  # stop-all and resume-all to the relays
    relays_read_at: float = field(default_factory=time.monotonic)

    @classmethod
    def open(cls, *, config_file: Path | None = None, roster_path: Path | None = None,
             data_dir: Path | None = None, roster: Roster | None = None,
             transport_factory: Callable[[Agent], Transport] | None = None, stagger: float = 0.05,
             skip_transports: frozenset[str] = frozenset(), broker_url: str | None = None,
             relays: bool = False, relays_later: bool = False, batch_inbox: bool = False,
             search: bool = True) -> Session:
        """``relays=True``: this process is the captain's (send, agents list, the panel): with a broker
        configured (``broker_url`` overrides the configuration's) the relays' agents join. Off by
        default, so a ``quarterdeck relay``'s own session never sees its own announcement.
        ``relays_later=True`` (the panel, which must paint without waiting for a broker that may not
        answer): the relays start as last seen and the broker is first asked by ``refresh_relays``
        (or the first submit), off the caller's thread.
        ``batch_inbox=True``: inbox agents are delivered in batches beside the dispatcher
        (``quarterdeck.core.batch``; a relay's session always is).
        ``search=False``: the outbox is a delivery queue (a relay's: ``Store(search=False)``)."""
        loaded = load_config(config_file=config_file, overrides={"broker_url": broker_url} if broker_url else None)
        config = loaded.config
        if roster is None:
            roster = load_roster(roster_path)
        rules = RuleStore([active_rules_path(config.validation_rules_path)])
        rules.reload()
        store = Store(default_db_path(data_dir), search=search)
        recovered = store.recover()
        monitor = Monitor(collection_interval=config.collection_interval,
                          max_data_points=config.max_data_points)
        delivering, machines, link = roster, None, None
        factory: Callable[[Agent], Transport] = transport_factory or transport_for
        if config.broker_url and relays:
            from quarterdeck.core.transports.broker import BrokerLink

            link = BrokerLink(config.broker_url)
            machines = (last_seen_machines(roster, store.path.parent) if relays_later
                        else read_machines(link, roster, store.path.parent))
            delivering = machines.roster
            skip_transports = skip_transports | {"relay"}  # the forwarder's
        dispatcher = Dispatcher(store, delivering, config=config, monitor=monitor, stagger=stagger,
                                skip_transports=skip_transports, transport_factory=factory,
                                desk_return=DeskReturn())
        session = cls(loaded, roster, store, rules, monitor, dispatcher, recovered, machines, link)
        if batch_inbox:
            from quarterdeck.core.batch import attach

            attach(dispatcher)
        if machines is not None:
            session._note_offline(machines)
            if relays_later:
                session.relays_read_at = float("-inf")  # never read: a submit reads them first
        if link is not None:
            from quarterdeck.core.captain import Forwarder

            session.forwarder = Forwarder(dispatcher, link, wait=config.relay_wait)
            dispatcher.companions.add(session.forwarder)
            session._relay_stops(link)
        return session

    def _relay_stops(self, link: BrokerLink) -> None:
        """Stop-all and resume-all recorded here, or by another process on this outbox while this one
        delivers, go to every relay as well (``qd:control``, sent by ``ControlOut``'s thread, again until
        the broker takes them)."""
        from quarterdeck.core.transports.broker import ControlOut

        stop, resume = self.dispatcher.stop_everywhere, self.dispatcher.resume_everywhere
        self.control_out = out = ControlOut(link)

        def stopped_at() -> int:
            return self.store.stop_mark().generation

        def resumed_at() -> int:
            return self.store.stop_mark().resumed

        def stop_everywhere() -> int:
            cancelled = stop()
            out.post("stop", stopped_at)
            return cancelled

        def resume_everywhere() -> None:
            resume()
            out.post("resume", resumed_at)

        self.dispatcher.stop_everywhere = stop_everywhere
        self.dispatcher.resume_everywhere = resume_everywhere
        # one recorded by another process on this outbox (``quarterdeck stop`` while the broker was down)
        self.dispatcher.stopping.add_heard_listener(
            lambda kind: out.post(kind, stopped_at if kind == "stop" else resumed_at, unless_said=True))

    @property
    def validator(self) -> Validator | None:
        return Validator(self.rules.active) if self.loaded.config.enable_validation else None

    def set_roster(self, roster: Roster) -> None:
        """Use ``roster`` from now on (the caller saved it); the dispatcher follows (with the relays'
        agents merged in, when a broker is configured)."""
        self.roster = roster
        self.refresh_relays()

    def refresh_relays(self) -> None:
        """Read the relays again (who runs, their agents, when each was seen); the dispatcher follows."""
        if self.broker is not None:
            self.machines = read_machines(self.broker, self.roster, self.store.path.parent)
            self.relays_read_at = time.monotonic()
            self._note_offline(self.machines)
        self.dispatcher.set_roster(self.delivering)

    def _note_offline(self, machines: Machines) -> None:
        """Health says a silent relay's agents cannot be reached (their deliveries wait for it)."""
        self.dispatcher.companions.unreachable = {
            p.agent.id: f"relay {p.machine} {p.relay.health}: its deliveries wait for it"
            for p in machines.placed if p.offline and p.relay is not None}

    @property
    def delivering(self) -> Roster:
        """The agents a message can go to: the local roster and, with a broker, the relays' agents."""
        return self.machines.roster if self.machines is not None else self.roster

    def submit(self, message: Message, *, captain_last: bool = False, when_idle: float | None = None) -> Submission:
        """Validate and queue ``message``; the dispatcher delivers it (``when_idle``: once each
        recipient is idle, waiting at most that many seconds)."""
        if self.broker is not None and time.monotonic() - self.relays_read_at > RELAYS_FRESH_S:
            self.refresh_relays()  # a relay started (or stopped) since: the send goes by what is true now
        if self.machines is not None and (refused := self.machines.refusal(message.recipients)):
            raise AmbiguousRecipient(refused)
        try:
            submission = submit(self.store, self.delivering, message, validator=self.validator,
                                captain_last=captain_last, when_idle=when_idle)
        except UnknownRecipient as exc:
            notes = [n for n in (self.machines.problems if self.machines else ()) if "unreachable" in n]
            if notes:  # the agent may be on a relay this session could not read
                raise UnknownRecipient(f"{exc} ({notes[0]})") from exc
            raise
        if submission.redacted:
            self.dispatcher.remember_raw(message)
        self.dispatcher.notify()
        return submission

    def submit_many(self, messages: Sequence[Message], *, captain_last: bool = False,
                    when_idle: float | None = None) -> list[Submission]:
        """Validate and queue ``messages`` as :meth:`submit` does each, stored in one transaction (one
        fsync); all or nothing: one that would be refused raises ``BatchRefused`` (which one, and why)
        and none is queued."""
        if self.broker is not None and time.monotonic() - self.relays_read_at > RELAYS_FRESH_S:
            self.refresh_relays()
        if self.machines is not None:
            for index, message in enumerate(messages):
                if refused := self.machines.refusal(message.recipients):
                    raise BatchRefused(index, len(messages), message, AmbiguousRecipient(refused))
        submissions = submit_many(self.store, self.delivering, messages, validator=self.validator,
                                  captain_last=captain_last, when_idle=when_idle)
        for submission in submissions:
            if submission.redacted:
                self.dispatcher.remember_raw(submission.message)
        if submissions:
            self.dispatcher.notify()
        return submissions

    def close(self) -> None:
        if self.control_out is not None:
            self.control_out.close()
        if self.forwarder is not None:
            self.forwarder.close()
        if self.broker is not None:
            self.broker.close()
        self.store.close()


def read_machines(link: BrokerLink, local: Roster, data_dir: Path) -> Machines:
    """The local roster merged with the relays' agents; with the broker unreachable, the relays as last
    read (kept in ``relays-seen.json`` in the data folder), which then show as not seen for a while."""
    from redis import RedisError

    from quarterdeck.core.roster.remote import broker_now, merge, read_relays
    from quarterdeck.core.transports.broker import BrokerDown

    notes: list[str] = []
    cache = data_dir / RELAYS_SEEN
    now = time.time()  # ages in the broker's clock (relays stamp seen_at with it) while it answers
    try:
        relays = read_relays(link.client, problems=notes)
        now = broker_now(link.client)
        _keep(cache, json.dumps([a.to_json() for a in relays]), notes)
    except BrokerDown as exc:
        notes.append(f"{link.unreachable(exc)}{AS_LAST_SEEN}")
        relays = _cached(cache, notes)
    except RedisError as exc:  # something answers that is not a usable Redis (a proxy, a refusal)
        why = " ".join(str(exc).split())[:160] or type(exc).__name__
        notes.append(f"broker {link.where} answered but not as Redis should ({why}){AS_LAST_SEEN}")
        relays = _cached(cache, notes)
    return merge(local, relays, now=now, notes=notes)


def last_seen_machines(local: Roster, data_dir: Path) -> Machines:
    """The local roster merged with the relays as last read (``relays-seen.json``), asking the broker
    nothing: each relay shows its real last-seen age until the broker is read."""
    from quarterdeck.core.roster.remote import merge

    notes: list[str] = []
    return merge(local, _cached(data_dir / RELAYS_SEEN, notes), now=time.time(), notes=notes)


def _keep(cache: Path, text: str, notes: list[str]) -> None:
    """Write the relays as read, in one rename: the panel's relay reader and a submit may both write it."""
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, cache)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        notes.append(f"{cache} not written: {exc.strerror or exc}")


def _cached(cache: Path, notes: list[str]) -> list[Announcement]:
    from quarterdeck.core.relay.protocol import Announcement, MalformedEntry

    try:
        raw: Any = json.loads(cache.read_text(encoding="utf-8"))
        return [Announcement.from_json(item) for item in raw]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, TypeError, MalformedEntry) as exc:
        notes.append(f"{cache} unreadable: {exc}")
        return []
