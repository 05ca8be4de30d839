"""The test bench: sample messages scored live under the rules being edited.

The samples are kept in ``rule-bench.yaml`` in the user config folder; reading and writing go
through the background runner, and edits are written a moment after the last keystroke. The
panel hands in a validator whenever the edited rules check clean, and every sample is
re-scored at once (validation is in-memory and takes well under a millisecond a sample).
"""
from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from quarterdeck.core.validation import Validator
from quarterdeck.core.validation.bench import DEFAULT_SAMPLES, BenchSample, LoadedBench, load_bench, save_bench
from quarterdeck.gui.ruleedit.bench_model import STATUS_COLOURS, BenchModel
from quarterdeck.gui.ruleedit.editor import SEVERITY_COLOURS

if TYPE_CHECKING:  # annotations only
    from quarterdeck.gui.context import AppContext

SAVE_DELAY_MS = 800
_SPLIT = re.compile(r"[\s,]+")


def _items(text: str) -> tuple[str, ...]:
    return tuple(item for item in _SPLIT.split(text.strip()) if item)


class BenchWidget(QWidget):
    def __init__(self, ctx: AppContext, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx: AppContext = ctx
        self.path = path
        self.setObjectName("rule-bench")
        self.model = BenchModel(self)
        self._filling = False
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self._on_save_timer_timeout)
        self._build()
        self.ctx.jobs.run(partial(load_bench, path), self._on_bench_loaded, self._on_bench_failed, owner=self)

    # -- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.heading = QLabel("Test bench: loading samples…")
        self.heading.setObjectName("rule-bench-heading")
        self.heading.setWordWrap(True)
        self.table = QTableView(self)
        self.table.setObjectName("rule-bench-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        for column in (0, 1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_row_changed)
        self.add_button = QPushButton("&Add sample")
        self.add_button.setToolTip("Add a sample message to try the rules on")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.remove_button = QPushButton("R&emove")
        self.remove_button.setToolTip("Remove the selected sample")
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.defaults_button = QPushButton("Restore defa&ults")
        self.defaults_button.setToolTip("Replace the samples with the four built-in examples")
        self.defaults_button.clicked.connect(self._on_defaults_clicked)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.defaults_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self._build_form())
        splitter.setSizes([420, 380])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(splitter, 1)

    def _build_form(self) -> QWidget:
        self.name_edit = QLineEdit(placeholderText="A label for this sample")
        self.sender_edit = QLineEdit(placeholderText="Captain")
        self.recipients_edit = QLineEdit(placeholderText="Agent-1, Agent-2 (none: everyone)")
        self.tags_edit = QLineEdit(placeholderText="captain, wrapup")
        self.type_combo = QComboBox(editable=True)
        self.type_combo.addItems(["text", "broadcast", "onboarding"])
        self.priority_combo = QComboBox(editable=True)
        self.priority_combo.addItems(["normal", "urgent"])
        self.content_edit = QPlainTextEdit(placeholderText="The message text to try the rules on")
        self.content_edit.setTabChangesFocus(True)
        self.findings = QListWidget()
        self.findings.setObjectName("rule-bench-findings")
        self.findings.setToolTip("What the rules being edited say about the selected sample")
        self.findings.setWordWrap(True)
        self.findings.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        kinds = QHBoxLayout()
        kinds.addWidget(self.type_combo, 1)
        priority_label = QLabel("&Priority")
        priority_label.setBuddy(self.priority_combo)
        kinds.addWidget(priority_label)
        kinds.addWidget(self.priority_combo, 1)
        type_label = QLabel("T&ype")
        type_label.setBuddy(self.type_combo)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("&Name", self.name_edit)
        form.addRow("Fro&m", self.sender_edit)
        form.addRow("&To", self.recipients_edit)
        form.addRow(type_label, kinds)
        form.addRow("Ta&gs", self.tags_edit)
        form.addRow("&Content", self.content_edit)
        for edit in (self.name_edit, self.sender_edit, self.recipients_edit, self.tags_edit):
            edit.textEdited.connect(self._on_form_edited)
        for combo in (self.type_combo, self.priority_combo):
            combo.currentTextChanged.connect(self._on_form_edited)
        self.content_edit.textChanged.connect(self._on_form_edited)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form, 3)
        layout.addWidget(self.findings, 2)
        self.form_box = box
        return box

    # -- scoring -----------------------------------------------------------------------------
    def set_validator(self, validator: Validator | None, source: str) -> None:
        """Score the samples under ``validator``; ``source`` says which rules those are."""
        self.heading.setText(f"Test bench: samples scored under {source}")
        self.model.set_validator(validator)
        self._show_findings()

    def current_row(self) -> int:
        return self.table.currentIndex().row()

    def select(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)

    def _show_findings(self) -> None:
        self.findings.clear()
        row = self.current_row()
        report = self.model.report(row) if row >= 0 else None
        if report is None:
            return
        summary = QListWidgetItem(f"{report.status} · score {report.score}/100")
        summary.setForeground(QColor(STATUS_COLOURS[report.status]))
        self.findings.addItem(summary)
        for violation in report.violations:
            item = QListWidgetItem(f"{violation.severity}  {violation.rule_id}: {violation.message}")
            item.setToolTip(violation.message)
            if violation.severity in SEVERITY_COLOURS:
                item.setForeground(QColor(SEVERITY_COLOURS[violation.severity]))
            self.findings.addItem(item)
        if not report.violations:
            self.findings.addItem("No rule is broken.")

    def _fill_form(self, sample: BenchSample | None) -> None:
        self._filling = True
        try:
            self.form_box.setEnabled(sample is not None)
            sample = sample or BenchSample("", "")
            self.name_edit.setText(sample.name)
            self.sender_edit.setText(sample.sender)
            self.recipients_edit.setText(", ".join(sample.recipients))
            self.tags_edit.setText(", ".join(sample.tags))
            self.type_combo.setCurrentText(sample.type)
            self.priority_combo.setCurrentText(sample.priority)
            if self.content_edit.toPlainText() != sample.content:
                self.content_edit.setPlainText(sample.content)
        finally:
            self._filling = False
        self._show_findings()

    # -- slots -------------------------------------------------------------------------------
    @Slot(QModelIndex, QModelIndex)
    def _on_table_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._fill_form(self.model.sample(current.row()) if current.isValid() else None)

    @Slot()
    def _on_form_edited(self) -> None:
        row = self.current_row()
        if self._filling or row < 0:
            return
        sample = self.model.sample(row).with_changes(
            name=self.name_edit.text(), sender=self.sender_edit.text(),
            recipients=_items(self.recipients_edit.text()), tags=_items(self.tags_edit.text()),
            type=self.type_combo.currentText(), priority=self.priority_combo.currentText(),
            content=self.content_edit.toPlainText())
        self.model.update_sample(row, sample)
        self._show_findings()
        self._save_timer.start()

    @Slot()
    def _on_add_clicked(self) -> None:
        row = self.model.add_sample(BenchSample(f"Sample {self.model.rowCount() + 1}", "",
                                                recipients=("Agent-1",)))
        self.select(row)
        self.name_edit.setFocus()
        self.name_edit.selectAll()
        self._save_timer.start()

    @Slot()
    def _on_remove_clicked(self) -> None:
        row = self.current_row()
        if row >= 0:
            self.model.remove_sample(row)
            if self.model.rowCount():
                self.select(min(row, self.model.rowCount() - 1))
            else:
                self._fill_form(None)
            self._save_timer.start()

    @Slot()
    def _on_defaults_clicked(self) -> None:
        self._set_samples(list(DEFAULT_SAMPLES))
        self._save_timer.start()

    def _set_samples(self, samples: list[BenchSample]) -> None:
        self.model.set_samples(samples)
        if samples:
            self.select(0)
        else:
            self._fill_form(None)

    def _on_bench_loaded(self, loaded: LoadedBench) -> None:
        self._set_samples(list(loaded.samples))
        if loaded.problem:
            self.ctx.sig_status.emit(loaded.problem)

    def _on_bench_failed(self, error: BaseException) -> None:
        self._set_samples(list(DEFAULT_SAMPLES))
        self.ctx.sig_status.emit(f"Test bench: could not read {self.path} ({error}); showing the defaults")

    # -- saving ------------------------------------------------------------------------------
    @Slot()
    def _on_save_timer_timeout(self) -> None:
        self.ctx.jobs.run(partial(save_bench, self.path, self.model.samples()), None,
                          self._on_bench_save_failed, owner=self)

    def flush(self) -> None:
        """Write pending edits now (queued to the background runner, which finishes them)."""
        if self._save_timer.isActive():
            self._save_timer.stop()
            self._on_save_timer_timeout()

    def _on_bench_save_failed(self, error: BaseException) -> None:
        self.ctx.sig_status.emit(f"Test bench: could not save {self.path} ({error})")
