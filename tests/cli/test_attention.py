"""`quarterdeck attention` and the activity in `quarterdeck agents list --json`, from recorded hook events."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from quarterdeck.cli.main import main
from quarterdeck.core.activity.events import ActivityEvent
from quarterdeck.core.activity.record import record
from quarterdeck.core.store import Store, default_db_path


def hear(data_dir: Path, agent: str, kind: str, name: str, ago: float, waits_for: str | None = None,
         text: str | None = None) -> None:
    event = ActivityEvent(agent_id=agent, source="claude-code", kind=kind, name=name, at=time.time() - ago,
                          waits_for=waits_for, text=text)
    assert record(data_dir, event)[0] == "stored"


def test_attention_lists_who_waits_longest_first(capsys):
    data = Path(os.environ["QUARTERDECK_DATA_DIR"])
    Store(default_db_path(data)).close()
    assert main(["attention"]) == 0
    assert capsys.readouterr().out == "no agent is waiting for you\n"
    hear(data, "Agent-2", "needs_you", "Notification", 30, "permission", "Claude needs your permission to use Bash")
    hear(data, "Agent-3", "needs_you", "Notification", 300, "notification", "Pick a database:\nA or B")
    hear(data, "Agent-1", "turn_ended", "Stop", 12)
    hear(data, "Agent-4", "needs_you", "PermissionRequest", 50, "permission")
    hear(data, "Agent-4", "tool_use", "PostToolUse", 40)  # answered
    assert main(["attention"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["AGENT", "WAITS", "FOR", "WAITING", "SIGNAL", "MESSAGE"]
    assert lines[1].startswith("Agent-3  notification  5 min ") and lines[1].endswith("Pick a database: A or B")
    assert "Notification hook 5 min ago" in lines[1]
    assert lines[2].startswith("Agent-2  permission    30 s ") and "Claude needs your permission" in lines[2]
    assert len(lines) == 3
    assert main(["attention", "--json", "--data-dir", str(data)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["agent"], r["waits_for"], round(r["seconds"] / 10)) for r in rows] == \
        [("Agent-3", "notification", 30), ("Agent-2", "permission", 3)]


def test_agents_list_json_carries_each_agents_activity(tmp_path, capsys):
    data = Path(os.environ["QUARTERDECK_DATA_DIR"])
    roster = tmp_path / "agents.yaml"
    roster.write_text("agents:\n  - {id: Agent-1, transport: dryrun}\n  - {id: Agent-2, transport: dryrun}\n")
    assert main(["agents", "list", "--json", "--roster", str(roster)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["activity"]["state"] for r in rows] == ["unknown", "unknown"]
    assert not default_db_path(data).exists()  # listing the roster created no database
    Store(default_db_path(data)).close()
    hear(data, "Agent-2", "prompt_submitted", "UserPromptSubmit", 8, text="Fix it")
    assert main(["agents", "list", "--json", "--roster", str(roster)]) == 0
    rows = json.loads(capsys.readouterr().out)
    activity = rows[1]["activity"]
    assert (activity["state"], activity["why"], activity["signal"]) == \
        ("working", "a prompt was submitted", "UserPromptSubmit hook 8 s ago")
    assert rows[0]["activity"]["why"] == "no hook event from this agent and no watcher report"
    default_db_path(data).write_bytes(b"this is not a database" * 100)
    assert main(["agents", "list", "--json", "--roster", str(roster)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["activity"]["state"] == "unknown"
    assert rows[0]["activity"]["why"].startswith("activity unreadable: ")
