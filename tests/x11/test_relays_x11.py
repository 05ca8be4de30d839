"""The panel across machines on a real display (issue 14), driven as a person drives it.

A real redis-server, two ``quarterdeck relay`` processes (M2: Agent-9 and Agent-10; M3: Agent-7 and
an Agent-3 that this machine has too) and the panel as its own process (``quarterdeck gui --roster
FILE --broker URL``). The roster shows every machine's agents with their machine, Agent-3 marked as
on two machines; a person clicks into the composer's pick field, types Agent-9, Enter, clicks into
the message box, types, clicks Send: the text lands in M2's inbox and the chip ends delivered.
Then M2 is killed (kill -9): within about 10 s its agents show "last seen N s ago" and offline.
Screenshots: QUARTERDECK_SCREENSHOTS (default artifacts/screenshots), relays-*.png.
"""
from __future__ import annotations

import time

import pytest
from probed_panel import (
    ROOT,
    ProbedPanel,
    centre,
    click,
    glob,
    key,
    needs,
    rerun_on_small_screen,
    roster_file,
    screen_size,
    shot,
    shots_folder,
    type_text,
)
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import RelayProcess, inbox_texts, write_roster


def relays_state(app, window):
    """(In the panel's process.) What the roster shows of each agent (machine, activity), the
    machines line, the health line, and where a person clicks."""
    from quarterdeck.gui.roster.model import ACTIVITY, AGENT_ID_ROLE, MACHINE, STATUS_KEY_ROLE

    roster, composer = window.panels["roster"], window.panels["composer"]
    model = roster.model
    rows = {}
    for row in range(model.rowCount()):
        rows[model.index(row, 0).data(AGENT_ID_ROLE)] = {
            "agent": model.index(row, 0).data(), "machine": model.index(row, MACHINE).data(),
            "activity": model.index(row, ACTIVITY).data(STATUS_KEY_ROLE)}
    table = roster.toolbar.widgetForAction(roster.actions_by_name["table"])
    health = window.findChild(type(roster.machines_bar.label), "status-health")
    return {"rows": rows, "machines": roster.machines_bar.label.text() if roster.machines_bar.isVisible() else "",
            "table_shown": roster.stack.currentWidget() is roster.table, "table_button": centre(table),
            "pick": centre(composer.recipients.pick_field), "selected": composer.recipients.selected(),
            "editor": centre(composer.editor), "send": centre(composer.send_button),
            "text": composer.editor.toPlainText(), "checked": not composer.check_timer.isActive(),
            "chips": [chip.text() for chip in composer.chips.chips],
            "health": health.text() if health is not None else "", "window": glob(window),
            "roster": glob(roster)}


@pytest.fixture
def relays(tmp_path, redis_server: RedisServer):
    made = {}
    for agent in ("Agent-9", "Agent-10", "Agent-7", "Agent-3"):
        (tmp_path / "remote" / agent).mkdir(parents=True)
    for name, agents in (("M2", ("Agent-9", "Agent-10")), ("M3", ("Agent-7", "Agent-3"))):
        roster = write_roster(tmp_path / f"{name}.yaml", [
            {"id": a, "transport": "inbox", "path": str(tmp_path / "remote" / a)} for a in agents])
        made[name] = RelayProcess(name, roster, redis_server.url, tmp_path / f"{name}-data",
                                  extra=("--stagger", "0")).start()
    yield made
    for process in made.values():
        process.close()


