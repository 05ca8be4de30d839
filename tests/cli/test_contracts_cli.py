"""`quarterdeck contracts ...` end to end: real SQLite in the isolated data dir, inbox agents for
`send`, the rules and the history on the way."""
from __future__ import annotations

import json

import pytest

import quarterdeck.cli.main as cli_main
from quarterdeck.cli import contracts_cmd
from quarterdeck.cli.main import main


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    """Until cli/main.py lists the contracts commands, the tests add them the way it does."""
    if contracts_cmd not in cli_main.COMMAND_MODULES:
        monkeypatch.setattr(cli_main, "COMMAND_MODULES", (*cli_main.COMMAND_MODULES, contracts_cmd))


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(
        "agents:\n"
        f"  - {{id: Agent-1, role: backend, transport: inbox, path: {tmp_path / 'in1'}}}\n"
        f"  - {{id: Agent-2, transport: inbox, path: {tmp_path / 'in2'}}}\n"
        "  - {id: Agent-3, transport: dryrun, enabled: false}\n", encoding="utf-8")
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_create_list_and_the_life_of_a_contract(capsys):
    code, out, _ = run(capsys, "contracts", "list")
    assert code == 0 and out == "no contracts yet: quarterdeck contracts create TITLE\n"
    code, out, _ = run(capsys, "contracts", "create", "Fix the login redirect", "--points", "3",
                       "--description", "keep ?next=")
    assert code == 0 and out == "contract #1 open: Fix the login redirect (3 points), for whoever claims it\n"
    run(capsys, "contracts", "create", "Write docs", "--assign", "Agent-2")
    code, out, _ = run(capsys, "contracts", "claim", "#1", "Agent-1")
    assert out == "contract #1 claimed: Fix the login redirect (3 points), claimed by Agent-1\n"
    code, out, _ = run(capsys, "contracts", "complete", "1", "--note", "merged")
    assert code == 0 and out == "contract #1 done: Fix the login redirect (3 points), by Agent-1\n  note: merged\n"
    code, out, _ = run(capsys, "contracts", "list")
    assert out.splitlines() == [
        "ID  STATE  POINTS  AGENT    TITLE",
        "#1  done        3  Agent-1  Fix the login redirect",
        "#2  open        1  Agent-2  Write docs",
        "2 contract(s), 4 points",
    ]
    code, out, _ = run(capsys, "contracts", "list", "--state", "done", "--agent", "Agent-2")
    assert out == "no contracts match\n"


def test_json_output(capsys):
    created = as_json(capsys, "contracts", "create", "T", "--points", "2")
    assert created["id"] == 1 and created["state"] == "open" and created["points"] == 2
    as_json(capsys, "contracts", "create", "U", "--assign", "Agent-9")  # no roster file: any agent id goes
    listed = as_json(capsys, "contracts", "list", "--state", "active", "--agent", "Agent-9")
    assert [c["title"] for c in listed] == ["U"]
    assert as_json(capsys, "contracts", "points", "1", "5")["points"] == 5
    assert as_json(capsys, "contracts", "status") == [
        {"agent": "Agent-9", "open": 1, "claimed": 0, "done": 0, "points_done": 0, "points_pending": 1},
        {"agent": None, "open": 1, "claimed": 0, "done": 0, "points_done": 0, "points_pending": 5},
    ]


def test_status_table(capsys):
    code, out, _ = run(capsys, "contracts", "status")
    assert code == 0 and out == "no contracts yet\n"
    for argv in (("create", "a", "--points", "3"), ("claim", "1", "Agent-1"), ("complete", "1"),
                 ("create", "b", "--points", "2"), ("claim", "2", "Agent-1"), ("create", "c")):
        assert run(capsys, "contracts", *argv)[0] == 0
    code, out, _ = run(capsys, "contracts", "status")
    assert out.splitlines() == [
        "AGENT         OPEN  CLAIMED  DONE  POINTS DONE  POINTS TO DO",
        "Agent-1          0        1     1            3             2",
        "(unassigned)     1        0     0            0             1",
    ]


def test_a_lost_claim_exits_1_and_names_the_winner(capsys):
    run(capsys, "contracts", "create", "race")
    assert run(capsys, "contracts", "claim", "1", "Agent-1")[0] == 0
    code, out, err = run(capsys, "contracts", "claim", "1", "Agent-2")
    assert (code, out) == (1, "") and err == "quarterdeck: contract #1 is already claimed by Agent-1\n"
    code, _, err = run(capsys, "contracts", "cancel", "1", "--note", "not needed")
    assert code == 0
    code, _, err = run(capsys, "contracts", "complete", "1")
    assert code == 1 and "is cancelled (was assigned to Agent-1): cannot complete it" in err


def test_mistakes_exit_2(capsys):
    code, _, err = run(capsys, "contracts", "claim", "4", "Agent-1")
    assert code == 2 and err == "quarterdeck: error: there is no contract #4\n"
    code, _, err = run(capsys, "contracts", "create", "   ")
    assert code == 2 and "title that is not blank" in err
    code, _, err = run(capsys, "contracts", "create", "t", "--assign", "not an id")
    assert code == 2 and "is not an agent id" in err
    with pytest.raises(SystemExit) as stopped:
        main(["contracts", "claim", "seven", "Agent-1"])
    assert stopped.value.code == 2 and "'seven' is not a contract number" in capsys.readouterr().err


