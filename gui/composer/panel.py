"""The Composer panel: write a message, see the rules' verdict as you type, send it, watch it land.

Top to bottom: recipients (checkable roster, All, groups), the message fields (type, urgent,
tags), templates, the text box, the live chips of the last send right under it, its live rule
check (250 ms after the last keystroke; spans underlined with the rule id on hover, problems
listed, score coloured by status), the send row, and the per-recipient table of the last send.
The rule check and the composition are ``core.compose.draft``; this module only wires widgets to it.

The check follows the send mode: with nobody ticked only Broadcast can send, so the draft is
checked as that broadcast (never "recipients is empty"), and Send says to tick someone. A
message failing an ``error`` rule cannot be sent; trying says why in the notice and the status
bar and flashes the problems. A warning can be allowed for one send ("Allow here").
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence, QTextCursor
from PySide6.QtWidgets import QWidget

from quarterdeck.core.compose import draft as drafting
from quarterdeck.core.compose.draft import Check, Draft, Problem
from quarterdeck.core.compose.submit import UnknownRecipient
from quarterdeck.core.compose.templates import suggested_fields
from quarterdeck.gui.composer.form import build_form
from quarterdeck.gui.composer.gate import SendGate
from quarterdeck.gui.composer.highlight import UnderlineTips, underline, utf16_offset
from quarterdeck.gui.composer.preview import PreviewDialog
from quarterdeck.gui.composer.sending import Sender

if TYPE_CHECKING:
    from quarterdeck.gui.context import AppContext

DEBOUNCE_MS = 250
SENDER_KEY = "composer/sender"


class ComposerPanel(SendGate):
    TITLE = "Composer"
    NAME = "composer"
    AREA = Qt.DockWidgetArea.RightDockWidgetArea

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.last_check: Check | None = None
        self.last_sent = ""
        self.preview_dialog: PreviewDialog | None = None
        self.allowed: set[tuple[str, str, str]] = set()  # "Allow here" for the next send
        build_form(self)
        self.tips = UnderlineTips(self.editor)
        self._build_actions()
        self.check_timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.check_timer.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse timer may fire 5% early
        self.check_timer.timeout.connect(self.run_check)
        self.sending = Sender(ctx, self.progress, self)
        self.sending.sig_sent.connect(self._on_sending_sent)
        self.sending.sig_reported.connect(self._on_sending_reported)
        self.sending.sig_started.connect(self.notice.hide)  # the chips take over from here
        self.sending.sig_queued.connect(lambda text: self.ctx.sig_status.emit(f"Composer: {text}"))
        self.progress.sig_reported.connect(lambda text, _e: self.ctx.sig_status.emit(f"Composer: {text}"))
        # the outcome line ends the chips under the text box; the notice above the To list would repeat it
        self.progress.sig_over.connect(lambda text, _e: self.ctx.sig_status.emit(f"Composer: {text}"))
        self.progress.sig_changed.connect(self.chips.refresh)
        self.editor.textChanged.connect(self.check_timer.start)
        self.editor.textChanged.connect(self._update_buttons)  # blank or not shows at once
        self.editor.textChanged.connect(self.draft_changed)
        self.recipients.sig_selection_changed.connect(self.draft_changed)
        self.fields.sig_changed.connect(self.check_timer.start)
        self.captain_last.toggled.connect(self.check_timer.start)
        self.templates.fill.toggled.connect(self.check_timer.start)
        self.recipients.sig_selection_changed.connect(self.check_timer.start)
        self.recipients.sig_reported.connect(self.notice.say)
        self.templates.sig_template_loaded.connect(self._on_templates_template_loaded)
        self.templates.sig_reported.connect(self.notice.say)
        self.progress.sig_reported.connect(self.notice.say)
        self.checks.sig_problem_activated.connect(self._on_checks_problem_activated)
        self.checks.sig_open_rule.connect(self.open_rule)
        self.checks.sig_allow.connect(self.allow_here)
        ctx.sig_fleet_changed.connect(self._on_ctx_fleet_changed)  # this machine's agents and the relays'
        ctx.sig_rules_changed.connect(self._on_ctx_rules_changed)
        ctx.sig_agent_focused.connect(self._on_ctx_agent_focused)
        self.recipients.set_roster(ctx.fleet, ctx.shown)
        self.check_timer.stop()
        self._update_buttons()

    # -- building --------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        def action(name: str, text: str, keys: str | None, tip: str, slot: Callable[[], object]) -> QAction:
            made = QAction(text, self)
            made.setObjectName(f"action-composer-{name}")
            if keys:  # Ctrl+Return also answers to the keypad's Enter
                made.setShortcuts([QKeySequence(keys), QKeySequence(keys.replace("Return", "Enter"))]
                                  if "Return" in keys else [QKeySequence(keys)])
                tip = f"{tip} ({QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)})"
            made.setToolTip(tip)
            made.setStatusTip(tip)
            made.triggered.connect(slot)
            self.addAction(made)
            return made

        self.send_action = action("send", "Send", "Ctrl+Return", "Send to the checked agents", self.send)
        self.broadcast_action = action("broadcast", "Broadcast", "Ctrl+Shift+Return",
                                       "Send to every enabled agent", self.broadcast)
        self.preview_action = action("preview", "Preview", "Ctrl+P",
                                     "Show each recipient's text exactly as it will be delivered", self.show_preview)
        self.focus_action = action("focus", "Focus composer", "Ctrl+L", "Put the cursor in the message box",
                                   self.focus_composer)
        self.retry_action = self.progress.retry_action
        self.addAction(self.retry_action)
        self.send_button.clicked.connect(self.send)
        self.broadcast_button.clicked.connect(self.broadcast)
        self.preview_button.clicked.connect(self.show_preview)
        self.restore_button.clicked.connect(self.restore_last)
        self.preview_button.setToolTip(self.preview_action.toolTip())

    # -- Panel interface -------------------------------------------------------------------------
    def commands(self) -> list[QAction]:
        return [self.send_action, self.broadcast_action, self.preview_action, self.focus_action,
                self.retry_action]

    def shutdown(self) -> None:
        self.check_timer.stop()
        self.progress.doubt_timer.stop()

    # -- the draft -------------------------------------------------------------------------------
    def draft(self) -> Draft:
        return Draft(content=self.editor.toPlainText(), recipients=tuple(self.recipients.selected()),
                     type=self.fields.message_type, priority=self.fields.priority, tags=self.fields.tags(),
                     sender=self.ctx.settings.get(SENDER_KEY, "Captain", str) or "Captain",
                     fill_placeholders=self.templates.fill.isChecked(),
                     captain_last=self.captain_last.isChecked(), when_idle=self.when_idle.wanted())

    @Slot()
    def run_check(self) -> Check:
        """Check the draft as it would be sent now and show the verdict (the debounce timer calls
        this); with nobody ticked that is the broadcast to everyone."""
        self.check_timer.stop()
        draft = self.draft()
        _composition, result = self._checked(drafting.as_sent(draft, self.ctx.fleet))
        self.last_check = result
        validator = self.ctx.session.validator
        self.checks.known_rules = frozenset(validator.ruleset.ids) if validator is not None else frozenset()
        if not draft.content.strip():  # nothing typed yet (or just sent): no red "blank" error
            self.checks.show_idle("Type a message; the rules check it as you type.")
        else:
            self.checks.show_check(result, validation_on=validator is not None)
            if not draft.recipients:
                everyone = len(self.recipients.ids())
                self.checks.summary.setText(f"Nobody ticked: checked as a broadcast to all {everyone} "
                                            f"(Broadcast). {self.checks.summary.text()}")
        underline(self.editor, result.problems)
        self.tips.problems = result.problems
        self._update_buttons()
        return result

    def _update_buttons(self) -> None:
        reason = self._send_block_reason()
        self.send_button.setEnabled(not reason)
        self.send_action.setEnabled(not self.sending.busy)  # the key re-checks and says why not
        recipients = len(self.recipients.selected())
        self.send_button.setToolTip(reason or f"Send to the {recipients} checked agent"
                                    f"{'s' if recipients != 1 else ''} (Ctrl+Enter)")
        content = bool(self.editor.toPlainText().strip())
        can_broadcast = content and bool(self.recipients.ids()) and not self.sending.busy
        blocking = self.last_check.blocking if self.last_check is not None and content else ()
        self.broadcast_button.setEnabled(can_broadcast and not blocking)  # the key says why not
        self.broadcast_button.setToolTip(f"Fix the errors first: {blocking[0].message}" if blocking
                                         else self.broadcast_action.toolTip())
        self.broadcast_action.setEnabled(can_broadcast)
        self.restore_button.setEnabled(bool(self.last_sent))

    # -- commands --------------------------------------------------------------------------------
    @Slot()
    def send(self) -> bool:
        """Send to the checked agents (re-checked now, whatever the timer last saw)."""
        self.run_check()
        reason = self._send_block_reason()
        if reason:
            self._blocked(reason)
            return False
        composition, result = self._checked(self.draft())
        started = self.sending.send(composition, result, list(composition.draft.recipients), broadcast=False,
                                    recompose=self._recompose)
        self._update_buttons()
        return started

    @Slot()
    def broadcast(self) -> bool:
        """Send to every enabled agent, whatever is checked."""
        draft = drafting.for_everyone(self.draft(), self.ctx.fleet)
        composition, result = self._checked(draft)
        if result.blocking and draft.content.strip():
            self.run_check()
            self._blocked(f"Fix the errors first: {result.blocking[0].message}")
            return False
        recipients = [a.id for a in self.ctx.fleet.enabled()]
        started = self.sending.send(composition, result, recipients, broadcast=True,
                                    recompose=lambda rest: self._recompose(rest, broadcast=True))
        self._update_buttons()
        return started

    @Slot()
    def show_preview(self) -> PreviewDialog | None:
        """Each recipient's text as the draft would be sent now (nobody ticked: the broadcast)."""
        composition, _result = self._checked(drafting.as_sent(self.draft(), self.ctx.fleet))
        if composition.problems and not composition.messages:
            self.notice.say(f"No preview: {composition.problems[0].message}", True)
            return None
        try:
            texts = drafting.preview(composition, self.ctx.fleet)
        except UnknownRecipient as exc:
            self.notice.say(f"No preview: {exc}", True)
            return None
        if self.preview_dialog is not None:
            self.preview_dialog.close()
        self.preview_dialog = PreviewDialog(texts, self)
        if composition.draft.everyone:
            self.preview_dialog.note.setText("Nobody ticked: this is what Broadcast sends to every enabled agent. "
                                             + self.preview_dialog.note.text())
        self.preview_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.preview_dialog.destroyed.connect(self._on_preview_destroyed)
        self.preview_dialog.open()
        return self.preview_dialog

    @Slot()
    def focus_composer(self) -> None:
        self.bring_forward()
        self.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def restore_last(self) -> None:
        self.replace_text(self.last_sent)

    def replace_text(self, text: str) -> None:
        """Replace the text box's content as one undoable edit (Ctrl+Z brings the old text back)."""
        cursor = QTextCursor(self.editor.document())
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        self.editor.setTextCursor(cursor)

    # -- slots -----------------------------------------------------------------------------------
    @Slot(str)
    def _on_sending_sent(self, content: str) -> None:
        self.last_sent = content
        self.allowed.clear()  # "Allow here" was for this send
        if self.editor.toPlainText() == content:  # not if the captain already typed on
            self.replace_text("")
            self.run_check()
        self._update_buttons()

    @Slot(str, bool)
    def _on_sending_reported(self, text: str, error: bool) -> None:
        self.notice.say(text, error)
        self.ctx.sig_status.emit(f"Composer: {text}")
        self._update_buttons()

    @Slot(str, str)
    def _on_templates_template_loaded(self, name: str, text: str) -> None:
        self.replace_text(text)
        self.templates.fill.setChecked(True)
        kind, tags = suggested_fields(name)
        if kind:
            self.fields.set_type(kind)
        if tags:
            self.fields.set_tags(tuple(dict.fromkeys((*self.fields.tags(), *tags))))
        self.notice.say(f"Template {name!r} loaded: placeholders are filled for each recipient "
                        "(Ctrl+P shows the result).")
        self.editor.setFocus()

    @Slot(object)
    def _on_checks_problem_activated(self, problem: Problem) -> None:
        if problem.span is None:
            return
        text = self.editor.toPlainText()
        cursor = self.editor.textCursor()
        cursor.setPosition(utf16_offset(text, min(problem.span[0], len(text))))
        cursor.setPosition(utf16_offset(text, min(problem.span[1], len(text))), QTextCursor.MoveMode.KeepAnchor)
        self.editor.setTextCursor(cursor)
        self.editor.setFocus()

    @Slot()
    def _on_ctx_fleet_changed(self) -> None:
        self.recipients.set_roster(self.ctx.fleet, self.ctx.shown)

    @Slot()
    def _on_ctx_rules_changed(self) -> None:
        self.run_check()

    @Slot(str)
    def _on_ctx_agent_focused(self, agent_id: str) -> None:
        if not self.recipients.select_only(agent_id):
            self.notice.say(f"{agent_id} is not an enabled agent: nothing to write to.", True)
            return
        self.focus_composer()

    @Slot()
    def _on_preview_destroyed(self) -> None:
        self.preview_dialog = None
