"""Why a send cannot go, said so it is never missed, and what the captain can do about a problem.

The Composer panel's base: the draft composed and checked (less what was allowed), the reason
the Send button is off (in words: write something, tick someone, fix this error), the feedback of
a refused send (notice, status bar, the problems flashed and scrolled into view), "Open rule" and
"Allow here" (a warning or info accepted for the next send only; an error never, so a blocked
secret can never be allowed), and the draft composed again for fewer recipients when the
confirmation leaves unreachable agents out.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec.structs import replace
from PySide6.QtWidgets import QCheckBox, QPlainTextEdit, QPushButton, QScrollArea, QWidget

from quarterdeck.core.compose import draft as drafting
from quarterdeck.core.compose.draft import Check, Composition, Draft, Problem, accept_key, for_everyone
from quarterdeck.gui.composer.rulelink import open_rule as show_rule
from quarterdeck.gui.panel import Panel

if TYPE_CHECKING:
    from quarterdeck.gui.composer.chips import ProgressChips
    from quarterdeck.gui.composer.fields import MessageFields
    from quarterdeck.gui.composer.highlight import ChecksView
    from quarterdeck.gui.composer.progress import ProgressPane
    from quarterdeck.gui.composer.recipients import RecipientsBox
    from quarterdeck.gui.composer.sending import Notice, Sender
    from quarterdeck.gui.composer.templates_ui import TemplateBar
    from quarterdeck.gui.composer.when_idle import WhenIdleBox


class SendGate(Panel):
    """The Composer panel's send gate (see the module docstring), and the panel's parts it uses:
    the widgets ``quarterdeck.gui.composer.form.build_form`` makes, and the panel's draft and check."""

    allowed: set[tuple[str, str, str]]
    last_check: Check | None
    sending: Sender
    refusal_shown: bool
    notice: Notice
    recipients: RecipientsBox
    fields: MessageFields
    templates: TemplateBar
    editor: QPlainTextEdit
    checks: ChecksView
    captain_last: QCheckBox
    when_idle: WhenIdleBox
    restore_button: QPushButton
    preview_button: QPushButton
    broadcast_button: QPushButton
    send_button: QPushButton
    progress: ProgressPane
    chips: ProgressChips

    if TYPE_CHECKING:  # the panel's own (quarterdeck.gui.composer.panel.ComposerPanel)
        def draft(self) -> Draft: ...
        def run_check(self) -> Check: ...

    def _checked(self, draft: Draft) -> tuple[Composition, Check]:
        """``draft`` composed and checked against the active rules, less what "Allow here" accepted."""
        composition = drafting.compose(draft, self.ctx.fleet)
        result = drafting.check(composition, self.ctx.session.validator)
        return composition, drafting.accept(result, draft.content, self.allowed)

    def _send_block_reason(self) -> str:
        draft = self.draft()
        if self.sending.busy:
            return "The last send is still being queued."
        if not draft.content.strip():
            return "Write a message first."
        if not draft.recipients:
            return (f"Nobody is ticked: tick at least one agent to send to, or press Broadcast "
                    f"(Ctrl+Shift+Enter) to send to all {len(self.recipients.ids())}.")
        machines = self.ctx.session.machines  # an agent id on two machines: refused, never guessed
        if machines is not None and (refused := machines.refusal(draft.recipients)):
            return refused
        blocking = self.last_check.blocking if self.last_check is not None else ()
        if blocking:
            return f"Fix the errors first: {blocking[0].message}"
        return ""

    def _blocked(self, reason: str) -> None:
        """Never silent: the reason in the notice and the status bar; rule errors flash. The
        refusal is about this draft: it goes once the draft changes (``draft_changed``)."""
        self.notice.say(f"Not sent: {reason}", True)
        self.refusal_shown = True
        self.ctx.sig_status.emit(f"Composer: not sent: {reason}")
        if self.last_check is not None and self.last_check.blocking and self.draft().content.strip():
            self.checks.flash()
            self.ensure_visible(self.checks)
        else:
            self.ensure_visible(self.notice)

    def draft_changed(self, *_: object) -> None:
        if getattr(self, "refusal_shown", False):
            self.refusal_shown = False
            self.notice.hide()

    def ensure_visible(self, widget: QWidget) -> None:
        scroll = self.parentWidget()
        while scroll is not None and not isinstance(scroll, QScrollArea):
            scroll = scroll.parentWidget()
        if isinstance(scroll, QScrollArea):
            scroll.ensureWidgetVisible(widget)

    def _recompose(self, recipients: list[str], *, broadcast: bool = False) -> tuple[Composition, Check]:
        """The draft again for only ``recipients`` (the confirmation left the unreachable out): a
        broadcast stays one, unless a single agent is left (then it is a direct message)."""
        draft = for_everyone(self.draft(), self.ctx.fleet) if broadcast else self.draft()
        kind = "text" if draft.type == "broadcast" and len(recipients) < 2 else draft.type
        return self._checked(replace(draft, recipients=tuple(recipients), type=kind, everyone=False))

    def open_rule(self, problem: Problem) -> None:
        text, error = show_rule(self, problem)
        self.notice.say(text, error)

    def allow_here(self, problem: Problem) -> None:
        if problem.blocks:
            self.notice.say(f"{problem.rule_id} is an error: it blocks sending and cannot be allowed "
                            "(change the text, or the rule in the Rules panel).", True)
            return
        self.allowed.add(accept_key(problem, self.editor.toPlainText()))
        self.notice.say(f"Allowed {problem.rule_id} for this send only.")
        self.run_check()
