"""The Onboarding panel: wrap up the chosen agents' chats and onboard them into new chats.

Check agents (all by default), pick a style, Preview to read each agent's two texts exactly as
they will be typed, Start to run. Both go through ``quarterdeck.core.onboarding`` on the background runner:
Preview builds and checks the plan; Start builds it, then queues it as a second job, so the
progress table knows every message id before the first delivery event can arrive. States come
only from the dispatcher's events (and the gate's cancellations, which it reports the same way).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QPushButton, QTableView, QTextBrowser, QWidget

from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.onboarding import Plan, Queued, build_plan, gate_for, queue_plan, store_contracts
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.composer.sending import confirm_dialog
from quarterdeck.gui.onboarding.model import AGENT, OnboardingModel
from quarterdeck.gui.onboarding.view import build_view, say, step_html
from quarterdeck.gui.panel import Panel

if TYPE_CHECKING:
    from quarterdeck.gui.context import AppContext

STYLE_KEY = "onboarding/style"
URGENT_KEY = "onboarding/urgent"
SENDER_KEY = "composer/sender"  # one sender name for everything the captain sends


class OnboardingPanel(Panel):
    TITLE = "Onboarding"
    NAME = "onboarding"
    AREA = Qt.DockWidgetArea.RightDockWidgetArea
    TAB_WITH = "composer"
    # made by quarterdeck.gui.onboarding.view.build_view
    model: OnboardingModel
    table: QTableView
    all_button: QPushButton
    none_button: QPushButton
    style_combo: QComboBox
    urgent: QCheckBox
    preview_button: QPushButton
    start_button: QPushButton
    summary: QLabel
    notice: QLabel
    preview: QTextBrowser

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.plan: Plan | None = None  # the last plan previewed or started
        self.busy = False
        self.confirm: Callable[[str, str], bool | str] = lambda title, text: confirm_dialog(self, title, text)
        build_view(self)
        self._build_actions()
        self._restore_options()
        self.model.set_roster(ctx.roster)
        self.table.setCurrentIndex(self.model.index(0, AGENT))
        self.gate = gate_for(ctx.session.dispatcher, ctx.store)
        self.gate.add_listener(ctx.delivery.sig_delivery_event.emit)  # its cancels reach every panel
        ctx.delivery.sig_delivery_event.connect(self._on_delivery_delivery_event)
        ctx.delivery.sig_stopped.connect(self._on_delivery_stopped)
        ctx.sig_roster_changed.connect(self._on_ctx_roster_changed)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)
        self.model.dataChanged.connect(self._on_model_data_changed)
        self.all_button.clicked.connect(self.check_all)
        self.none_button.clicked.connect(self.check_none)
        self.preview_button.clicked.connect(self.show_preview)
        self.start_button.clicked.connect(self.start)
        self.style_combo.currentIndexChanged.connect(self._on_options_changed)
        self.urgent.toggled.connect(self._on_options_changed)
        self._update_buttons()

    def _build_actions(self) -> None:
        def action(name: str, text: str, keys: str, tip: str, slot: Callable[[], object]) -> QAction:
            made = QAction(text, self)
            made.setObjectName(f"action-onboarding-{name}")
            made.setShortcut(QKeySequence(keys))
            native = QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)
            made.setToolTip(f"{tip} ({native})" if keys else tip)
            made.setStatusTip(tip)
            made.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            made.triggered.connect(slot)
            self.addAction(made)
            return made

        self.open_action = action("open", "Onboard agents…", "Ctrl+Shift+O",
                                  "Open the Onboarding panel: wrap up chats and start new ones", self.focus_panel)
        # Preview and Start have no window-wide keys (the Composer's Ctrl+P and Ctrl+Enter are
        # taken): the palette lists them, and the buttons answer to Alt+P and Alt+S in the panel.
        self.preview_action = action("preview", "Preview onboarding", "",
                                     "Show each checked agent's wrap-up and onboarding texts", self.show_preview)
        self.start_action = action("start", "Start onboarding", "",
                                   "Wrap up and onboard the checked agents", self.start)
        self.preview_button.setToolTip("Show each checked agent's two texts exactly as they will be typed "
                                       "(Alt+P); nothing is sent")

    def _restore_options(self) -> None:
        style = self.ctx.settings.get(STYLE_KEY, "friendly", str)
        self.style_combo.setCurrentIndex(max(0, self.style_combo.findData(style)))
        self.urgent.setChecked(self.ctx.settings.get(URGENT_KEY, False, bool))

    # -- Panel interface -------------------------------------------------------------------------
    def commands(self) -> list[QAction]:
        return [self.open_action, self.preview_action, self.start_action]

    # -- commands --------------------------------------------------------------------------------
    @Slot()
    def focus_panel(self) -> None:
        self.bring_forward()
        self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def check_all(self) -> None:
        self.model.set_checked(self.model.ids())

    @Slot()
    def check_none(self) -> None:
        self.model.set_checked(())

    @Slot()
    def show_preview(self) -> bool:
        """Build and check the plan in the background, then show the current agent's texts."""
        if not self._can_run("No preview"):
            return False
        self._set_busy(True)
        self.ctx.jobs.run(self._planner(), self._on_preview_built, self._on_plan_failed, owner=self)
        return True

    @Slot()
    def start(self) -> bool:
        """Ask, then build and check the plan, then queue it (two background jobs)."""
        if not self._can_run("Not started"):
            return False
        if self.model.progress.active:
            say(self.notice, "Not started: the last onboarding is still being delivered (Stop all ends it).", True)
            return False
        chosen = self.model.checked()
        names = ", ".join(chosen[:12]) + (" …" if len(chosen) > 12 else "")
        if not self.confirm(f"Onboard {len(chosen)} agent{'s' if len(chosen) != 1 else ''}?",
                            f"Each of {names} gets the wrap-up in its current chat, then a new chat with "
                            "the onboarding text. Captains go last.\n\nThe GUI agents' windows are clicked "
                            "and typed into: keep your hands off the mouse until it is done."):
            say(self.notice, "Not started: cancelled.")
            return False
        self._set_busy(True)
        self.ctx.jobs.run(self._planner(), self._on_run_planned, self._on_plan_failed, owner=self)
        return True

    def _can_run(self, verb: str) -> bool:
        if self.busy:
            say(self.notice, f"{verb}: the last request is still being worked on.", True)
            return False
        if not self.model.checked():
            say(self.notice, f"{verb}: check at least one agent.", True)
            return False
        return True

    def _planner(self) -> Callable[[], Plan]:
        """The plan for the current choices, built where files and SQLite may be read."""
        ids, roster, session = self.model.checked(), self.ctx.roster, self.ctx.session
        style, urgent = self.style_combo.currentData(), self.urgent.isChecked()
        sender = self.ctx.settings.get(SENDER_KEY, "Captain", str) or "Captain"
        path = self.ctx.store.path
        return lambda: build_plan(roster, ids, style=style, urgent=urgent, sender=sender,
                                  contract_for=store_contracts(path), validator=session.validator)

    # -- outcomes --------------------------------------------------------------------------------
    def _on_preview_built(self, plan: Plan) -> None:
        self._set_busy(False)
        self.plan = plan
        self._show_current()
        notes = " ".join(f"Note: {n}." for n in plan.notes)
        say(self.notice, f"Preview of {len(plan.steps)} agent{'s' if len(plan.steps) != 1 else ''} "
                         f"(select a row to read its texts); nothing was sent. {notes}".rstrip())

    def _on_run_planned(self, plan: Plan) -> None:
        self.plan = plan
        self.model.start(plan)
        self._show_current()
        session, gate, lifts = self.ctx.session, self.gate, self.ctx.delivery.lifts
        self.ctx.jobs.run(lambda: queue_plan(session, plan, gate), partial(self._on_run_queued, lifts),
                          self._on_queue_failed, owner=self)
        self._update_summary()

    def _on_run_queued(self, lifts: tuple[int, int], queued: Queued) -> None:
        self._set_busy(False)
        self.ctx.delivery.lift_for_send(*lifts)  # like any send, a queued run lifts a stop-all
        self.ctx.delivery.notify()
        for submission in queued.submissions:
            self.ctx.sig_submitted.emit(submission)
        self.model.agents_changed(self.model.progress.queued(queued))
        count = len(queued.plan.steps)
        text = f"Queued {len(queued.submissions)} messages for {count} agent{'s' if count != 1 else ''}."
        if queued.not_queued:
            text += " Not queued: " + "; ".join(f"{a} {s}: {why}" for (a, s), why in queued.not_queued.items())
        say(self.notice, text, bool(queued.not_queued))
        self.ctx.sig_status.emit(f"Onboarding: {text}")
        self._update_summary()

    def _on_plan_failed(self, error: BaseException) -> None:
        self._set_busy(False)
        say(self.notice, f"Nothing was sent. {error}", True)
        self.ctx.sig_status.emit(f"Onboarding: nothing was sent: {str(error).splitlines()[0]}")

    def _on_queue_failed(self, error: BaseException) -> None:
        """An unexpected error while queuing (a full disk, say): part of the run may be queued."""
        self._set_busy(False)
        say(self.notice, f"Queuing stopped: {type(error).__name__}: {error}. The table shows what was "
                         "queued; the History panel has every delivery.", True)

    # -- helpers ---------------------------------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = len(self.model.checked())
        ready = chosen > 0 and not self.busy
        self.start_button.setEnabled(ready)
        self.preview_button.setEnabled(ready)
        self.start_button.setToolTip("Check at least one agent." if not chosen else
                                     f"Wrap up and onboard the {chosen} checked agent{'s' if chosen != 1 else ''}"
                                     " (Alt+S)")

    def _update_summary(self) -> None:
        self.summary.setText(self.model.progress.summary())

    def _show_current(self) -> None:
        index = self.table.currentIndex()
        agent_id = self.model.ids()[index.row()] if index.isValid() else None
        step = next((s for s in self.plan.steps if s.agent_id == agent_id), None) if self.plan else None
        if step is None and self.plan is not None and self.plan.steps:
            step = self.plan.steps[0]
        if step is None:
            self.preview.clear()
            return
        agent = self.ctx.roster.get(step.agent_id) if step.agent_id in self.ctx.roster else None
        keys = getattr(agent.transport, "new_chat_keys", None) if agent is not None else None
        self.preview.setHtml(step_html(step, keys))

    # -- slots -----------------------------------------------------------------------------------
    @Slot(object)
    def _on_delivery_delivery_event(self, event: DeliveryEvent) -> None:
        agent_id = self.model.progress.event(event)
        if agent_id is not None:
            self.model.agent_changed(agent_id)
            self._update_summary()

    @Slot()
    def _on_model_data_changed(self) -> None:
        self._update_buttons()  # a check box changed: Start needs at least one

    @Slot(int)
    def _on_delivery_stopped(self, _cancelled: int) -> None:
        self.model.agents_changed(self.model.progress.stopped())
        self._update_summary()

    @Slot(object)
    def _on_ctx_roster_changed(self, roster: Roster) -> None:
        self.model.set_roster(roster)
        self._update_buttons()

    @Slot()
    def _on_table_current_row_changed(self) -> None:
        if self.plan is not None:
            self._show_current()

    @Slot()
    def _on_options_changed(self) -> None:
        self.ctx.settings.set(STYLE_KEY, self.style_combo.currentData(), "friendly")
        self.ctx.settings.set(URGENT_KEY, self.urgent.isChecked(), False)
        self.plan = None  # the preview no longer shows what Start would send
        self.preview.clear()
