"""The Rules panel driven as a user would: typing errors, going to them, saving valid rules
(they become active), saving invalid ones (only drafts), the built-in rules' first save, and
files changed on disk. Real rule files in temporary folders, a real session and outbox."""
from __future__ import annotations

import os
import shutil
from argparse import Namespace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from quarterdeck.cli.common import rules_dir
from quarterdeck.core.compose.submit import SubmitRefused
from quarterdeck.core.models import Message
from quarterdeck.core.paths import user_config_dir
from quarterdeck.core.validation import RuleStore, bundled_rules_dir
from quarterdeck.core.validation.bench import DEFAULT_SAMPLES
from quarterdeck.core.validation.location import user_rules_dir
from quarterdeck.gui.ruleedit.panel import RulesPanel

CLEAN = DEFAULT_SAMPLES[0].content  # 130 characters
EMOJI_RULE = '  demo: {description: "🎉 party", severity: bogus, given: content, then: {function: required}}'


@pytest.fixture
def team_rules(tmp_path):
    """A copy of the built-in rules named by the config's validation_rules_path."""
    folder = tmp_path / "team-rules"
    shutil.copytree(bundled_rules_dir(), folder)
    user_config_dir().mkdir(parents=True, exist_ok=True)
    (user_config_dir() / "coordination.yaml").write_text(f"validation_rules_path: {folder}\n", encoding="utf-8")
    return folder


@pytest.fixture
def open_panel(make_ctx, qtbot):
    panels: list[RulesPanel] = []

    def make():
        ctx = make_ctx()
        panel = RulesPanel(ctx)
        qtbot.addWidget(panel)
        panel.resize(1300, 520)
        panel.show()
        qtbot.waitUntil(lambda: panel.tabs.count() == 3 and panel.bench.model.rowCount() == 4)
        panels.append(panel)
        return ctx, panel

    yield make
    for panel in panels:
        panel.shutdown()


def message(content: str = CLEAN) -> Message:
    return Message(sender="Captain", recipients=["Agent-1"], content=content)


def edit(panel: RulesPanel, name: str, old: str, new: str) -> None:
    editor = panel.tabs.editor(name)
    text = editor.toPlainText()
    assert old in text
    editor.setPlainText(text.replace(old, new, 1))


def wait_checked(qtbot, panel: RulesPanel) -> None:
    qtbot.waitUntil(lambda: not panel._check_timer.isActive())


def test_typing_an_error_shows_it_at_its_line_and_utf16_column(open_panel, qtbot, team_rules):
    _, panel = open_panel()
    editor = panel.tabs.editor("message.yaml")
    editor.setPlainText(editor.toPlainText() + EMOJI_RULE + "\n")
    assert panel._check_timer.isActive() and editor.diagnostics() == []  # debounced, not yet checked
    qtbot.waitUntil(lambda: bool(editor.diagnostics()))
    line = editor.blockCount() - 1
    (diagnostic,) = editor.diagnostics()
    assert (diagnostic.line, diagnostic.col) == (line, 44)
    model = panel.problems.model
    assert model.data(model.index(0, 1)) == f"message.yaml:{line}:44"
    assert panel.tabs.tabText(0) == "message.yaml • (1)"
    waves = [s for s in editor.extraSelections() if s.cursor.hasSelection()]
    block = editor.document().findBlockByNumber(line - 1)
    assert [w.cursor.selectionStart() - block.position() for w in waves] == [44]
    assert panel.bench.heading.text().endswith("(the current text has 1 error)")


def test_clicking_a_problem_moves_the_cursor_to_it(open_panel, qtbot, team_rules):
    _, panel = open_panel()
    edit(panel, "security.yaml", "severity: error", "severity: fatal")
    wait_checked(qtbot, panel)
    assert panel.tabs.currentIndex() == 0
    view = panel.problems.view
    (diagnostic,) = panel.problems.model.diagnostics()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(view.model().index(0, 2)).center())
    editor = panel.tabs.editor("security.yaml")
    assert panel.tabs.currentWidget() is editor
    cursor = editor.textCursor()
    assert (cursor.blockNumber() + 1, cursor.positionInBlock() + 1) == (diagnostic.line, diagnostic.col)
    assert editor.textCursor().block().text().strip() == "severity: fatal"


