"""Adding, editing, removing and calibrating agents from the Roster panel, through a real roster file."""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QPoint
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QMessageBox, QPushButton

from quarterdeck.core.models import Agent, GuiTransport, TmuxTransport
from quarterdeck.core.roster.roster import Roster, load_roster
from quarterdeck.gui.roster.model import STATUS, TARGET
from quarterdeck.gui.roster.panel import RosterPanel


def gui_roster() -> Roster:
    return Roster((
        Agent(id="Agent-1", role="frontend", transport=GuiTransport(chat=(420, 980))),
        Agent(id="Agent-2", role="backend", transport=TmuxTransport(target="swarm:0.2")),
    ), {"pair": ("Agent-1", "Agent-2")})


def make_panel(make_ctx, qtbot, tmp_path, *, file: bool = True, **kw) -> RosterPanel:
    ctx = make_ctx(roster=gui_roster(), roster_path=tmp_path / "agents.yaml" if file else None)
    panel = RosterPanel(ctx, **kw)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def saved(panel: RosterPanel) -> Roster:
    return load_roster(panel.ctx.roster_path, screens=())


def fill(dialog, **values) -> None:
    for name, value in values.items():
        widget = dialog.fields[name]
        if name == "kind":
            widget.setCurrentIndex(widget.findData(value))
        elif isinstance(value, bool):
            widget.setChecked(value)
        else:
            widget.setText(value)


def test_adding_an_agent_saves_the_roster_file_and_adds_a_row(make_ctx, qtbot, tmp_path):
    panel = make_panel(make_ctx, qtbot, tmp_path)
    assert panel.memory_note.isHidden()
    panel.actions_by_name["add"].trigger()
    dialog = panel.editor.dialog
    assert dialog.windowTitle() == "Add agent" and dialog.isVisible()
    fill(dialog, id="Agent-3", role="qa", kind="tmux", target="swarm:0.3")
    with qtbot.waitSignals([panel.model.rowsInserted, dialog.finished]):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert saved(panel).get("Agent-3").transport == TmuxTransport(target="swarm:0.3")
    assert panel.model.ids() == ["Agent-1", "Agent-2", "Agent-3"]
    assert panel.message_bar.label.text() == "Agent-3 added."


def test_errors_are_shown_on_their_fields_and_nothing_is_saved(make_ctx, qtbot, tmp_path):
    panel = make_panel(make_ctx, qtbot, tmp_path)
    dialog = panel.editor.add()
    fill(dialog, id="2nd", chat="four twenty", onboarding="1, 2", submit_keys="hyper")
    dialog.submit()
    shown = {name for name, label in dialog.errors.items() if label.isVisible()}
    assert shown == {"id", "chat", "submit_keys"}
    assert "start with a letter" in dialog.errors["id"].text()
    assert "two whole numbers" in dialog.errors["chat"].text()
    assert dialog.status_label.text() == "Fix the fields marked in red."
    fill(dialog, id="Agent-2")
    dialog.submit()
    assert "already on the roster" in dialog.errors["id"].text()
    assert not (tmp_path / "agents.yaml").exists() and dialog.isVisible()
    fill(dialog, id="Agent-9", chat="10, 20", submit_keys="shift+enter")
    with qtbot.waitSignal(dialog.finished) as finished:  # closed (then deleted) once saved
        dialog.submit()
    assert finished.args == [1]
    assert saved(panel).get("Agent-9").transport.submit_keys == ("shift", "enter")


def test_while_typing_only_touched_fields_complain(make_ctx, qtbot, tmp_path):
    panel = make_panel(make_ctx, qtbot, tmp_path)
    dialog = panel.editor.add()
    dialog.fields["chat"].textEdited.emit("1")  # as if typed
    dialog.fields["chat"].setText("1")
    qtbot.waitUntil(lambda: dialog.errors["chat"].isVisible())
    assert not dialog.errors["id"].isVisible()  # not typed in yet
    fill(dialog, kind="inbox")
    assert dialog.pages.currentIndex() == 2
    (tmp_path / "inbox").mkdir()
    dialog.findChild(QPushButton, "browse-inbox").click()
    dialog.chooser.selectFile(str(tmp_path / "inbox"))
    dialog.chooser.accept()
    assert dialog.fields["path"].text() == str(tmp_path / "inbox")
    assert dialog.check(show_all=True) is None  # the id is still missing, the chosen folder is fine
    assert dialog.errors["id"].isVisible() and not dialog.errors["path"].isVisible()
    dialog.reject()


