"""The rule editor's disk side: reading, saving and watching the rule files, all in the
background runner, with results announced by signal on the UI thread.

Saving hands the running session a new rule set only through ``activate_rules``, and only when
the texts were checked clean together; the session's store is swapped inside the job, so any
job queued after the save (a message being submitted) already validates with the new rules.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from quarterdeck.core.validation import Diagnostic, RuleStore
from quarterdeck.core.validation.editing import (
    OpenedRules,
    SaveOutcome,
    activate_rules,
    open_rules,
    read_texts,
    save_rules,
)
from quarterdeck.core.validation.location import RulesLocation

if TYPE_CHECKING:  # annotations only
    from quarterdeck.core.session import Session
    from quarterdeck.gui.context import AppContext

WATCH_INTERVAL_MS = 2000


@dataclass(frozen=True, slots=True)
class SavedRules:
    """A finished save: what was written and, unless drafts, the store now in force."""

    outcome: SaveOutcome
    texts: dict[str, str]
    store: RuleStore | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    activated: bool = False
    errors: int = 0  # errors in the edited texts (drafts were written because of them)


@dataclass(frozen=True, slots=True)
class DiskState:
    """One look at the disk: did the store load new rules, and the files' current texts."""

    activated: bool
    reloaded: list[Diagnostic] | None
    texts: dict[str, str | None]


def _save_and_activate(session: Session, location: RulesLocation, texts: dict[str, str], valid: bool,
                       errors: int) -> SavedRules:
    outcome = save_rules(location, texts, valid=valid)
    if outcome.drafts:
        return SavedRules(outcome, texts, errors=errors)
    before = session.rules
    generation = before.generation
    store, diagnostics = activate_rules(before, outcome.location)
    session.rules = store
    activated = store.loaded and (store is not before or store.generation > generation)
    return SavedRules(outcome, texts, store, tuple(diagnostics), activated)


def _look(store: RuleStore, location: RulesLocation, names: list[str]) -> DiskState:
    generation = store.generation
    reloaded = store.reload_if_changed()
    return DiskState(store.generation > generation, reloaded, read_texts(location, names))


class RuleFiles(QObject):
    sig_opened = Signal(object)  # quarterdeck.core.validation.editing.OpenedRules
    sig_open_failed = Signal(str)
    sig_saved = Signal(object)  # SavedRules
    sig_save_failed = Signal(str)
    sig_disk_checked = Signal(object)  # DiskState

    def __init__(self, ctx: AppContext, names: Callable[[], list[str]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx: AppContext = ctx
        self.location: RulesLocation | None = None
        self.saving = False
        self._names = names
        self._looking = False
        self._timer = QTimer(self, interval=WATCH_INTERVAL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    def open(self) -> None:
        """Locate and read the active rule files (and drafts kept beside them)."""
        configured = self.ctx.config.validation_rules_path
        self.ctx.jobs.run(partial(open_rules, configured), self._on_opened, self._on_open_error, owner=self)

    def save(self, texts: dict[str, str], *, valid: bool, errors: int = 0) -> bool:
        """Write ``texts`` (as the rules when ``valid``, else as drafts); False if busy."""
        if self.saving or self.location is None:
            return False
        self.saving = True
        job = partial(_save_and_activate, self.ctx.session, self.location, dict(texts), valid, errors)
        self.ctx.jobs.run(job, self._on_saved, self._on_save_error, owner=self)
        return True

    def look_now(self) -> None:
        """Ask the store to reload if the files changed, and read their texts."""
        if self.saving or self._looking or self.location is None:
            return
        self._looking = True
        job = partial(_look, self.ctx.session.rules, self.location, self._names())
        self.ctx.jobs.run(job, self._on_looked, self._on_look_error, owner=self)

    def stop(self) -> None:
        self._timer.stop()

    # -- results -----------------------------------------------------------------------------
    def _on_opened(self, opened: OpenedRules) -> None:
        self.location = opened.location
        self.sig_opened.emit(opened)
        self._timer.start()

    def _on_open_error(self, error: BaseException) -> None:
        self.sig_open_failed.emit(str(error))

    def _on_saved(self, saved: SavedRules) -> None:
        self.saving = False
        self.location = saved.outcome.location
        self.sig_saved.emit(saved)

    def _on_save_error(self, error: BaseException) -> None:
        self.saving = False
        self.sig_save_failed.emit(str(error))

    def _on_looked(self, state: DiskState) -> None:
        self._looking = False
        self.sig_disk_checked.emit(state)

    def _on_look_error(self, error: BaseException) -> None:
        self._looking = False
        self.ctx.sig_status.emit(f"Rules: could not look at the rule files ({error})")

    @Slot()
    def _on_timer_timeout(self) -> None:
        self.look_now()