def test_agent_names_are_checked_against_the_roster(roster, capsys):
    code, _, err = run(capsys, "contracts", "create", "t", "--assign", "Agent-7", "--roster", str(roster))
    assert code == 2 and "'Agent-7' is not on the roster (Agent-1, Agent-2, Agent-3)" in err
    assert run(capsys, "contracts", "create", "t", "--assign", "Agent-1", "--roster", str(roster))[0] == 0
    code, out, _ = run(capsys, "contracts", "assign", "1", "-", "--roster", str(roster))
    assert code == 0 and out.endswith("for whoever claims it\n")
    code, _, err = run(capsys, "contracts", "claim", "1", "Agent-7", "--roster", str(roster))
    assert code == 2 and "not on the roster" in err


def inbox_text(folder) -> str:
    (file,) = folder.glob("*.md")
    return file.read_text(encoding="utf-8")


def test_send_delivers_through_the_outbox_and_is_in_the_history(roster, tmp_path, capsys):
    run(capsys, "contracts", "create", "Fix the login redirect", "--points", "3", "--description",
        "Keep ?next= through OAuth.", "--assign", "Agent-1", "--roster", str(roster))
    code, out, err = run(capsys, "contracts", "send", "1", "--roster", str(roster))
    assert code == 0, err
    assert out.splitlines()[0].split()[:2] == ["Agent-1", "submitted"]
    assert out.splitlines()[-1] == "contract #1 delivered to Agent-1"
    body = inbox_text(tmp_path / "in1")
    assert "Contract #1: Fix the login redirect (3 points)\nKeep ?next= through OAuth.\n" in body
    assert "quarterdeck contracts claim 1 Agent-1" in body
    history = as_json(capsys, "history", "--agent", "Agent-1")
    assert history["total"] == 1 and history["rows"][0]["state"] == "delivered"
    assert "Contract #1: Fix the login redirect" in history["rows"][0]["content"]
    (contract,) = as_json(capsys, "contracts", "list")
    assert contract["sent_message_id"] == history["rows"][0]["message_id"] and contract["sent_at"]


def test_send_json_and_what_cannot_be_sent(roster, capsys):
    for argv in (("create", "a", "--assign", "Agent-2"), ("create", "b"), ("create", "c", "--assign", "Agent-3"),
                 ("create", "d", "--assign", "Agent-1")):
        run(capsys, "contracts", *argv, "--roster", str(roster))
    sent = as_json(capsys, "contracts", "send", "1", "--roster", str(roster))
    assert sent["contract"] == 1 and [r["state"] for r in sent["results"]] == ["delivered"]
    code, _, err = run(capsys, "contracts", "send", "2", "--roster", str(roster))
    assert code == 2 and "not assigned to anyone" in err
    code, _, err = run(capsys, "contracts", "send", "3", "--roster", str(roster))
    assert code == 2 and "'Agent-3' is disabled" in err
    run(capsys, "contracts", "cancel", "4")
    code, _, err = run(capsys, "contracts", "send", "4", "--roster", str(roster))
    assert code == 1 and "there is nothing to send" in err


def test_send_refused_by_the_rules_is_not_stored(roster, tmp_path, capsys):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "short.yaml").write_text(
        "version: 1\nrules:\n  short:\n    description: Keep it short.\n    severity: error\n"
        "    given: content\n    then:\n      function: length\n      functionOptions: {max: 20}\n",
        encoding="utf-8")
    config = tmp_path / "coordination.yaml"
    config.write_text(f"validation_rules_path: {rules}\n", encoding="utf-8")
    run(capsys, "contracts", "create", "a long enough title", "--assign", "Agent-1")
    code, _, err = run(capsys, "--config", str(config), "contracts", "send", "1", "--roster", str(roster))
    assert code == 2 and "error   short:" in err and "fails the rules (short)" in err
    assert not (tmp_path / "in1").exists()
    assert as_json(capsys, "history")["total"] == 0
    (contract,) = as_json(capsys, "contracts", "list")
    assert contract["sent_at"] is None


def test_a_failed_send_exits_1_and_is_not_marked_sent(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    roster = tmp_path / "agents.yaml"
    roster.write_text(f"agents:\n  - {{id: Agent-1, transport: inbox, path: {blocker / 'in'}}}\n",
                      encoding="utf-8")
    config = tmp_path / "coordination.yaml"
    config.write_text("max_retries: 0\nbase_delay: 0\n", encoding="utf-8")
    run(capsys, "contracts", "create", "t", "--assign", "Agent-1")
    code, out, _ = run(capsys, "--config", str(config), "contracts", "send", "1", "--roster", str(roster))
    assert code == 1 and "failed" in out and "delivered to" not in out
    (contract,) = as_json(capsys, "contracts", "list")
    assert contract["sent_at"] is None