def test_editing_and_renaming_keeps_groups_in_the_file(make_ctx, qtbot, tmp_path):
    panel = make_panel(make_ctx, qtbot, tmp_path)
    panel.select_agent("Agent-1")
    panel.actions_by_name["edit"].trigger()
    dialog = panel.editor.dialog
    assert dialog.fields["chat"].text() == "420, 980" and dialog.fields["paste_keys"].text() == "ctrl+v"
    fill(dialog, id="Lead", role="lead", onboarding="420, 900", enabled=False)
    with qtbot.waitSignal(dialog.finished) as finished:  # closed (then deleted) once saved
        dialog.submit()
    assert finished.args == [1]
    roster = saved(panel)
    assert roster.ids() == ["Lead", "Agent-2"] and roster.groups == {"pair": ("Lead", "Agent-2")}
    assert roster.get("Lead").transport.onboarding == (420, 900) and not roster.get("Lead").enabled
    assert panel.model.ids() == ["Lead", "Agent-2"]
    assert panel.model.index(0, STATUS).data() == "disabled"


def test_removing_asks_first_then_updates_file_and_groups(make_ctx, qtbot, tmp_path):
    panel = make_panel(make_ctx, qtbot, tmp_path)
    panel.select_agent("Agent-2")
    panel.actions_by_name["remove"].trigger()
    box = panel.editor.confirm
    assert "Agent-2" in box.text()
    with qtbot.waitSignal(panel.model.rowsRemoved):
        box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: (tmp_path / "agents.yaml").exists())
    roster = saved(panel)
    assert roster.ids() == ["Agent-1"] and roster.groups == {"pair": ("Agent-1",)}
    assert panel.selected_id() != "Agent-2"


def test_without_a_roster_file_edits_are_in_memory_and_say_so(make_ctx, qtbot, tmp_path):
    panel = make_panel(make_ctx, qtbot, tmp_path, file=False)
    assert panel.memory_note.isVisible() and "not saved to a file" in panel.memory_note.text()
    panel.editor.remove_now("Agent-2")
    qtbot.waitUntil(lambda: panel.model.ids() == ["Agent-1"])
    assert "in memory" in panel.message_bar.label.text()
    assert not list(tmp_path.glob("*.yaml"))


def test_a_failed_save_is_shown_in_the_dialog(make_ctx, qtbot, tmp_path):
    (tmp_path / "blocker").write_text("a file, not a folder")
    ctx = make_ctx(roster=gui_roster(), roster_path=tmp_path / "blocker" / "agents.yaml")
    panel = RosterPanel(ctx)
    qtbot.addWidget(panel)
    dialog = panel.editor.add()
    fill(dialog, id="Agent-3", kind="dryrun")
    dialog.submit()
    assert not dialog.buttons.isEnabled()
    qtbot.waitUntil(lambda: dialog.status_label.text().startswith("Not saved:"))
    assert dialog.isVisible() and dialog.buttons.isEnabled()
    assert ctx.roster.ids() == ["Agent-1", "Agent-2"]


def test_capture_counts_down_then_stores_the_pointer(make_ctx, qtbot, tmp_path):
    panel = make_panel(make_ctx, qtbot, tmp_path, capture_seconds=2)
    panel.select_agent("Agent-1")
    ticks: list[int] = []
    panel.editor.capture.sig_ticked.connect(ticks.append)
    panel.actions_by_name["capture_chat"].trigger()
    assert panel.capture_bar.isVisible() and "taking it in 2" in panel.capture_bar.label.text()
    assert not panel.actions_by_name["capture_chat"].isEnabled()  # one capture at a time
    QCursor.setPos(QPoint(333, 222))  # the offscreen platform keeps a pointer position
    with qtbot.waitSignal(panel.editor.capture.sig_located, timeout=4000) as captured:
        pass
    assert ticks == [2, 1] and captured.args[0].point == (333, 222)
    qtbot.waitUntil(lambda: panel.model.index(0, TARGET).data() == "333, 222")
    assert saved(panel).get("Agent-1").transport.chat == (333, 222)
    assert not panel.capture_bar.isVisible()
    assert "chat point set to 333, 222" in panel.message_bar.label.text()


