"""Onboarding the demo swarm on a real display: GUI delivery clicks each simulated chat window,
pastes the wrap-up and presses Enter, presses Ctrl+T for a new chat, then pastes the onboarding.
Each window's transcript must read: the wrap-up, a new-chat marker, the onboarding, nothing else."""
from __future__ import annotations

import os
import threading

import pytest
from msgspec.structs import replace
from xterm_desk import wait_until

import quarterdeck.cli.main
from quarterdeck.cli import onboard_cmd
from quarterdeck.core.delivery.contract import DeliveryRequest
from quarterdeck.core.onboarding import build_plan
from quarterdeck.core.roster.roster import Roster, load_roster, save_roster
from quarterdeck.core.transports.gui.guard import PointerGuard
from quarterdeck.core.transports.gui.transport import GuiDelivery
from quarterdeck.gui.demo import DemoSwarm
from quarterdeck.gui.demo.transcript import Entry

CAPTAIN = "Agent-1"


@pytest.fixture
def swarm(tmp_path, empty_clipboard):
    """Three demo agents on the display; Agent-1 is made the captain in a copy of their roster."""
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    demo = DemoSwarm.start(3, tmp_path / "demo", env=env)
    try:
        roster = load_roster(demo.wait_ready(30))
        agents = tuple(replace(a, role="captain") if a.id == CAPTAIN else a for a in roster.agents)
        path = tmp_path / "agents.yaml"
        save_roster(Roster(agents), path, backup=False)
        yield demo, load_roster(path), path
    finally:
        demo.close()


MARK = "marker: nothing after this"


def transcript_of(demo: DemoSwarm, agent) -> list[Entry]:
    """``agent``'s three records once they are in, and nothing more: a marker delivered after them
    arrives after anything they sent (a duplicate submission or a stray new chat would land before it)."""
    wait_until(lambda: len(demo.entries(agent.id)) >= 3, f"three records for {agent.id}", timeout=20)
    GuiDelivery(agent.transport, guard=PointerGuard()).deliver(DeliveryRequest(agent_id=agent.id, text=MARK),
                                                               threading.Event())
    entries = wait_until(lambda: (e := demo.entries(agent.id)) and e[-1].text == MARK and e,
                         f"the marker after {agent.id}'s records", timeout=20)
    return entries[:-1]


def kinds_and_texts(entries: list[Entry]) -> list[tuple[str, str]]:
    return [(e.kind, e.text) for e in entries]


def expected(plan, agent_id: str) -> list[tuple[str, str]]:
    step = next(s for s in plan.steps if s.agent_id == agent_id)
    wrapup, onboarding = step.texts()
    return [("message", wrapup), ("new chat", ""), ("message", onboarding)]


@pytest.mark.x11
def test_quarterdeck_onboard_all_types_into_every_demo_window(swarm, tmp_path, capsys, monkeypatch):
    demo, roster, path = swarm
    if onboard_cmd not in quarterdeck.cli.main.COMMAND_MODULES:
        monkeypatch.setattr(quarterdeck.cli.main, "COMMAND_MODULES",
                            (*quarterdeck.cli.main.COMMAND_MODULES, onboard_cmd))
    code = quarterdeck.cli.main.main(["onboard", "--all", "--roster", str(path), "--data-dir", str(tmp_path / "data")])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    lines = out.splitlines()
    assert [ln.split()[:3] for ln in lines[:-1]] == [
        ["Agent-2", "wrap-up", "submitted"], ["Agent-2", "onboarding", "submitted"],
        ["Agent-3", "wrap-up", "submitted"], ["Agent-3", "onboarding", "submitted"],
        ["Agent-1", "wrap-up", "submitted"], ["Agent-1", "onboarding", "submitted"]]  # the captain last
    assert lines[-1] == "3 of 3 agents onboarded"
    plan = build_plan(roster, None)  # the same texts, rebuilt to compare with the windows' records
    for agent in roster.agents:
        records = kinds_and_texts(transcript_of(demo, agent))
        assert records == expected(plan, agent.id)
        assert records[0][1].startswith(f"[C2A] Captain → {agent.id}\nTime to wrap up, {agent.id}.")
        assert records[2][1].startswith(f"[C2A] Captain → {agent.id} | ONBOARDING\nHi {agent.id}, welcome aboard!")
    assert "You are our captain in this swarm." in demo.messages(CAPTAIN)[1]


@pytest.mark.x11
def test_the_panel_onboards_a_checked_demo_agent_urgently(swarm, tmp_path, qtbot):
    from quarterdeck.core.session import Session
    from quarterdeck.gui.context import AppContext
    from quarterdeck.gui.onboarding.panel import OnboardingPanel

    demo, roster, _ = swarm
    session = Session.open(roster=roster, data_dir=tmp_path / "data", stagger=0.0)
    ctx = AppContext(session, roster_path=None)
    ctx.start()
    try:
        panel = OnboardingPanel(ctx)
        qtbot.addWidget(panel)
        panel.confirm = lambda title, text: True
        panel.model.set_checked(["Agent-3"])
        panel.style_combo.setCurrentIndex(panel.style_combo.findData("professional"))
        panel.urgent.setChecked(True)
        panel.start_button.click()
        qtbot.waitUntil(lambda: panel.model.progress.finished, timeout=20000)
        assert panel.summary.text() == "1 of 1 agent onboarded"
        entries = transcript_of(demo, roster.get("Agent-3"))
        records = kinds_and_texts(entries)
        assert records == expected(panel.plan, "Agent-3")
        assert records[2][1].split("\n")[1].startswith("Agent-3: you are assigned to this project as demo: tests.")
        assert [e.urgent for e in entries if e.kind == "message"] == [True, True]
        assert demo.entries("Agent-2") == []  # not checked: untouched
    finally:
        ctx.shutdown()
