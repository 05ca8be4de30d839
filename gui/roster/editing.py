"""The roster panel's changes: add, edit, remove, capture a point, import coordinates.

Every change builds a new roster (``quarterdeck.core.roster.edit``) and goes through ``ctx.set_roster``, which
saves it in the background (with a backup) and then tells every panel. Nothing here touches a
file on the UI thread: the coordinates file is read by a background job too. Outcomes are reported
through ``sig_reported`` so the panel can show them next to the table.

Without a roster file (the demo roster) the changes are applied in memory only, and say so.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from quarterdeck.core.models import Agent
from quarterdeck.core.roster.edit import remove_agent, replace_agent, with_point
from quarterdeck.core.roster.importing import import_original, merge_agents
from quarterdeck.core.roster.problems import RosterError
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.roster.agent_dialog import AgentDialog
from quarterdeck.gui.roster.capture import Captured, PointCapture

if TYPE_CHECKING:
    from quarterdeck.gui.context import AppContext

POINT_NAMES = {"chat": "chat input", "onboarding": "onboarding input"}


class RosterEditor(QObject):
    """See the module docstring; ``parent_widget`` owns the dialogs it opens."""

    sig_reported = Signal(str, bool)  # text, is an error
    sig_capture_ticked = Signal(str)  # what the countdown bar says
    sig_capture_ended = Signal()

    def __init__(self, ctx: AppContext, parent_widget: QWidget, *, capture_seconds: int = 3) -> None:
        super().__init__(parent_widget)
        self.ctx = ctx
        self.widget = parent_widget
        self.capture_seconds = capture_seconds
        self.capture = PointCapture(self, seconds=capture_seconds)
        self.capture.sig_ticked.connect(self._on_capture_ticked)
        self.capture.sig_located.connect(self._on_capture_located)
        self.capture.sig_cancelled.connect(self._on_capture_cancelled)
        self._capture_target: tuple[str, str] | None = None
        self.dialog: AgentDialog | None = None
        self.file_dialog: QFileDialog | None = None
        self.confirm: QMessageBox | None = None

    @property
    def in_memory(self) -> bool:
        return self.ctx.roster_path is None

    def _where(self) -> str:
        return " (in memory: there is no roster file)" if self.in_memory else ""

    # -- add / edit / remove -------------------------------------------------------------------
    def add(self) -> AgentDialog:
        return self._open_dialog(None)

    def edit(self, agent_id: str) -> AgentDialog:
        return self._open_dialog(self.ctx.roster.get(agent_id))

    def _open_dialog(self, agent: Agent | None) -> AgentDialog:
        dialog = AgentDialog(self.ctx.roster, agent, self.widget, capture_seconds=self.capture_seconds,
                             in_memory=self.in_memory)
        dialog.sig_agent_submitted.connect(self._on_dialog_agent_submitted)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    @Slot(object)
    def _on_dialog_agent_submitted(self, agent: Agent) -> None:
        dialog = self.sender()
        assert isinstance(dialog, AgentDialog)  # only the dialogs _open_dialog made are connected
        original = dialog.original_id
        try:
            roster = replace_agent(self.ctx.roster, original, agent)
        except ValueError as exc:  # the roster moved on meanwhile and no longer fits
            dialog.save_failed(exc)
            return
        verb = "added" if original is None else "saved"

        def saved(result: Roster) -> None:
            if shiboken6.isValid(dialog):  # the captain may have closed it meanwhile
                dialog.saved(result)
            where = self.ctx.shown.where.get(agent.id)  # with relays: the same id on another machine?
            clash = f" It is on {where.text} now: sends to it are refused until one is renamed." \
                if where is not None and where.key == "conflict" else ""
            self.sig_reported.emit(f"{agent.id} {verb}{self._where()}.{clash}", bool(clash))

        def failed(error: BaseException) -> None:
            if shiboken6.isValid(dialog) and dialog.isVisible():
                dialog.save_failed(error)
            else:
                self._report_error(error)

        self.ctx.set_roster(roster, on_saved=saved, on_error=failed)

    def remove(self, agent_id: str) -> QMessageBox:
        """Ask first; the removal happens when the captain confirms."""
        box = QMessageBox(QMessageBox.Icon.Question, "Remove agent",
                          f"Remove {agent_id} from the roster{self._where()}? Its groups lose it too.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self.widget)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setProperty("agent_id", agent_id)
        box.accepted.connect(self._on_confirm_accepted)
        box.finished.connect(box.deleteLater)
        self.confirm = box
        box.open()
        return box

    @Slot()
    def _on_confirm_accepted(self) -> None:
        self.remove_now(self.sender().property("agent_id"))

    def remove_now(self, agent_id: str) -> None:
        roster = remove_agent(self.ctx.roster, agent_id)
        self.ctx.set_roster(roster, on_saved=lambda _r: self.sig_reported.emit(
            f"{agent_id} removed{self._where()}.", False), on_error=self._report_error)

    # -- capture -------------------------------------------------------------------------------
    def start_capture(self, agent_id: str, which: str) -> None:
        agent = self.ctx.roster.get(agent_id)
        if agent.transport.kind != "gui":
            self.sig_reported.emit(f"{agent_id} is reached by {agent.transport.kind}: it has no screen point.", True)
            return
        self._capture_target = (agent_id, which)
        self.capture.start()

    def cancel_capture(self) -> None:
        self.capture.cancel()

    @Slot(int)
    def _on_capture_ticked(self, left: int) -> None:
        agent_id, which = self._capture_target or ("", "chat")
        self.sig_capture_ticked.emit(f"Move the pointer onto {agent_id}'s {POINT_NAMES[which]}: "
                                     f"taking it in {left}…")

    @Slot(object)
    def _on_capture_located(self, captured: Captured) -> None:
        """Store the point, bound to the window under it as ``agents capture`` does, or say why not."""
        agent_id, which = self._capture_target or ("", "chat")
        self._capture_target = None
        self.sig_capture_ended.emit()
        point = captured.point
        try:
            roster = with_point(self.ctx.roster, agent_id, which, point, captured.placement)
        except (LookupError, ValueError) as exc:
            self.sig_reported.emit(f"Not captured: {exc}", True)
            return
        where = f"in {captured.describe()}" if captured.placement is not None else \
            f"as a screen point only, not bound to a window: {captured.why}"
        self.ctx.set_roster(roster, on_saved=lambda _r: self.sig_reported.emit(
            f"{agent_id}'s {which} point set to {point[0]}, {point[1]} {where}{self._where()}.", False),
            on_error=self._report_error)

    @Slot()
    def _on_capture_cancelled(self) -> None:
        self._capture_target = None
        self.sig_capture_ended.emit()
        self.sig_reported.emit("Capture cancelled; nothing changed.", False)

    # -- import ----------------------------------------------------------------------------------
    def choose_import_file(self) -> QFileDialog:
        chooser = QFileDialog(self.widget, "Import coordinates", str(Path.home()),
                              "Coordinates (*.json);;All files (*)")
        chooser.setFileMode(QFileDialog.FileMode.ExistingFile)
        chooser.fileSelected.connect(self.import_file)
        chooser.finished.connect(chooser.deleteLater)
        self.file_dialog = chooser
        chooser.open()
        return chooser

    @Slot(str)
    def import_file(self, path: str) -> None:
        """Read an original coordinates file in the background, then add or update its agents."""
        self.sig_reported.emit(f"Importing {path}…", False)
        self.ctx.jobs.run(lambda: import_original(Path(path)), self._imported, self._import_failed,
                          owner=self.widget)

    def _imported(self, result: tuple[list[Agent], list[str]]) -> None:
        agents, warnings = result
        roster, notes = merge_agents(self.ctx.roster, agents, replace=False)
        summary = f"Imported {len(agents)} agents{self._where()}: " + "; ".join(notes)
        if warnings:
            summary += "\nNotes:\n" + "\n".join(f"• {w}" for w in warnings)
        self.ctx.set_roster(roster, on_saved=lambda _r: self.sig_reported.emit(summary, False),
                            on_error=self._report_error)

    def _import_failed(self, error: BaseException) -> None:
        if isinstance(error, RosterError):
            lines = "\n".join(f"• {problem}" for problem in error.problems)
            self.sig_reported.emit(f"Nothing imported; the file has problems:\n{lines}", True)
        else:
            self.sig_reported.emit(f"Nothing imported: {error}", True)

    def _report_error(self, error: BaseException) -> None:
        self.sig_reported.emit(f"Not saved: {error}", True)
