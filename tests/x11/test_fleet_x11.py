"""The fleet view on a real display, driven as a person drives it: the panel runs as its own
process (``quarterdeck gui --roster FILE``), xdotool clicks tiles (plain, Ctrl, Ctrl+Shift),
clicks into the message box, types and clicks Send, and exactly the selected inbox agents
receive the message."""
from __future__ import annotations

from pathlib import Path

import pytest
from probed_panel import ROOT, ProbedPanel, click, glob, needs, roster_file, send_points, shot, shots_folder, type_text
from xterm_desk import wait_until

from quarterdeck.core.store import Store


def fleet_state(app, window):
    """(In the panel's process.) The roster, and where a person clicks: the tiles in view, the
    message box, Send; the typed text, whether its rule check ran (the checks' lines move Send), the window."""
    composer = window.panels["composer"]
    return {"agents": window.ctx.roster.ids(), "text": composer.editor.toPlainText(),
            "checked": not composer.check_timer.isActive(), "window": glob(window),
            **send_points(window, in_view=True)}


def finished(store: Store) -> dict[str, str] | None:
    """Each agent's delivery state once there are deliveries and none is queued or sending."""
    rows = dict(store.connection().execute("SELECT agent_id, state FROM deliveries").fetchall())
    return rows if rows and not {"queued", "sending"} & set(rows.values()) else None


def received(inbox: Path) -> list[str]:
    return sorted(p.read_text(encoding="utf-8") for p in inbox.glob("*.md")) if inbox.is_dir() else []


@pytest.mark.x11
@needs("xdotool", "import")
def test_clicked_tiles_are_the_recipients_of_the_next_send(tmp_path):
    for n in range(1, 11):
        (tmp_path / f"inbox/agent-{n}").mkdir(parents=True)
    roster = roster_file(tmp_path, [{"id": f"Agent-{n}", "transport": "inbox", "path": f"{tmp_path}/inbox/agent-{n}"}
                                    for n in range(1, 11)])
    with ProbedPanel(tmp_path / "home", [fleet_state, send_points], ["gui", "--roster", str(roster)],
                     entry="quarterdeck.cli.main") as panel:
        tiles = panel.ready(lambda s: len(s.get("agents", [])) == 10, "the panel with its roster",
                            settle=1.5)["tiles"]
        assert {f"Agent-{n}" for n in range(1, 11)} <= set(tiles), f"not every tile in view: {sorted(tiles)}"
        click(tiles["Agent-2"])
        click(tiles["Agent-5"], "ctrl")
        click(tiles["Agent-5"], "ctrl")  # Ctrl-click again: out
        click(tiles["Agent-8"], "ctrl")
        click(tiles["Agent-9"], "ctrl", "shift")  # from the last clicked tile to this one, in fleet order
        click(panel.state()["editor"])
        type_text("Fleet check: push your branch")
        typed = panel.wait(lambda s: s["text"] == "Fleet check: push your branch" and s["checked"],
                           "the typed text in the message box, checked")
        click(typed["send"])
        chosen = {2, 8, 9}  # three: no confirmation (that is asked above 3)
        # every delivery the send queued has finished: nothing else can arrive after this
        with Store(panel.home / "data" / "quarterdeck.sqlite3") as store:
            outcome = wait_until(lambda: finished(store), "the send's deliveries finished", timeout=20)
        assert outcome == {f"Agent-{n}": "delivered" for n in chosen}
        shot(shots_folder("QUARTERDECK_SCREENSHOTS", ROOT / "artifacts" / "screenshots") / "fleet-after-send.png",
             {"window": panel.state()["window"]})
        for n in range(1, 11):
            got = received(tmp_path / f"inbox/agent-{n}")
            if n in chosen:
                assert len(got) == 1 and "Fleet check: push your branch" in got[0], (n, got)
            else:
                assert got == [], (n, got)
