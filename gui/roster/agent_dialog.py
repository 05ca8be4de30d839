"""The add / edit agent dialog: the agent's settings as a form, each problem shown on its field.

What is typed is checked by ``quarterdeck.core.roster.edit.agent_from_form`` (the model's own validation),
250 ms after the last keystroke for the fields already touched and for all of them on Save. A
valid agent is handed to the panel (``sig_agent_submitted``), which saves the roster in the
background; the dialog stays open, saying so, until the save is done, and shows a failed save at
its top. Screen points can be captured from here too: a countdown, then wherever the pointer is,
bound to the window under it (see ``quarterdeck.gui.roster.capture``); the window is shown under the points.
"""
from __future__ import annotations

from typing import Any, cast

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from quarterdeck.core.models import Agent
from quarterdeck.core.roster.capture import PointName
from quarterdeck.core.roster.edit import LABELS, FormError, agent_from_form, form_from_agent
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.roster.capture import Captured, PointCapture, binding_text, with_captures
from quarterdeck.gui.roster.widgets import push_button, wrapped_label

KIND_CHOICES = (("Screen: click and type into an editor window", "gui"), ("tmux pane", "tmux"),
                ("Inbox folder", "inbox"), ("Dry run: delivers nowhere", "dryrun"))
PLACEHOLDERS = {
    "id": "Agent-5", "display_name": "optional; defaults to the id", "role": "e.g. frontend",
    "chat": "x, y in physical pixels, e.g. 420, 980", "onboarding": "optional: x, y",
    "paste_keys": "ctrl+v", "submit_keys": "enter", "urgent_submit_keys": "ctrl+enter",
    "new_chat_keys": "ctrl+t", "target": "session:window.pane, e.g. swarm:0.1",
    "path": "~/swarm/inbox/agent-5",
}
TIPS = {
    "id": "A letter, then letters, digits, _ . or - (64 at most). Used as the recipient name.",
    "chat": "Where the agent's chat input is, in the physical pixels PyAutoGUI clicks at",
    "onboarding": "Where a new chat's input appears (used for onboarding messages)",
    "paste_keys": "Keys joined with +, e.g. ctrl+v or command+v",
    "target": "tmux pane to type into, as session:window.pane",
    "path": "Each message is written into this folder as a file",
}
ERROR_STYLE = "color: #c62828;"
POINTS: tuple[PointName, ...] = ("chat", "onboarding")  # the points Capture can take


