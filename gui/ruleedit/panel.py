"""The Rules panel: edit the active rule files with live problems, try them on a test bench, and
switch the running validator to them only when every file is valid.

Checking runs on the UI thread 250 ms after the last keystroke (all files together, a few ms);
reading, saving and the 2 s look for changes on disk go through the background runner. A save
with any error writes drafts (``<name>.yaml.draft``) and leaves the active rules alone.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from quarterdeck.core.validation import Diagnostic, Validator
from quarterdeck.core.validation.bench import default_bench_path
from quarterdeck.core.validation.editing import OpenedRules, RuleCheck, check_rule_texts, plural
from quarterdeck.gui.panel import Panel
from quarterdeck.gui.ruleedit.bench import BenchWidget
from quarterdeck.gui.ruleedit.files import DiskState, RuleFiles, SavedRules
from quarterdeck.gui.ruleedit.notice import NoticeBar
from quarterdeck.gui.ruleedit.problems import ProblemsPane
from quarterdeck.gui.ruleedit.split import EditorBenchSplitter
from quarterdeck.gui.ruleedit.tabs import RuleTabs

if TYPE_CHECKING:  # annotations only
    from quarterdeck.core.validation.location import RulesLocation
    from quarterdeck.gui.context import AppContext

CHECK_DELAY_MS = 250


class RulesPanel(Panel):
    TITLE = "Rules"
    NAME = "rules"
    AREA = Qt.DockWidgetArea.BottomDockWidgetArea
    TAB_WITH = "history"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.check: RuleCheck | None = None
        self._drafts: dict[str, str] = {}
        self._disk_seen: dict[str, str | None] = {}
        self._build()
        self._build_actions()
        self._check_timer = QTimer(self, singleShot=True, interval=CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self.run_check)
        self.files = RuleFiles(ctx, self.tabs.names, self)
        self.files.sig_opened.connect(self._on_files_opened)
        self.files.sig_open_failed.connect(self._on_files_open_failed)
        self.files.sig_saved.connect(self._on_files_saved)
        self.files.sig_save_failed.connect(self._on_files_save_failed)
        self.files.sig_disk_checked.connect(self._on_files_disk_checked)
        self.tabs.sig_text_edited.connect(self._on_tabs_text_edited)
        self.problems.view.sig_problem_activated.connect(self.go_to)
        ctx.sig_rules_changed.connect(self._on_ctx_rules_changed)
        self._refresh_status()
        self.files.open()

    @property
    def location(self) -> RulesLocation | None:
        return self.files.location

    # -- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.notice = NoticeBar(self)
        self.tabs = RuleTabs(self)
        self.problems = ProblemsPane(self)
        editing = QSplitter(Qt.Orientation.Vertical)
        editing.addWidget(self.tabs)
        editing.addWidget(self.problems)
        editing.setSizes([300, 100])
        self.bench = BenchWidget(self.ctx, default_bench_path(), self)
        self.splitter = EditorBenchSplitter(editing, self.bench)
        self.where_label = QLabel("Reading the rule files…")
        self.where_label.setObjectName("rule-where")
        self.where_label.setWordWrap(True)
        self.status_label = QLabel()
        self.status_label.setObjectName("rule-status")
        self.status_label.setWordWrap(True)
        self.revert_button = QPushButton("&Revert")
        self.revert_button.setToolTip("Put back the saved text of every edited file")
        self.save_button = QPushButton("&Save rules")
        self.save_button.setToolTip("Save the rule files (Ctrl+S); they become active only if all are valid")
        footer = QHBoxLayout()
        labels = QVBoxLayout()
        labels.addWidget(self.where_label)
        labels.addWidget(self.status_label)
        footer.addLayout(labels, 1)
        footer.addWidget(self.revert_button)
        footer.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.notice)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(footer)

    def _build_actions(self) -> None:
        def action(text: str, shortcut: str | None, tip: str, slot: Callable[[], object]) -> QAction:
            made = QAction(text, self)
            made.setObjectName("action-rules-" + text.lower().replace(" ", "-"))
            if shortcut:
                made.setShortcut(QKeySequence(shortcut))
            made.setToolTip(tip)
            made.triggered.connect(slot)
            self.addAction(made)
            return made

        self.save_action = action("Save rules", "Ctrl+S", "Save the rule files; valid rules become active",
                                  self.save)
        self.next_action = action("Next problem", "F8", "Go to the next problem in the rules",
                                  self.next_problem)
        self.previous_action = action("Previous problem", "Shift+F8", "Go to the previous problem",
                                      self.previous_problem)
        self.revert_action = action("Revert rules to saved", None, "Discard unsaved rule edits", self.revert)
        self.save_button.clicked.connect(self.save_action.trigger)
        self.revert_button.clicked.connect(self.revert_action.trigger)

    def commands(self) -> list[QAction]:
        return [self.save_action, self.next_action, self.previous_action, self.revert_action]

    def shutdown(self) -> None:
        self._check_timer.stop()
        self.files.stop()
        self.bench.flush()

    # -- opening -----------------------------------------------------------------------------
    @Slot(object)
    def _on_files_opened(self, opened: OpenedRules) -> None:
        self.tabs.set_files(opened.texts)
        self._disk_seen = dict(opened.texts)
        self.where_label.setText(opened.location.editing_note())
        self._drafts = {n: t for n, t in opened.drafts.items() if t != self.tabs.saved_text(n)}
        if not opened.texts:
            self.notice.show_notice(f"No rule files (*.yaml) in {opened.location.path}.", "warning")
        elif self._drafts:
            self.notice.show_notice(
                f"Drafts of {', '.join(self._drafts)} from an earlier save are kept beside the rules.",
                "info", kind="drafts", action=("Open drafts", self.open_drafts))
        self.run_check()

    @Slot(str)
    def _on_files_open_failed(self, error: str) -> None:
        self.where_label.setText("The rule files could not be read.")
        self.notice.show_notice(f"Could not read the rule files: {error}", "error",
                                action=("Retry", self.files.open))

    def open_drafts(self) -> None:
        for name, text in self._drafts.items():
            self.tabs.replace_text(name, text)
        self.run_check()

    # -- checking ----------------------------------------------------------------------------
    @Slot()
    def _on_tabs_text_edited(self) -> None:
        self._check_timer.start()

    @Slot()
    def run_check(self) -> RuleCheck:
        """Check every open file together and show the problems; feed the bench if valid."""
        self._check_timer.stop()
        names = self.tabs.names()
        check = check_rule_texts(list(self.tabs.texts().items()))
        self.check = check
        for name in names:
            self.tabs.editor(name).set_diagnostics(check.for_file(name))
        order = {name: index for index, name in enumerate(names)}
        self.problems.show_problems(
            sorted(check.diagnostics, key=lambda d: (order.get(d.file, len(order)), d.line, d.col)), len(names))
        self.tabs.refresh_titles(check)
        modified = bool(self.tabs.modified_texts())
        self.notice.follow_draft(check.errors, modified, self.save)
        if check.ruleset is not None:
            source = "your unsaved edits" if modified else "the saved rules"
            self.bench.set_validator(Validator(check.ruleset), source)
        else:
            self.bench.heading.setText(f"Test bench: samples scored under your last valid edit "
                                       f"(the current text has {plural(check.errors, 'error')})")
        return check

    def go_to(self, diagnostic: Diagnostic) -> None:
        if diagnostic.file in self.tabs.names():
            self.tabs.show_editor(diagnostic.file).move_to(diagnostic.line, diagnostic.col)

    def _step_problem(self, step: int) -> None:
        diagnostic = self.problems.step(step)
        if diagnostic is None:
            self.ctx.sig_status.emit("No problems in the rules")
        else:
            self.go_to(diagnostic)

    @Slot()
    def next_problem(self) -> None:
        self._step_problem(1)

    @Slot()
    def previous_problem(self) -> None:
        self._step_problem(-1)

    @Slot()
    def revert(self) -> None:
        modified = list(self.tabs.modified_texts())
        for name in modified:
            self.tabs.replace_text(name, self.tabs.saved_text(name))
        self.run_check()
        self.ctx.sig_status.emit(f"Reverted {len(modified)} rule files to the saved text" if modified
                                 else "No unsaved rule edits to revert")

    # -- saving ------------------------------------------------------------------------------
    @Slot()
    def save(self) -> None:
        """Save every edited file: as the rules when all files are valid, else as drafts."""
        if self.files.saving or self.location is None:
            return
        check = self.run_check()
        texts = self.tabs.modified_texts()
        if not texts:
            self.ctx.sig_status.emit("No unsaved rule edits")
        elif self.files.save(texts, valid=check.valid, errors=check.errors):
            self.save_button.setEnabled(False)

    @Slot(object)
    def _on_files_saved(self, saved: SavedRules) -> None:
        self.save_button.setEnabled(True)
        outcome = saved.outcome
        if outcome.drafts:
            message = f"Draft saved; active rules unchanged ({plural(saved.errors, 'error')})."
            self.notice.show_notice(f"<b>{message}</b> {len(outcome.written)} draft file(s) in "
                                    f"{outcome.written[0].parent}; fix the errors and save again.",
                                    "warning", kind="draft")
            self.ctx.sig_status.emit("Rules: " + message)
            return
        self.tabs.mark_saved(saved.texts)
        self._disk_seen.update(saved.texts)
        self._drafts = {n: t for n, t in self._drafts.items() if n not in saved.texts}
        self.where_label.setText(f"Editing a copy of the built-in rules in {outcome.location.path}."
                                 if outcome.copied else outcome.location.editing_note())
        if saved.activated and saved.store is not None:
            message = (f"Saved {len(saved.texts)} file(s); the new rules are active "
                       f"(generation {saved.store.generation}).")
            self.notice.show_notice(message, "ok", kind="saved")
            self.ctx.rules_activated()
        else:
            errors = plural(sum(1 for d in saved.diagnostics if d.is_error), "error")
            message = f"Saved, but the rule files on disk have {errors}; active rules unchanged."
            self.notice.show_notice(message, "error", kind="saved")
        self.ctx.sig_status.emit("Rules: " + message)
        self.run_check()
        self._refresh_status()

    @Slot(str)
    def _on_files_save_failed(self, error: str) -> None:
        self.save_button.setEnabled(True)
        self.notice.show_notice(f"Could not save the rules: {error}. Nothing was changed.", "error")

    # -- the files on disk -------------------------------------------------------------------
    @Slot(object)
    def _on_files_disk_checked(self, state: DiskState) -> None:
        if state.activated:
            self.ctx.sig_status.emit("Rules: the files changed on disk and the new rules are active")
            self.ctx.rules_activated()
        elif state.reloaded is not None and any(d.is_error for d in state.reloaded):
            self.ctx.sig_status.emit("Rules: the files changed on disk but have errors; active rules unchanged")
        changed = {n: t for n, t in state.texts.items()
                   if n in self.tabs.names() and t != self.tabs.saved_text(n) and t != self._disk_seen.get(n)}
        if not changed:
            return
        self._disk_seen.update(changed)
        names = ", ".join(changed)
        if any(self.tabs.is_modified(n) for n in changed):
            text, label = f"{names} changed on disk while you have unsaved edits.", "Reload, discarding my edits"
        else:
            text, label = f"{names} changed on disk.", "Reload"
        self.notice.show_notice(text, "warning", kind="disk", action=(label, partial(self.reload_from_disk, changed)))

    def reload_from_disk(self, texts: dict[str, str | None]) -> None:
        present = {name: text for name, text in texts.items() if text is not None}
        for name, text in present.items():
            self.tabs.replace_text(name, text)
        self.tabs.mark_saved(present)
        self.run_check()

    # -- status ------------------------------------------------------------------------------
    @Slot()
    def _on_ctx_rules_changed(self) -> None:
        self._refresh_status()

    def _refresh_status(self) -> None:
        store = self.ctx.session.rules
        if not store.loaded:
            text = "No rules are active: the rule files had errors when loaded, so every message passes."
        else:
            where = ", ".join(str(path) for path in store.paths)
            text = f"Active: {len(store.active)} rules from {where} · generation {store.generation}"
        if not self.ctx.config.enable_validation:
            text += " · validation is switched off in the config"
        self.status_label.setText(text)
