"""`quarterdeck onboard` against inbox agents and a real SQLite outbox: what lands in each inbox,
in what order, and what is refused before anything is queued."""
from __future__ import annotations

import json

import pytest

import quarterdeck.cli.main
from quarterdeck.cli import onboard_cmd
from quarterdeck.cli.main import main
from quarterdeck.core.transports.inbox import parse_message


@pytest.fixture(autouse=True)
def _onboard_registered(monkeypatch):
    """The command as quarterdeck.cli.main will list it (a no-op once it is registered there)."""
    if onboard_cmd not in quarterdeck.cli.main.COMMAND_MODULES:
        monkeypatch.setattr(quarterdeck.cli.main, "COMMAND_MODULES",
                            (*quarterdeck.cli.main.COMMAND_MODULES, onboard_cmd))


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(
        "agents:\n"
        f"  - {{id: Agent-1, role: captain, transport: inbox, path: {tmp_path / 'in1'}}}\n"
        f"  - {{id: Agent-2, role: backend, transport: inbox, path: {tmp_path / 'in2'}}}\n"
        "  - {id: Agent-3, role: docs, transport: dryrun}\n"
        "  - {id: Agent-4, transport: dryrun, enabled: false}\n",
        encoding="utf-8")
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def inbox(folder) -> list[tuple[dict, str]]:
    """The inbox's messages in arrival order (file names sort by arrival time)."""
    return [parse_message(p.read_bytes()) for p in sorted(folder.glob("*.md"))]


def test_all_agents_get_wrapup_then_onboarding_captain_last(roster, tmp_path, capsys):
    code, out, err = run(capsys, "onboard", "--all", "--roster", str(roster), "--stagger", "0")
    assert code == 0, out + err
    lines = out.splitlines()
    assert [ln.split()[:3] for ln in lines[:-1]] == [
        ["Agent-2", "wrap-up", "submitted"], ["Agent-2", "onboarding", "submitted"],
        ["Agent-3", "wrap-up", "unverified"], ["Agent-3", "onboarding", "unverified"],
        ["Agent-1", "wrap-up", "submitted"], ["Agent-1", "onboarding", "submitted"]]
    assert lines[-1] == "3 of 3 agents onboarded"
    (w_head, wrapup), (o_head, onboarding) = inbox(tmp_path / "in2")
    assert (w_head["type"], o_head["type"]) == ("message", "onboarding")
    assert wrapup.startswith("[C2A] Captain → Agent-2\nTime to wrap up, Agent-2.\n")
    assert onboarding.startswith("[C2A] Captain → Agent-2 | ONBOARDING\nHi Agent-2, welcome aboard! "
                                 "You are our backend in this swarm.\n")
    assert "Agent-Agent" not in wrapup + onboarding
    [_, (_, captain)] = inbox(tmp_path / "in1")
    assert "You are our captain in this swarm." in captain


def test_named_agents_professional_urgent_json(roster, tmp_path, capsys):
    code, out, _ = run(capsys, "onboard", "Agent-1", "Agent-2", "--style", "professional", "--urgent",
                       "--json", "--roster", str(roster), "--stagger", "0")
    assert code == 0, out
    data = json.loads(out)
    assert data["ok"] is True and data["priority"] == "urgent"
    assert [a["agent"] for a in data["agents"]] == ["Agent-2", "Agent-1"]
    assert {a[s]["state"] for a in data["agents"] for s in ("wrap-up", "onboarding")} == {"delivered"}
    messages = inbox(tmp_path / "in2")
    assert [h["priority"] for h, _ in messages] == ["urgent", "urgent"]
    assert messages[1][1].split("\n")[1] == (
        "Agent-2: you are assigned to this project as backend. This chat replaces your previous one.")


def test_dry_run_prints_both_texts_and_sends_nothing(roster, tmp_path, capsys):
    code, out, _ = run(capsys, "onboard", "--all", "--dry-run", "--roster", str(roster))
    assert code == 0
    assert out.startswith("Onboarding Agent-2, Agent-3, Agent-1 (friendly, normal priority; captains last)")
    assert "=== Agent-3 (docs, dryrun; not sent)" in out
    assert "--- 1. wrap-up, to the current chat\n[C2A] Captain → Agent-1\nTime to wrap up, Agent-1." in out
    assert "note: Agent-1 (inbox) has no new-chat keys" in out
    assert not (tmp_path / "in1").exists() and not (tmp_path / "in2").exists()
    code, out, _ = run(capsys, "onboard", "Agent-3", "--dry-run", "--json", "--roster", str(roster))
    data = json.loads(out)
    assert data["dry_run"] is True
    assert data["agents"][0]["onboarding"].startswith("[C2A] Captain → Agent-3 | ONBOARDING")
    code, out, _ = run(capsys, "status", "--roster", str(roster))
    assert out.splitlines()[0] == "outbox: empty"


def test_unknown_placeholder_names_file_line_column_and_queues_nothing(roster, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "onboarding-friendly.md").write_text("Hello {agent_id}!\n\nRole: {rolle}\n", encoding="utf-8")
    code, _, err = run(capsys, "onboard", "--all", "--templates", str(mine), "--roster", str(roster))
    assert code == 2
    assert f"{mine / 'onboarding-friendly.md'}:3:7: unknown placeholder {{rolle}}" in err
    assert "Nothing was queued." in err
    assert not (tmp_path / "in1").exists() and not (tmp_path / "in2").exists()
    code, out, _ = run(capsys, "status", "--roster", str(roster))
    assert out.splitlines()[0] == "outbox: empty"


def test_user_template_without_doubled_prefix(roster, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "wrap-up.md").write_text("Agent-{agent_id}, wrap up please.\n", encoding="utf-8")
    code, _, _ = run(capsys, "onboard", "Agent-2", "--templates", str(mine), "--roster", str(roster))
    assert code == 0
    assert inbox(tmp_path / "in2")[0][1] == "[C2A] Captain → Agent-2\nAgent-2, wrap up please."


def test_usage_errors(roster, capsys):
    code, _, err = run(capsys, "onboard", "--roster", str(roster))
    assert code == 2 and "name the agents to onboard, or give --all" in err
    code, _, err = run(capsys, "onboard", "Agent-1", "--all", "--roster", str(roster))
    assert code == 2 and "not both" in err
    code, _, err = run(capsys, "onboard", "Agent-4", "--roster", str(roster))
    assert code == 2 and "'Agent-4' is disabled" in err


def test_a_failed_wrapup_keeps_the_old_chat_and_exits_nonzero(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    path = tmp_path / "agents.yaml"
    path.write_text("agents:\n"
                    f"  - {{id: Agent-1, transport: inbox, path: {blocker / 'in'}}}\n"
                    f"  - {{id: Agent-2, transport: inbox, path: {tmp_path / 'in2'}}}\n", encoding="utf-8")
    code, out, _ = run(capsys, "onboard", "--all", "--roster", str(path), "--stagger", "0")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["Agent-1", "wrap-up", "failed"]
    assert lines[1].split()[:3] == ["Agent-1", "onboarding", "cancelled"]
    assert "not sent, its wrap-up failed" in lines[1]
    assert lines[-1] == "1 of 2 agents onboarded, 1 not"
    assert len(inbox(tmp_path / "in2")) == 2
