"""What every panel is given: the open session, the background runner, the delivery thread,
the settings, and the app-wide signals panels use to hear of each other's changes.

Panels never talk to each other directly. The roster panel saves an agent through
``set_roster`` and everyone hears ``sig_roster_changed``; the composer queues a message through
``submit`` and the history hears ``sig_submitted``; the rule editor activates rules through
``activate_rules`` and the composer re-checks on ``sig_rules_changed``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from quarterdeck.core.roster.roster import Roster, save_roster
from quarterdeck.gui.delivery import DeliveryService
from quarterdeck.gui.jobs import Jobs
from quarterdeck.gui.relays import RelayWatch
from quarterdeck.gui.roster.placement import Shown, shown
from quarterdeck.gui.settings import Settings

if TYPE_CHECKING:  # annotations only: the session's modules load with it, the demo's only when one runs
    from quarterdeck.core.compose.submit import Submission
    from quarterdeck.core.config import CoordinationConfig
    from quarterdeck.core.dispatch.dispatcher import Dispatcher
    from quarterdeck.core.models import Message
    from quarterdeck.core.monitor import Monitor
    from quarterdeck.core.session import Session
    from quarterdeck.core.store import Store
    from quarterdeck.gui.demo import DemoSwarm

log = logging.getLogger(__name__)


class AppContext(QObject):
    sig_roster_changed = Signal(object)  # quarterdeck.core.roster.roster.Roster
    sig_rules_changed = Signal()  # the active rule set was replaced
    sig_submitted = Signal(object)  # quarterdeck.core.compose.submit.Submission: deliveries were queued
    # (delivery ids, message ids) whose stored rows were seen changed with no delivery event
    # (the agent's own hook confirmed them, read back from the outbox)
    sig_outbox_changed = Signal(object, object)
    sig_confirmed = Signal(object)  # delivery ids the agents' own hooks confirmed (recorded in the outbox)
    sig_status = Signal(str)  # a line for the status bar
    # a storage fault met by background work (full disk, damaged, locked, read-only or missing
    # database): one line saying what, where and what to do; the panel keeps running
    sig_fault = Signal(str)
    sig_agent_focused = Signal(str)  # "work with this agent" (palette, roster double-click)
    # the agents messages can go to (``fleet``) or where they run (``shown``) changed: relays read
    # again (every 2 s with a broker: quarterdeck.gui.relays), or this machine's roster saved
    sig_fleet_changed = Signal()

    def __init__(self, session: Session, *, roster_path: Path | None, settings: Settings | None = None,
                 demo: DemoSwarm | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session: Session = session
        self.roster_path: Path | None = roster_path
        self.demo: DemoSwarm | None = demo  # the simulated swarm when the roster is the demo's
        self.settings: Settings = settings or Settings()
        self.jobs: Jobs = Jobs(self)
        self.delivery: DeliveryService = DeliveryService(session, self.jobs, self)
        self.relays = RelayWatch(self)  # with a broker: the relays' agents, read again every 2 s
        self.jobs.sig_job_failed.connect(self.sig_status)
        self.jobs.sig_fault.connect(self.sig_fault)
        self.sig_fault.connect(self.sig_status)  # the status bar shows it too

    # -- shortcuts ---------------------------------------------------------------------------
    @property
    def roster(self) -> Roster:
        return self.session.roster

    @property
    def fleet(self) -> Roster:
        """The agents a message can go to: this machine's and, with a broker, every relay's (an id on
        two machines left out: a send to it is refused, never guessed)."""
        return self.session.delivering

    @property
    def shown(self) -> Shown:
        """What the roster shows: every machine's agents, where each runs, which are offline."""
        return shown(self.session.roster, self.session.machines)

    @property
    def store(self) -> Store:
        return self.session.store

    @property
    def dispatcher(self) -> Dispatcher:
        return self.session.dispatcher

    @property
    def monitor(self) -> Monitor:
        return self.session.monitor

    @property
    def config(self) -> CoordinationConfig:
        return self.session.loaded.config

    # -- changes every panel hears of ----------------------------------------------------------
    def set_roster(self, roster: Roster, *, on_saved: Callable[[Roster], None] | None = None,
                   on_error: Callable[[BaseException], None] | None = None) -> None:
        """Save ``roster`` (with a backup) in the background, then make it the live roster (the
        session takes it there too: with a broker it reads the relays again to merge them)."""
        path = self.roster_path

        def save() -> Roster:
            if path is not None:
                save_roster(roster, path)
            self.session.set_roster(roster)
            return roster

        def saved(result: Roster) -> None:
            self.sig_roster_changed.emit(result)
            self.sig_fleet_changed.emit()
            if on_saved is not None:
                on_saved(result)

        self.jobs.run(save, saved, on_error)

    def submit(self, message: Message, *, captain_last: bool = False, when_idle: float | None = None,
               on_done: Callable[[Submission], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None) -> None:
        """Validate and queue ``message`` in the background; a stop-all is lifted by a new send, once it
        is queued (a refused one, or one that a Stop all pressed meanwhile overtook, leaves the stop).
        ``when_idle``: each delivery waits until its agent is idle, for at most that many seconds."""
        lifts = self.delivery.lifts

        def queued(submission: Submission) -> None:
            self.delivery.lift_for_send(*lifts)
            self.delivery.notify()
            self.sig_submitted.emit(submission)
            if on_done is not None:
                on_done(submission)

        self.jobs.run(lambda: self.session.submit(message, captain_last=captain_last, when_idle=when_idle),
                      queued, on_error)

    def confirmed_elsewhere(self, delivery_ids: list[int]) -> None:
        """The watch thread recorded the agents' confirmations of these deliveries (callable from any
        thread: the signals reach the panels on the UI thread)."""
        self.sig_confirmed.emit(set(delivery_ids))
        self.sig_outbox_changed.emit(set(delivery_ids), set())

    def rules_activated(self) -> None:
        """The rule editor switched the active rules: tell everyone who validates."""
        self.sig_rules_changed.emit()

    # -- lifetime ----------------------------------------------------------------------------
    def start(self) -> None:
        self.delivery.start()
        self.relays.start()

    def shutdown(self) -> None:
        self.relays.stop()
        self.delivery.shutdown()
        self.jobs.shutdown()
        self.session.close()
        if self.demo is not None:
            self.demo.close()