class AgentDialog(QDialog):
    """Edits one agent (or a new one when ``agent`` is None); see the module docstring."""

    sig_agent_submitted = Signal(object)  # a valid quarterdeck.core.models.Agent, to be saved

    def __init__(self, roster: Roster, agent: Agent | None = None, parent: QWidget | None = None, *,
                 capture_seconds: int = 3, in_memory: bool = False) -> None:
        super().__init__(parent)
        self.roster = roster
        self.original_id = agent.id if agent is not None else None
        self.setWindowTitle(f"Edit {agent.id}" if agent is not None else "Add agent")
        self.setObjectName("agent-dialog")
        self.fields: dict[str, Any] = {}
        self.errors: dict[str, QLabel] = {}
        self._labels: list[QLabel] = []
        self._touched: set[str] = set()
        self._checked_all = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self.capture = PointCapture(self, seconds=capture_seconds)
        self._capturing: PointName = "chat"  # the point the running capture is for
        self.captured: dict[PointName, Captured] = {}  # chat | onboarding -> the point and its window
        self.capture.sig_ticked.connect(self._on_capture_ticked)
        self.capture.sig_located.connect(self._on_capture_located)
        self._build(in_memory)
        self.load(form_from_agent(agent) if agent is not None else {"enabled": True, "kind": "gui"})
        self.window_label.setText(binding_text(agent))

    # -- building --------------------------------------------------------------------------------
    def _build(self, in_memory: bool) -> None:
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        self.status_label = wrapped_label("", name="agent-dialog-status", hidden=True)
        layout.addWidget(self.status_label)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name in ("id", "display_name", "role"):
            self._add_row(form, name, self._line(name))
        enabled = QCheckBox("Send messages to this agent")
        self._add_row(form, "enabled", enabled)
        kind = QComboBox()
        for text, value in KIND_CHOICES:
            kind.addItem(text, value)
        self._add_row(form, "kind", kind)
        layout.addLayout(form)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._gui_page())
        self.pages.addWidget(self._page(("target",)))
        self.pages.addWidget(self._inbox_page())
        dry = QLabel("Delivers nowhere: what would have been sent is only recorded.")
        dry.setWordWrap(True)
        self.pages.addWidget(dry)
        layout.addWidget(self.pages)
        kind.currentIndexChanged.connect(self._on_kind_changed)
        enabled.toggled.connect(self._on_field_edited)
        if in_memory:
            layout.addWidget(wrapped_label("No roster file is open: this change is not saved and lasts until you "
                                           "quit.", style="color: #8a6d00;"))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        width = max(label.sizeHint().width() for label in self._labels)
        for label in self._labels:  # the common fields and the transport's line up in one column
            label.setMinimumWidth(width)
        self.setMinimumWidth(460)

    def _line(self, name: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(f"field-{name}")
        edit.setPlaceholderText(PLACEHOLDERS.get(name, ""))
        edit.setToolTip(TIPS.get(name, ""))
        edit.textEdited.connect(self._on_field_edited)
        return edit

    def _add_row(self, form: QFormLayout, name: str, widget: QWidget, extra: QWidget | None = None) -> None:
        self.fields[name] = widget
        error = wrapped_label("", name=f"error-{name}", style=ERROR_STYLE, hidden=True)
        self.errors[name] = error
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        if extra is None:
            column.addWidget(widget)
        else:
            line = QHBoxLayout()
            line.addWidget(widget, 1)
            line.addWidget(extra)
            column.addLayout(line)
        column.addWidget(error)
        label = QLabel(f"{LABELS[name]}:")
        label.setBuddy(widget)
        self._labels.append(label)
        form.addRow(label, box)

    def _page(self, names: tuple[str, ...], buttons: dict[str, QPushButton] | None = None) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        for name in names:
            self._add_row(form, name, self._line(name), (buttons or {}).get(name))
        return page

    def _gui_page(self) -> QWidget:
        tip = f"Start a {self.capture.seconds} s countdown, then take the pointer position"
        self.capture_buttons: dict[str, QPushButton] = {
            name: push_button("Capture", f"capture-{name}", tip, self._on_capture_clicked) for name in POINTS}
        page = self._page(("chat", "onboarding", "paste_keys", "submit_keys", "urgent_submit_keys",
                           "new_chat_keys"), self.capture_buttons)
        clear = QCheckBox("Select all and delete before pasting")
        clear.toggled.connect(self._on_field_edited)
        form = cast(QFormLayout, page.layout())  # _page lays its rows out in a form
        self._add_row(form, "clear_before_paste", clear)
        self.window_label = wrapped_label("", name="agent-window", style="color: #555;")
        form.insertRow(2, "", self.window_label)
        return page

    def _inbox_page(self) -> QWidget:
        browse = push_button("Browse…", "browse-inbox", "Choose the folder", self._on_browse_clicked)
        return self._page(("path",), {"path": browse})

    # -- the form's values -----------------------------------------------------------------------
    def load(self, form: dict[str, Any]) -> None:
        for name, widget in self.fields.items():
            value = form.get(name)
            if isinstance(widget, QLineEdit):
                widget.setText("" if value is None else str(value))
            elif isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(0, widget.findData(value or "gui")))
        self._on_kind_changed(self.fields["kind"].currentIndex())

    def form(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, widget in self.fields.items():
            if isinstance(widget, QLineEdit):
                values[name] = widget.text()
            elif isinstance(widget, QCheckBox):
                values[name] = widget.isChecked()
            else:
                values[name] = widget.currentData()
        return values

    def check(self, *, show_all: bool = True) -> Agent | None:
        """The agent the form describes, or None after showing each problem on its field."""
        try:
            agent = with_captures(agent_from_form(self.form(), self.roster, self.original_id), self.captured,
                                  self.form())
            problems: dict[str, str] = {}
            self.window_label.setText(binding_text(agent))
        except FormError as exc:
            agent, problems = None, exc.errors
        for name, label in self.errors.items():
            message = problems.get(name, "")
            shown = bool(message) and (show_all or name in self._touched)
            label.setText(message if shown else "")
            label.setVisible(shown)
        return agent

    # -- saving ----------------------------------------------------------------------------------
    @Slot()
    def submit(self) -> None:
        self._checked_all = True
        agent = self.check()
        if agent is None:
            self.show_status("Fix the fields marked in red.", error=True)
            return
        self.buttons.setEnabled(False)
        self.show_status("Saving…", error=False)
        self.sig_agent_submitted.emit(agent)

    def saved(self, _result: Roster | None = None) -> None:
        self.accept()

    def save_failed(self, error: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.show_status(f"Not saved: {error}", error=True)

    def show_status(self, text: str, *, error: bool) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(ERROR_STYLE if error else "color: #555;")
        self.status_label.setVisible(bool(text))

    # -- slots -----------------------------------------------------------------------------------
    @Slot()
    def _on_field_edited(self) -> None:
        sender = self.sender()
        self._touched.update(n for n, w in self.fields.items() if w is sender)
        self._debounce.start()

    @Slot()
    def _on_debounce_timeout(self) -> None:
        self.check(show_all=self._checked_all)

    @Slot(int)
    def _on_kind_changed(self, index: int) -> None:
        self.pages.setCurrentIndex(max(0, index))
        self._debounce.start()

    @Slot()
    def _on_capture_clicked(self) -> None:
        self._capturing = next(n for n in POINTS if self.capture_buttons[n] is self.sender())
        self.capture.start()

    @Slot(int)
    def _on_capture_ticked(self, left: int) -> None:
        self.show_status(f"Move the pointer onto the {LABELS[self._capturing].lower()}: taking it in {left}…",
                         error=False)

    @Slot(object)
    def _on_capture_located(self, captured: Captured) -> None:
        point, which = captured.point, self._capturing
        self.fields[which].setText(f"{point[0]}, {point[1]}")
        self.captured[which] = captured
        self._touched.add(which)
        where = "in" if captured.placement is not None else "at"  # at x, y as a screen point only: why
        self.show_status(f"{LABELS[which]} captured {where} {captured.describe()}.", error=False)
        self.check(show_all=self._checked_all)

    @Slot()
    def _on_browse_clicked(self) -> None:
        self.chooser = QFileDialog(self, "Inbox folder", self.fields["path"].text(),
                                   fileMode=QFileDialog.FileMode.Directory)
        self.chooser.setOption(QFileDialog.Option.ShowDirsOnly)
        self.chooser.fileSelected.connect(self._on_chooser_selected)
        self.chooser.open()

    @Slot(str)
    def _on_chooser_selected(self, path: str) -> None:
        self.fields["path"].setText(path)
        self._touched.add("path")
        self._debounce.start()
