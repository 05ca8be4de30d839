"""The roster's status follows the agent's own confirmation: when an agent's hook reports the prompt it
was given after the transport's verdict, the panel's watch service records the confirmation in the
outbox, and the agent's Status turns "confirmed by agent" (before, only the composer's row and the
history showed it; the roster kept "unverified")."""
from __future__ import annotations

import json
import subprocess
import sys

from gui_fixtures import dry_roster
from PySide6.QtCore import Qt

from quarterdeck.core.delivery.prefix import format_for_delivery
from quarterdeck.core.models import Message
from quarterdeck.gui.activity.watching import PanelWatching
from quarterdeck.gui.roster.model import STATUS, STATUS_KEY_ROLE
from quarterdeck.gui.roster.panel import RosterPanel


def status(panel: RosterPanel, agent_id: str) -> str:
    return panel.model.index(panel.model.row_of(agent_id), STATUS).data(STATUS_KEY_ROLE)


def hook_reports(data_dir, agent: str, prompt: str) -> None:
    """A real ``quarterdeck hook`` process records the agent's UserPromptSubmit event."""
    payload = {"session_id": "s1", "transcript_path": "/tmp/t.jsonl", "cwd": str(data_dir),
               "hook_event_name": "UserPromptSubmit", "prompt": prompt}
    done = subprocess.run([sys.executable, "-m", "quarterdeck", "hook", "--agent", agent, "--source", "claude-code",
                           "--data-dir", str(data_dir)], input=json.dumps(payload), capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr


def test_the_roster_shows_a_delivery_the_agents_hook_confirmed(make_ctx, qtbot) -> None:
    ctx = make_ctx(roster=dry_roster("Agent-1", "Agent-2"))
    panel = RosterPanel(ctx)
    qtbot.addWidget(panel)
    panel.show_table(True)
    watching = PanelWatching(ctx)  # as the panel runs it: the watch service on a thread of its own
    watching.start()
    try:
        assert watching.watching
        message = Message(sender="Captain", recipients=["Agent-1", "Agent-2"], content="Run the tests, then report.")
        ctx.session.submit(message)
        qtbot.waitUntil(lambda: status(panel, "Agent-1") == status(panel, "Agent-2") == "unverified", timeout=10_000)
        hook_reports(ctx.store.path.parent, "Agent-2", "something else entirely")  # matches nothing
        hook_reports(ctx.store.path.parent, "Agent-1", format_for_delivery(message, "Agent-1"))
        qtbot.waitUntil(lambda: status(panel, "Agent-1") == "confirmed_by_agent", timeout=10_000)
        text = panel.model.index(panel.model.row_of("Agent-1"), STATUS).data(Qt.ItemDataRole.DisplayRole)
        assert "confirmed" in text
        assert status(panel, "Agent-2") == "unverified"  # its hook said something else: nothing invented
    finally:
        watching.shutdown()