def test_f8_steps_through_the_problems_of_every_file(open_panel, qtbot, team_rules):
    _, panel = open_panel()
    panel.next_problem()  # none yet: nothing happens
    edit(panel, "message.yaml", "severity: error", "severity: loud")
    edit(panel, "security.yaml", "given: content", "given: body")
    wait_checked(qtbot, panel)
    panel.next_action.trigger()
    assert panel.tabs.currentWidget() is panel.tabs.editor("message.yaml")
    panel.next_action.trigger()
    assert panel.tabs.currentWidget() is panel.tabs.editor("security.yaml")
    assert "body" in panel.tabs.editor("security.yaml").textCursor().block().text()
    panel.previous_action.trigger()
    assert panel.tabs.currentWidget() is panel.tabs.editor("message.yaml")


def test_saving_valid_rules_activates_them(open_panel, qtbot, team_rules):
    ctx, panel = open_panel()
    assert ctx.session.rules.validate(message()).status == "PASS"
    assert panel.bench.model.report(0).status == "PASS"
    edit(panel, "quality.yaml", "functionOptions: {max: 8000}", "functionOptions: {max: 100}")
    qtbot.waitUntil(lambda: panel.bench.model.report(0).status == "FAIL")  # the bench follows the editor
    assert "your unsaved edits" in panel.bench.heading.text()
    assert ctx.session.validator.validate(message()).status == "PASS"  # not saved: not active
    with qtbot.waitSignal(ctx.sig_rules_changed):
        panel.save_action.trigger()
    assert "functionOptions: {max: 100}" in (team_rules / "quality.yaml").read_text(encoding="utf-8")
    assert ctx.session.validator.validate(message()).hits() == {"content-max-length": 1}
    assert ctx.session.rules.generation == 2
    assert "generation 2" in panel.status_label.text()
    assert "the new rules are active (generation 2)" in panel.notice.text()
    assert panel.tabs.tabText(1) == "quality.yaml"
    refused: list[BaseException] = []
    ctx.submit(message(), on_error=refused.append)
    qtbot.waitUntil(lambda: bool(refused))
    assert isinstance(refused[0], SubmitRefused)
    assert sorted(p.name for p in team_rules.iterdir()) == ["message.yaml", "quality.yaml", "security.yaml"]


def test_saving_with_an_error_writes_drafts_and_keeps_the_active_rules(open_panel, qtbot, team_rules):
    ctx, panel = open_panel()
    original = {p.name: p.read_bytes() for p in team_rules.iterdir()}
    edit(panel, "quality.yaml", "functionOptions: {max: 8000}", "functionOptions: {max: 100}")
    edit(panel, "message.yaml", "severity: error", "severity: bogus")
    wait_checked(qtbot, panel)
    with qtbot.assertNotEmitted(ctx.sig_rules_changed, wait=200):
        panel.save_action.trigger()
        qtbot.waitUntil(lambda: panel.notice.kind == "draft")
    assert "Draft saved; active rules unchanged (1 error)." in panel.notice.text()
    assert {p.name: p.read_bytes() for p in team_rules.glob("*.yaml")} == original
    drafts = sorted(p.name for p in team_rules.glob("*.draft"))
    assert drafts == ["message.yaml.draft", "quality.yaml.draft"]
    draft_text = (team_rules / "message.yaml.draft").read_text(encoding="utf-8")
    assert draft_text == panel.tabs.editor("message.yaml").toPlainText()
    assert ctx.session.rules.generation == 1
    assert ctx.session.validator.validate(message()).status == "PASS"  # still the old max of 8000
    assert panel.tabs.is_modified("message.yaml")
    store = RuleStore([team_rules])
    assert store.reload() == [] and len(store.active) == len(ctx.session.rules.active)  # drafts never load


def test_drafts_are_offered_when_the_panel_opens_again(open_panel, qtbot, team_rules):
    draft = (team_rules / "quality.yaml").read_text(encoding="utf-8").replace("max: 8000", "max: [")
    (team_rules / "quality.yaml.draft").write_text(draft, encoding="utf-8")
    _, panel = open_panel()
    qtbot.waitUntil(lambda: panel.notice.kind == "drafts")
    assert "quality.yaml" in panel.notice.text()
    panel.notice.action_button.click()
    assert panel.tabs.editor("quality.yaml").toPlainText() == draft
    assert panel.tabs.is_modified("quality.yaml") and panel.check.errors >= 1


