"""The composition root: config, roster, rules, outbox, monitor and dispatcher, wired once.

The CLI and the GUI both open a ``Session``; nothing here starts a thread. A session recovers
the outbox on open: a delivery a crashed process left ``sending`` becomes ``uncertain``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from quarterdeck.core.compose.submit import Submission, submit
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


@dataclass
class Session:
    loaded: LoadedConfig
    roster: Roster
    store: Store
    rules: RuleStore
    monitor: Monitor
    dispatcher: Dispatcher
    recovered: list[DeliveryRow] = field(default_factory=list)

    @classmethod
    def open(cls, *, config_file: Path | None = None, roster_path: Path | None = None,
             data_dir: Path | None = None, roster: Roster | None = None,
             transport_factory: Callable[[Agent], Transport] | None = None, stagger: float = 0.05,
             skip_transports: frozenset[str] = frozenset()) -> Session:
        loaded = load_config(config_file=config_file)
        config = loaded.config
        if roster is None:
            roster = load_roster(roster_path)
        rules = RuleStore([active_rules_path(config.validation_rules_path)])
        rules.reload()
        store = Store(default_db_path(data_dir))
        recovered = store.recover()
        monitor = Monitor(collection_interval=config.collection_interval,
                          max_data_points=config.max_data_points)
        dispatcher = Dispatcher(store, roster, config=config, monitor=monitor, stagger=stagger,
                                skip_transports=skip_transports,
                                transport_factory=transport_factory or transport_for,
                                desk_return=DeskReturn())
        return cls(loaded, roster, store, rules, monitor, dispatcher, recovered)

    @property
    def validator(self) -> Validator | None:
        return Validator(self.rules.active) if self.loaded.config.enable_validation else None

    def set_roster(self, roster: Roster) -> None:
        """Use ``roster`` from now on (the caller saved it); the dispatcher follows."""
        self.roster = roster
        self.dispatcher.set_roster(roster)

    def submit(self, message: Message, *, captain_last: bool = False, when_idle: float | None = None) -> Submission:
        """Validate and queue ``message``; the dispatcher delivers it (``when_idle``: once each
        recipient is idle, waiting at most that many seconds)."""
        submission = submit(self.store, self.roster, message, validator=self.validator,
                            captain_last=captain_last, when_idle=when_idle)
        if submission.redacted:
            self.dispatcher.remember_raw(message)
        self.dispatcher.notify()
        return submission

    def close(self) -> None:
        self.store.close()