@pytest.mark.x11
@needs("xdotool", "import", "redis-server")
def test_the_panel_sends_to_a_relays_agent_and_shows_a_dead_relay_offline(tmp_path, redis_server: RedisServer,
                                                                         relays) -> None:
    size = screen_size()
    shots = shots_folder("QUARTERDECK_SCREENSHOTS", ROOT / "artifacts" / "screenshots")
    for agent in ("Agent-1", "Agent-2", "Agent-3"):
        (tmp_path / "local" / agent).mkdir(parents=True)
    roster = roster_file(tmp_path, [{"id": a, "transport": "inbox", "path": str(tmp_path / "local" / a)}
                                    for a in ("Agent-1", "Agent-2", "Agent-3")])
    argv = ["gui", "--roster", str(roster), "--broker", redis_server.url]
    with ProbedPanel(tmp_path / "home", [relays_state], argv, entry="quarterdeck.cli.main") as panel:
        state = panel.ready(lambda s: len(s.get("rows", {})) == 6, "every machine's agents in the roster",
                            settle=1.0)
        rows = state["rows"]
        assert {a: r["machine"] for a, r in rows.items() if a in ("Agent-9", "Agent-10", "Agent-7")} == \
            {"Agent-9": "M2", "Agent-10": "M2", "Agent-7": "M3"}
        assert rows["Agent-3"]["agent"] == "⚠ Agent-3" and rows["Agent-3"]["machine"].endswith(" + M3")
        assert "Agent-3 on two machines" in state["machines"]
        assert "2 relays up" in state["health"]
        if not state["table_shown"]:  # the tiles first (the default view): each names its machine
            shot(shots / f"relays-tiles-{size}.png", {"window": state["window"], "roster": state["roster"]})
            click(state["table_button"])
            panel.wait(lambda s: s["table_shown"], "the roster as a table, with its Machine column")
        click(panel.state()["pick"])
        type_text("Agent-9")
        key("Return")
        panel.wait(lambda s: s["selected"] == ["Agent-9"], "Agent-9 ticked from the pick field")
        click(panel.state()["editor"])
        type_text("Rebase on main, M2")
        typed = panel.wait(lambda s: s["text"] == "Rebase on main, M2" and s["checked"], "the message typed")
        click(typed["send"])
        inbox = tmp_path / "remote" / "Agent-9"
        deadline = time.monotonic() + 30
        while not any("Rebase on main, M2" in t for t in inbox_texts(inbox)):
            assert time.monotonic() < deadline, f"the message did not reach M2's inbox: {panel.state()}"
            time.sleep(0.1)
        sent = panel.wait(lambda s: s["chips"] and "·" in s["chips"][0] and "queued" not in s["chips"][0]
                          and "sending" not in s["chips"][0], "the chip's outcome", timeout=20)
        assert sent["chips"][0].startswith("Agent-9 · ") and "failed" not in sent["chips"][0], sent["chips"]
        assert inbox_texts(tmp_path / "local" / "Agent-1") == []
        shot(shots / f"relays-sent-{size}.png", {"window": sent["window"], "roster": sent["roster"]})
        relays["M2"].kill()  # kill -9: it announces nothing more
        killed = time.monotonic()
        gone = panel.wait(lambda s: s["rows"]["Agent-9"]["activity"] == "offline"
                          and "last seen" in s["rows"]["Agent-9"]["machine"], "M2's agents offline", timeout=25)
        # stale 10 s after its last heartbeat, which came up to 2 s before the kill; the panel reads
        # the relays every 2 s: offline between 8 and about 14 s after the kill (20 s for a slow machine)
        assert 7.5 <= time.monotonic() - killed <= 20.0
        gone = panel.wait(lambda s: "M2 last seen" in s["health"], "the status bar's health counting M2 out",
                          timeout=3)
        assert gone["rows"]["Agent-10"]["activity"] == "offline" and gone["rows"]["Agent-7"]["activity"] != "offline"
        assert "M2 last seen" in gone["machines"]
        shot(shots / f"relays-offline-{size}.png", {"window": gone["window"], "roster": gone["roster"]})


@pytest.mark.x11
def test_the_same_on_a_small_laptop_screen() -> None:
    rerun_on_small_screen(__file__, "test_the_panel_sends_to_a_relays_agent_and_shows_a_dead_relay_offline")