def test_the_first_save_of_the_builtin_rules_edits_a_copy(open_panel, qtbot):
    bundled = {p.name: p.read_bytes() for p in bundled_rules_dir().glob("*.yaml")}
    ctx, panel = open_panel()
    assert panel.location.read_only
    assert "Editing the built-in rules (read-only" in panel.where_label.text()
    edit(panel, "quality.yaml", "functionOptions: {max: 8000}", "functionOptions: {max: 100}")
    with qtbot.waitSignal(ctx.sig_rules_changed):
        panel.save()
    assert panel.where_label.text() == f"Editing a copy of the built-in rules in {user_rules_dir()}."
    assert sorted(p.name for p in user_rules_dir().iterdir()) == ["message.yaml", "quality.yaml", "security.yaml"]
    assert "max: 100" in (user_rules_dir() / "quality.yaml").read_text(encoding="utf-8")
    assert {p.name: p.read_bytes() for p in bundled_rules_dir().glob("*.yaml")} == bundled
    assert ctx.session.rules.paths == (user_rules_dir(),)
    assert ctx.session.validator.validate(message()).status == "FAIL"
    assert rules_dir(Namespace(rules=None, config=None)) == user_rules_dir()  # the CLI agrees
    assert not panel.location.read_only
    edit(panel, "quality.yaml", "functionOptions: {max: 100}", "functionOptions: {max: 200}")
    with qtbot.waitSignal(ctx.sig_rules_changed):
        panel.save()  # the second save edits the copy in place
    assert ctx.session.validator.validate(message()).status == "PASS"


def test_a_file_changed_on_disk_is_reloaded_by_the_store_and_offered_to_the_editor(open_panel, qtbot, team_rules):
    ctx, panel = open_panel()
    assert panel.files._timer.isActive() and panel.files._timer.interval() == 2000
    path = team_rules / "quality.yaml"
    changed = path.read_text(encoding="utf-8").replace("max: 8000", "max: 100")
    stat = path.stat()
    path.write_text(changed, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    with qtbot.waitSignal(ctx.sig_rules_changed):
        panel.files.look_now()
    qtbot.waitUntil(lambda: panel.notice.kind == "disk")
    assert panel.notice.text() == "quality.yaml changed on disk."
    assert ctx.session.validator.validate(message()).status == "FAIL"
    panel.notice.action_button.click()
    assert panel.tabs.editor("quality.yaml").toPlainText() == changed
    assert not panel.tabs.is_modified("quality.yaml")


def test_a_change_on_disk_under_unsaved_edits_warns_before_discarding(open_panel, qtbot, team_rules):
    _, panel = open_panel()
    edit(panel, "security.yaml", "severity: error", "severity: warning")
    path = team_rules / "security.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# touched\n", encoding="utf-8")
    panel.files.look_now()
    qtbot.waitUntil(lambda: panel.notice.kind == "disk")
    assert "while you have unsaved edits" in panel.notice.text()
    assert panel.notice.action_button.text() == "Reload, discarding my edits"
    panel.files.look_now()  # the same change is not announced twice
    qtbot.waitUntil(lambda: not panel.files._looking)
    panel.notice.clear()
    assert panel.notice.text() == ""


def test_revert_puts_back_the_saved_text_and_undo_brings_the_edit_back(open_panel, qtbot, team_rules):
    _, panel = open_panel()
    editor = panel.tabs.editor("message.yaml")
    saved = editor.toPlainText()
    editor.textCursor().insertText("# a note\n")
    assert panel.tabs.is_modified("message.yaml")
    panel.revert_action.trigger()
    assert editor.toPlainText() == saved and not panel.tabs.is_modified("message.yaml")
    editor.undo()
    assert editor.toPlainText().startswith("# a note\n")


def test_saving_nothing_and_the_commands(open_panel, qtbot, team_rules):
    ctx, panel = open_panel()
    with qtbot.waitSignal(ctx.sig_status) as status:
        panel.save()
    assert status.args == ["No unsaved rule edits"]
    shortcuts = {a.text(): a.shortcut() for a in panel.commands()}
    assert shortcuts == {"Save rules": QKeySequence("Ctrl+S"), "Next problem": QKeySequence("F8"),
                         "Previous problem": QKeySequence("Shift+F8"), "Revert rules to saved": QKeySequence()}
    assert (RulesPanel.NAME, RulesPanel.TITLE, RulesPanel.AREA) == (
        "rules", "Rules", Qt.DockWidgetArea.BottomDockWidgetArea)
    assert panel.status_label.text().startswith(f"Active: {len(ctx.session.rules.active)} rules from {team_rules}")


