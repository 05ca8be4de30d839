"""The Rules panel shares its width fairly (the editor is never a sliver beside the bench) and a
"Draft saved … (1 error)" warning goes once the error is fixed. Real rule files, real session."""
from __future__ import annotations

import pytest
from test_ruleedit_panel import edit, open_panel, team_rules, wait_checked  # noqa: F401 - fixtures, used by name

from quarterdeck.gui.ruleedit.split import EDITOR_SHARE


@pytest.mark.parametrize("width", [1800, 1300, 660])
def test_the_editor_gets_a_fair_share_of_the_width(open_panel, qtbot, team_rules, width):
    _, panel = open_panel()
    panel.resize(width, 520)
    qtbot.waitUntil(lambda: panel.width() == width)
    editor, bench = panel.splitter.sizes()
    assert editor >= (editor + bench) * (EDITOR_SHARE - 0.05)  # three fifths, give or take the handle
    assert panel.splitter.widget(0).width() > panel.splitter.widget(1).width()
    assert panel.minimumSizeHint().width() < 660  # the bench scrolls in its share: the dock need not


def test_a_drag_of_the_handle_is_kept(open_panel, qtbot, team_rules):
    _, panel = open_panel()
    panel.splitter.setSizes([400, 900])
    panel.resize(1200, 520)
    qtbot.waitUntil(lambda: panel.width() == 1200)
    editor, bench = panel.splitter.sizes()
    assert editor < bench  # the captain's choice stands


def test_the_draft_warning_goes_once_the_error_is_fixed(open_panel, qtbot, team_rules):
    ctx, panel = open_panel()
    edit(panel, "message.yaml", "severity: error", "severity: bogus")
    wait_checked(qtbot, panel)
    panel.save_action.trigger()
    qtbot.waitUntil(lambda: panel.notice.kind == "draft")
    assert "Draft saved; active rules unchanged (1 error)." in panel.notice.text()
    edit(panel, "quality.yaml", "functionOptions: {max: 8000}", "functionOptions: {max: 7000}")
    wait_checked(qtbot, panel)  # another edit, the error still there: the warning stays
    assert panel.notice.kind == "draft"
    edit(panel, "message.yaml", "severity: bogus", "severity: error")  # the fix
    qtbot.waitUntil(lambda: panel.notice.kind == "draft-fixed")
    assert "Draft saved" not in panel.notice.text()
    assert panel.notice.text() == "The errors are fixed: save (Ctrl+S) to make these rules active."
    with qtbot.waitSignal(ctx.sig_rules_changed):
        panel.notice.action_button.click()  # the notice's own Save
    qtbot.waitUntil(lambda: panel.notice.kind == "saved")
    assert "the new rules are active" in panel.notice.text()


def test_breaking_or_reverting_after_the_fix_retires_the_notice(open_panel, qtbot, team_rules):
    _, panel = open_panel()
    edit(panel, "message.yaml", "severity: error", "severity: bogus")
    wait_checked(qtbot, panel)
    panel.save_action.trigger()
    qtbot.waitUntil(lambda: panel.notice.kind == "draft")
    panel.revert()  # back to the saved, valid text: nothing left to save, nothing to warn about
    assert panel.notice.kind == "" and panel.notice.isHidden()
