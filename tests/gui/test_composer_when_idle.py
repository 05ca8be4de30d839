"""The composer's "Wait until the agent is idle" box: a message to a working agent waits (its chip
says why), arrives once the agent's Stop hook says it is idle, expires after its time to live, and
a time to live that does not read is refused. Real outbox, dry-run agents, recorded hook events."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from test_composer_panel import make_panel, states, write

from quarterdeck.core.activity.events import CLAUDE_CODE, PROMPT_SUBMITTED, TURN_ENDED, ActivityEvent
from quarterdeck.core.activity.record import record
from quarterdeck.gui.composer.chips import chip_text
from quarterdeck.gui.composer.when_idle import BAD_STYLE


def hook(panel, kind: str, agent: str = "Agent-1") -> None:
    name = {PROMPT_SUBMITTED: "UserPromptSubmit", TURN_ENDED: "Stop"}[kind]
    record(panel.ctx.store.path.parent, ActivityEvent(agent_id=agent, source=CLAUDE_CODE, kind=kind, name=name,
                                                      at=time.time()))


def rows(panel):
    return {r.agent_id: r for r in panel.progress.progress.rows}


def test_the_box_starts_unticked_with_half_an_hour_and_the_time_follows_the_tick(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot)
    box = panel.when_idle
    assert not box.check.isChecked() and not box.ttl.isEnabled() and box.ttl.currentText() == "30m"
    assert panel.draft().when_idle is None
    panel.show()
    qtbot.waitExposed(panel)
    QTest.mouseClick(box.check, Qt.MouseButton.LeftButton, pos=box.check.rect().center())
    assert box.check.isChecked() and box.ttl.isEnabled()
    assert panel.draft().when_idle == "30m"
    box.ttl.setCurrentText("2h")
    assert panel.draft().when_idle == "2h" and box.ttl.styleSheet() == ""


def test_a_message_to_a_working_agent_waits_then_arrives_when_it_is_idle(make_ctx, qtbot, transports):
    panel = make_panel(make_ctx, qtbot)
    hook(panel, PROMPT_SUBMITTED)
    hook(panel, TURN_ENDED, agent="Agent-2")
    panel.when_idle.check.setChecked(True)
    write(panel, "When you are done: rebase on main.", "Agent-1", "Agent-2")
    with qtbot.waitSignal(panel.ctx.sig_submitted):
        panel.send_button.click()
    qtbot.waitUntil(lambda: states(panel) == {"Agent-1": "waiting", "Agent-2": "delivered"}, timeout=10_000)
    waiting = rows(panel)["Agent-1"]
    assert waiting.text() == "waiting: Agent-1 is working (a prompt was submitted)"
    assert chip_text(waiting) == "Agent-1 · waiting"
    assert "1 waiting" in panel.progress.progress.summary()
    assert transports.sent_to("Agent-1") == []
    hook(panel, TURN_ENDED)
    qtbot.waitUntil(lambda: states(panel)["Agent-1"] == "delivered", timeout=10_000)
    assert transports.sent_to("Agent-1") == ["[C2A] Captain → Agent-1\nWhen you are done: rebase on main."]


def test_a_message_that_waits_past_its_time_expires_unsent(make_ctx, qtbot, transports):
    panel = make_panel(make_ctx, qtbot)
    hook(panel, PROMPT_SUBMITTED)
    panel.when_idle.check.setChecked(True)
    panel.when_idle.ttl.setCurrentText("1s")
    write(panel, "Only worth it in the next second.", "Agent-1")
    panel.send_button.click()
    qtbot.waitUntil(lambda: states(panel) == {"Agent-1": "expired"}, timeout=10_000)
    assert rows(panel)["Agent-1"].text() == "expired after 1 s: Agent-1 stayed working"
    assert panel.progress.progress.outcome() == ("0/1 submitted · 1 expired", True)
    assert transports.sent_to("Agent-1") == []


def test_a_time_that_does_not_read_turns_red_and_is_refused(make_ctx, qtbot, transports):
    panel = make_panel(make_ctx, qtbot)
    panel.when_idle.check.setChecked(True)
    panel.when_idle.ttl.setCurrentText("soon")
    assert panel.when_idle.ttl.styleSheet() == BAD_STYLE
    write(panel, "Rebase on main.", "Agent-1")
    assert not panel.send()
    assert panel.notice.text() == ("Not sent: wait until idle: 'soon' is not a duration: write it like 90s, "
                                   "30m or 2h")
    assert not panel.broadcast()
    assert panel.ctx.store.counts_by_state()["waiting"] == 0 and panel.ctx.store.counts_by_state()["queued"] == 0
    panel.when_idle.check.setChecked(False)  # unticked, the time does not matter
    assert panel.when_idle.ttl.styleSheet() == ""