def test_capture_can_be_cancelled_and_refuses_non_gui_agents(make_ctx, qtbot, tmp_path):
    panel = make_panel(make_ctx, qtbot, tmp_path)
    panel.select_agent("Agent-1")
    panel.actions_by_name["capture_onboarding"].trigger()
    assert panel.editor.capture.active
    panel.capture_bar.button.click()
    assert not panel.editor.capture.active and not panel.capture_bar.isVisible()
    assert "cancelled" in panel.message_bar.label.text()
    panel.editor.start_capture("Agent-2", "chat")
    assert "no screen point" in panel.message_bar.label.text() and not panel.editor.capture.active
    assert not (tmp_path / "agents.yaml").exists()


def test_the_dialog_can_capture_a_point_into_its_field(make_ctx, qtbot, tmp_path):
    panel = make_panel(make_ctx, qtbot, tmp_path, capture_seconds=1)
    dialog = panel.editor.add()
    QCursor.setPos(QPoint(12, 34))
    dialog.capture_buttons["onboarding"].click()
    assert "taking it in 1" in dialog.status_label.text()
    qtbot.waitUntil(lambda: dialog.fields["onboarding"].text() == "12, 34", timeout=3000)
    assert "captured at 12, 34" in dialog.status_label.text()
    dialog.reject()


def write_coords(path: Path, text: str | None = None) -> Path:
    document = {"agents": {
        "Agent-1": {"chat_input_coordinates": [-1269, 481], "onboarding_input_coords": [-1265, 171],
                    "description": "Integration & Core Systems Specialist", "active": True},
        "Agent-7": {"chat_input_coordinates": [200, 300], "description": "Testing", "active": False},
    }}
    path.write_text(text if text is not None else json.dumps(document, indent=2))
    return path


def test_importing_coordinates_adds_and_updates_agents(make_ctx, qtbot, tmp_path):
    panel = make_panel(make_ctx, qtbot, tmp_path)
    coords = write_coords(tmp_path / "cursor_agent_coords.json")
    panel.actions_by_name["import"].trigger()
    chooser = panel.editor.file_dialog
    assert chooser is not None and chooser.isVisible()
    chooser.selectFile(str(coords))
    with qtbot.waitSignal(panel.model.rowsInserted, timeout=5000):
        chooser.accept()
    qtbot.waitUntil(lambda: "Imported 2 agents" in panel.message_bar.label.text())
    roster = saved(panel)
    assert roster.ids() == ["Agent-1", "Agent-2", "Agent-7"]
    assert roster.get("Agent-1").transport.chat == (-1269, 481) and not roster.get("Agent-7").enabled
    assert "no onboarding point" in panel.message_bar.label.text()


def test_a_broken_coordinates_file_is_reported_with_its_line(make_ctx, qtbot, tmp_path):
    panel = make_panel(make_ctx, qtbot, tmp_path)
    broken = write_coords(tmp_path / "coords.json", '{"agents": {\n  "Agent-1": {"chat_input_coordinates": [1]}\n}}')
    panel.editor.import_file(str(broken))
    qtbot.waitUntil(lambda: panel.message_bar.label.text().startswith("Nothing imported"))
    assert f"{broken}:2:" in panel.message_bar.label.text()
    panel.editor.import_file(str(tmp_path / "missing.json"))
    qtbot.waitUntil(lambda: "No such file" in panel.message_bar.label.text())
    assert not (tmp_path / "agents.yaml").exists()
    panel.message_bar.button.click()
    assert not panel.message_bar.isVisible()