def test_a_save_onto_files_that_broke_on_disk_keeps_the_active_rules(open_panel, qtbot, team_rules):
    ctx, panel = open_panel()
    panel.files.stop()  # the 2 s look would notice the broken file first
    (team_rules / "security.yaml").write_text("rules:\n  broken: [\n", encoding="utf-8")
    edit(panel, "quality.yaml", "functionOptions: {max: 8000}", "functionOptions: {max: 100}")
    with qtbot.assertNotEmitted(ctx.sig_rules_changed, wait=200):
        panel.save()
        qtbot.waitUntil(lambda: panel.notice.kind == "saved")
    assert panel.notice.text() == "Saved, but the rule files on disk have 1 error; active rules unchanged."
    assert ctx.session.validator.validate(message()).status == "PASS"
    assert ctx.session.rules.generation == 1


def test_failures_to_read_save_or_look_are_shown(open_panel, qtbot, team_rules, monkeypatch):
    import quarterdeck.gui.ruleedit.files as files

    ctx, panel = open_panel()
    monkeypatch.setattr(files, "save_rules", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    edit(panel, "quality.yaml", "max: 8000", "max: 7000")
    panel.save()
    assert not panel.save_button.isEnabled()
    qtbot.waitUntil(lambda: "disk full" in panel.notice.text())
    assert panel.notice.text() == "Could not save the rules: disk full. Nothing was changed."
    assert panel.save_button.isEnabled() and not panel.files.saving
    monkeypatch.setattr(files, "read_texts", lambda *a: 1 / 0)
    with qtbot.waitSignal(ctx.sig_status) as status:
        panel.files.look_now()
    assert status.args[0].startswith("Rules: could not look at the rule files")
    (team_rules / "message.yaml").write_bytes(b"rules: \xff\n")
    panel.files.open()
    qtbot.waitUntil(lambda: panel.notice.text().startswith("Could not read the rule files"))
    assert panel.where_label.text() == "The rule files could not be read."
    (team_rules / "message.yaml").write_bytes((bundled_rules_dir() / "message.yaml").read_bytes())
    panel.notice.action_button.click()  # Retry
    qtbot.waitUntil(lambda: panel.where_label.text().startswith("Editing the configured rules"))
    assert panel.tabs.count() == 3 and not panel.tabs.is_modified("quality.yaml")


def test_an_empty_rules_folder_says_so(make_ctx, qtbot, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    user_config_dir().mkdir(parents=True, exist_ok=True)
    (user_config_dir() / "coordination.yaml").write_text(f"validation_rules_path: {folder}\n", encoding="utf-8")
    ctx = make_ctx()
    panel = RulesPanel(ctx)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.notice.kind == "" and panel.notice.text() != "")
    assert panel.notice.text() == f"No rule files (*.yaml) in {folder}."
    assert panel.status_label.text().startswith("Active: 0 rules from")
    panel.shutdown()


def test_the_window_offers_the_panel_commands(make_ctx, qtbot, team_rules):
    from quarterdeck.gui.mainwindow import MainWindow

    ctx = make_ctx()
    window = MainWindow(ctx, [RulesPanel])
    qtbot.addWidget(window)
    names = [a.text() for a in window.all_commands()]
    assert {"Save rules", "Next problem", "Previous problem", "Revert rules to saved"} <= set(names)
    panel = window.panels["rules"]
    qtbot.waitUntil(lambda: panel.tabs.count() == 3)
    window.close()


def test_the_background_steps_swap_the_session_store_only_for_good_rules(team_rules):
    """The save and look jobs called directly (coverage does not trace the runner's QThread)."""
    from types import SimpleNamespace

    from quarterdeck.core.validation.location import locate_rules
    from quarterdeck.gui.ruleedit.files import _look, _save_and_activate

    store = RuleStore([team_rules])
    store.reload()
    session = SimpleNamespace(rules=store)
    location = locate_rules(team_rules)
    text = (team_rules / "quality.yaml").read_text(encoding="utf-8")
    saved = _save_and_activate(session, location, {"quality.yaml": text + "# ok\n"}, True, 0)
    assert saved.activated and session.rules is store and store.generation == 2
    drafted = _save_and_activate(session, location, {"quality.yaml": "rules: [\n"}, False, 1)
    assert drafted.outcome.drafts and drafted.errors == 1 and store.generation == 2
    state = _look(store, location, ["quality.yaml"])
    assert not state.activated and state.reloaded is None and state.texts["quality.yaml"].endswith("# ok\n")
