"""`quarterdeck send / history / status / stop` against inbox agents and a real SQLite outbox."""
from __future__ import annotations

import json

import pytest

from quarterdeck.cli.main import main


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(
        "agents:\n"
        f"  - {{id: Agent-1, role: backend, transport: inbox, path: {tmp_path / 'in1'}}}\n"
        f"  - {{id: Agent-2, role: captain, transport: inbox, path: {tmp_path / 'in2'}}}\n"
        "  - {id: Agent-3, transport: dryrun, enabled: false}\n",
        encoding="utf-8")
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def inbox_text(folder) -> str:
    (file,) = folder.glob("*.md")
    return file.read_text(encoding="utf-8")


TEXT = "Line one: rebase on main\nline two: é 你好 🚀 $HOME `x` \"q\" 'q' \\ ; | & > <"


def test_broadcast_reaches_enabled_agents_byte_for_byte(roster, tmp_path, capsys):
    code, out, _ = run(capsys, "send", "--roster", str(roster), "--broadcast", "--stagger", "0",
                       "--captain-last", "-m", TEXT)
    assert code == 0, out
    lines = out.splitlines()
    assert [ln.split()[0] for ln in lines] == ["Agent-1", "Agent-2"]
    assert all("submitted" in ln and "written and fsynced" in ln for ln in lines)
    for folder, agent in ((tmp_path / "in1", "Agent-1"), (tmp_path / "in2", "Agent-2")):
        body = inbox_text(folder).split("---\n", 2)[2]
        assert body == f"[C2A] Captain → {agent} | BROADCAST\n{TEXT}"


def test_the_message_may_be_the_last_argument_as_a_person_types_it(roster, tmp_path, capsys, monkeypatch):
    code, out, err = run(capsys, "send", "--roster", str(roster), "-a", "Agent-1", "Please rebase on main")
    assert code == 0 and "submitted" in out, err
    assert inbox_text(tmp_path / "in1").endswith("\nPlease rebase on main")
    code, out, err = run(capsys, "validate", "All tests pass.")
    assert code == 0 and "PASS" in out, err
    code, _, err = run(capsys, "send", "--roster", str(roster), "-a", "Agent-2", "-m", "one", "two")
    assert (code, err.strip()) == (2, "quarterdeck: error: give the message once: as -m TEXT or as the last "
                                      "argument, not both")
    code, _, err = run(capsys, "send", "--roster", str(roster), "-a", "Agent-2")
    assert code == 2 and "give the message as the last argument or with -m TEXT" in err
    assert not (tmp_path / "in2").exists()  # neither went out


def test_several_agents_with_commas_or_repeated(roster, tmp_path, capsys):
    code, out, err = run(capsys, "send", "--roster", str(roster), "-a", "Agent-1, Agent-2", "--stagger", "0",
                         "Sync up")
    assert code == 0 and [ln.split()[0] for ln in out.splitlines()] == ["Agent-1", "Agent-2"], err
    code, out, err = run(capsys, "send", "--roster", str(roster), "-a", "Agent-1", "-a", "Agent-2,", "--stagger", "0",
                         "Again")
    assert code == 0 and [ln.split()[0] for ln in out.splitlines()] == ["Agent-1", "Agent-2"], err
    assert len(list((tmp_path / "in2").glob("*.md"))) == 2


def test_status_of_an_empty_outbox(roster, capsys):
    code, out, _ = run(capsys, "status", "--roster", str(roster))
    assert code == 0 and out.splitlines()[0] == "outbox: empty"


def test_history_status_and_json(roster, capsys):
    run(capsys, "send", "--roster", str(roster), "-a", "Agent-1", "--priority", "urgent", "-m", "ship it")
    code, out, _ = run(capsys, "history", "--agent", "Agent-1", "--json")
    data = json.loads(out)
    assert code == 0 and data["total"] == 1
    assert data["rows"][0]["state"] == "delivered" and data["rows"][0]["priority"] == "urgent"
    code, out, _ = run(capsys, "history", "--search", "ship")
    assert "1 of 1 deliveries" in out
    code, out, _ = run(capsys, "status", "--roster", str(roster))
    assert code == 0 and "delivered 1" in out and "Agent-2          no deliveries yet" in out


def test_refused_message_is_not_sent(roster, tmp_path, capsys):
    code, _, err = run(capsys, "send", "--roster", str(roster), "-a", "Agent-1", "-m", "   ")
    assert code == 2 and "fails the rules" in err
    assert not (tmp_path / "in1").exists()


def test_unknown_and_disabled_recipients(roster, capsys):
    code, _, err = run(capsys, "send", "--roster", str(roster), "-a", "Agent-9", "-m", "hi there")
    assert code == 2 and "Agent-9" in err
    code, _, err = run(capsys, "send", "--roster", str(roster), "-a", "Agent-3", "-m", "hi there")
    assert code == 2 and "disabled" in err


def test_failed_recipient_gives_nonzero_exit(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    roster = tmp_path / "agents.yaml"
    roster.write_text(f"agents:\n  - {{id: Agent-1, transport: inbox, path: {blocker / 'sub'}}}\n",
                      encoding="utf-8")
    code, out, _ = run(capsys, "send", "--roster", str(roster), "-a", "Agent-1", "--json", "-m", "hello")
    assert code == 1
    (result,) = json.loads(out)["results"]
    assert result["state"] == "failed" and result["detail"]


def test_dry_run_prints_and_records_nothing(roster, tmp_path, capsys):
    code, out, _ = run(capsys, "send", "--roster", str(roster), "-a", "Agent-1", "--dry-run", "-m", "preview me")
    assert code == 0
    assert "--- Agent-1 (inbox, not sent)\n[C2A] Captain → Agent-1\npreview me" in out
    assert not (tmp_path / "in1").exists()
    _, out, _ = run(capsys, "history")
    assert "0 of 0 deliveries" in out


def test_stop_cancels_queued_and_records_a_stop_all(roster, capsys):
    from quarterdeck.core.models import Message
    from quarterdeck.core.store import Store, default_db_path, search

    with Store(default_db_path()) as store:
        store.enqueue(Message(sender="Captain", recipients=["Agent-1"], content="later"),
                      [("Agent-1", "inbox")])
    code, out, _ = run(capsys, "stop")
    assert code == 0 and out.startswith("cancelled 1 queued deliveries; every Quarterdeck process")
    code, out, _ = run(capsys, "stop", "--json")
    assert code == 0 and json.loads(out) == {"cancelled": 0, "generation": 2}
    with Store(default_db_path()) as store:
        (row,) = search(store)
        assert (row.state, row.reason) == ("cancelled", "stopped: stop all")


def test_resume_records_a_resume_all_after_a_stop(roster, capsys):
    from quarterdeck.core.store import Store, default_db_path

    run(capsys, "stop")
    code, out, _ = run(capsys, "resume")
    assert code == 0 and out.startswith("resumed: every Quarterdeck process")
    code, out, _ = run(capsys, "resume", "--json")
    assert code == 0 and json.loads(out) == {"resumed": 2}
    with Store(default_db_path()) as store:
        mark = store.stop_mark()
        assert (mark.generation, mark.resumed, mark.resumed_since_stop) == (1, 2, True)
