"""The Composer's parts on their own: groups, templates on disk, the progress table, errors."""
from __future__ import annotations

import json

from PySide6.QtCore import Qt

from quarterdeck.core.compose.submit import Submission, SubmitRefused, UnknownRecipient
from quarterdeck.core.compose.templates import list_templates, user_templates_dir
from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
from quarterdeck.core.models import Agent, DryRunTransport, Message
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.validation import RuleStore, Validator, bundled_rules_dir
from quarterdeck.gui.composer.highlight import utf16_offset
from quarterdeck.gui.composer.panel import ComposerPanel
from quarterdeck.gui.composer.progress import ProgressModel
from quarterdeck.gui.composer.recipients import GROUPS_KEY
from quarterdeck.gui.composer.sending import describe_error


def team() -> Roster:
    agents = tuple(Agent(id=f"Agent-{n}", role=r, transport=DryRunTransport())
                   for n, r in ((1, "frontend"), (2, "backend"), (3, "docs")))
    return Roster(agents, {"web": ("Agent-1", "Agent-2")})


def make_panel(make_ctx, qtbot) -> ComposerPanel:
    panel = ComposerPanel(make_ctx(roster=team()))
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.templates.combo.isEnabled())
    return panel


def combo_texts(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def test_utf16_offsets():
    assert utf16_offset("a🚀b", 0) == 0
    assert utf16_offset("a🚀b", 2) == 3
    assert utf16_offset("é€", 2) == 2


def test_all_toggle_and_groups(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    box = panel.recipients
    assert combo_texts(box.groups) == ["Choose a group…", "web (roster)"]
    box.all_box.click()
    assert box.selected() == ["Agent-1", "Agent-2", "Agent-3"] and box.all_box.isChecked()
    box.list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert not box.all_box.isChecked()
    box.all_box.click()
    box.all_box.click()
    assert box.selected() == []
    box.groups.activated.emit(1)
    assert box.selected() == ["Agent-1", "Agent-2"] and box.groups.currentIndex() == 0


def test_saving_and_forgetting_a_group(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    box = panel.recipients
    box.ask_name = lambda _parent, _suggestion: "docs crew"
    box.save_group()
    assert "Check some agents first" in panel.notice.text()
    box.set_selected(["Agent-3", "Agent-1"])
    box.save_action.trigger()
    assert json.loads(panel.ctx.settings.get(GROUPS_KEY, "", str)) == {"docs crew": ["Agent-1", "Agent-3"]}
    assert "docs crew" in combo_texts(box.groups) and "Group 'docs crew' saved" in panel.notice.text()
    box.set_selected([])
    box.choose_group("docs crew")
    assert box.selected() == ["Agent-1", "Agent-3"]
    box.menu.aboutToShow.emit()
    forget = next(a for a in box.menu.actions() if a.menu() is not None).menu()
    forget.actions()[0].trigger()
    assert box.user_groups() == {} and "docs crew" not in combo_texts(box.groups)


def test_a_group_member_missing_from_the_roster_is_reported(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    panel.ctx.settings.set(GROUPS_KEY, json.dumps({"old": ["Agent-1", "Agent-9"]}), "{}")
    panel.recipients.choose_group("old")
    assert panel.recipients.selected() == ["Agent-1"]
    assert "Agent-9 not enabled on the roster" in panel.notice.text()
    panel.ctx.settings.set(GROUPS_KEY, "not json", "{}")
    assert panel.recipients.user_groups() == {}


def test_save_as_template_writes_a_user_file(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    bar = panel.templates
    bar.ask_name = lambda _parent, _suggestion: "ping"
    bar.save("")
    assert "empty" in panel.notice.text() and panel.notice.error
    bar.save("Hi {nme}")
    assert "Not saved" in panel.notice.text() and "unknown placeholder {nme}" in panel.notice.text()
    with qtbot.waitSignal(bar.sig_reported) as reported:
        bar.save("Status, {agent_id}?")
    assert reported.args[0].startswith("Template 'ping' saved")
    assert (user_templates_dir() / "ping.md").read_text(encoding="utf-8") == "Status, {agent_id}?\n"
    qtbot.waitUntil(lambda: "ping (yours)" in combo_texts(bar.combo))
    with qtbot.waitSignal(bar.sig_reported) as reported:
        bar.save("Status now, {agent_id}?")
    assert "replaced" in reported.args[0]


def test_bundled_templates_are_offered_and_set_their_fields(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    assert {"onboarding", "wrap-up"} <= {t.name for t in list_templates()}
    offered = combo_texts(panel.templates.combo)
    assert offered[0] == "Template…" and {"onboarding", "wrap-up"} <= set(offered[1:])
    with qtbot.waitSignal(panel.templates.sig_template_loaded):
        panel.templates.combo.activated.emit(1)
    assert panel.fields.message_type == "onboarding" and panel.fields.tags() == ("onboarding",)
    assert panel.editor.toPlainText().startswith("Welcome aboard, {agent_id}.")
    panel.templates.load("nope")
    assert "No template named 'nope'" in panel.notice.text()


def test_progress_model_passes_the_model_tester(qtmodeltester, qtbot):
    model = ProgressModel()
    message = Message(sender="Captain", recipients=["Agent-1", "Agent-2"], content="x")
    model.start([message.id])
    model.submitted(Submission(message, ("Agent-1", "Agent-2"), (1, 2), None, False))
    model.changed(model.progress.event(DeliveryEvent(2, message.id, "Agent-2", "failed", 4, "boom")))
    qtmodeltester.check(model)
    assert model.index(1, 1).data() == "failed ✗ boom"
    assert model.index(1, 1).data(Qt.ItemDataRole.ForegroundRole).name() == "#c62828"
    assert "delivery #2" in model.index(1, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Status"
    with qtbot.waitSignal(model.rowsRemoved):
        model.start(["other"])
    assert model.rowCount() == 0
    model.submitted(Submission(message, ("Agent-1", "Agent-2"), (1, 2), None, False))
    assert model.rowCount() == 0  # a submission of an earlier send is not shown


def test_refusals_are_described_in_plain_words():
    rules = RuleStore([bundled_rules_dir()])
    rules.reload()
    report = Validator(rules.active).validate(Message(sender="Captain", recipients=[], content="x").rule_fields())
    text = describe_error(SubmitRefused(report))
    assert text.startswith("Not sent: the message fails the rules (recipients-required)")
    assert "must name at least one recipient" in text
    assert describe_error(UnknownRecipient("'X' is not on the roster")).endswith("against the roster.")
    from quarterdeck.core.store.faults import StorageFault

    full = StorageFault("full", "/data/quarterdeck.sqlite3", "SQLite: disk I/O error")
    assert describe_error(full) == f"Not sent: {full}"  # the one line as it is, no type name
    assert describe_error(OSError("disk full")) == "Not sent: OSError: disk full"
