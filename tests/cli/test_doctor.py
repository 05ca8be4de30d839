"""`quarterdeck doctor`: the integrity check, and a repair that keeps what can be read of a damaged
outbox (a wrecked header, a wrecked page in the middle) and sets the broken file aside."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from quarterdeck.cli.common import EXIT_STORAGE
from quarterdeck.cli.main import main
from quarterdeck.core.models import Message
from quarterdeck.core.store import Store, default_db_path, owner

ROWS = 300


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def outbox(tmp_path) -> Path:
    """An outbox with ROWS messages (each marked ``marker-NNNN-``) and one contract."""
    data = tmp_path / "data"
    with Store(default_db_path(data)) as store:
        for n in range(ROWS):
            message = Message(sender="Captain", recipients=["Agent-1"],
                              content=f"marker-{n:04d}- " + "words to fill the page " * 20)
            store.enqueue(message, [("Agent-1", "inbox")])
    assert main(["contracts", "create", "Keep the build green", "--data-dir", str(data)]) == 0
    return data


def contents(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0][:11] for row in conn.execute("SELECT content FROM messages ORDER BY seq")]
    finally:
        conn.close()


def wreck_page_holding(path: Path, needle: bytes) -> None:
    raw = bytearray(path.read_bytes())
    page = int.from_bytes(raw[16:18], "big")
    at = raw.index(needle) // page * page
    raw[at:at + 16] = b"\xff" * 16  # the b-tree page header: no valid page type
    path.write_bytes(bytes(raw))


def test_a_sound_outbox_is_ok(outbox, capsys):
    code, out, _ = run(capsys, "doctor", "--data-dir", str(outbox))
    assert code == 0 and out.splitlines() == [f"{outbox / 'quarterdeck.sqlite3'}: ok"]


def test_a_wrecked_header_is_repaired_without_losing_a_row(outbox, capsys):
    db = outbox / "quarterdeck.sqlite3"
    raw = bytearray(db.read_bytes())
    raw[:100] = b"\x00garbage" * 12 + b"\x00" * 4
    db.write_bytes(bytes(raw))
    code, _, err = run(capsys, "history", "--data-dir", str(outbox))
    assert code == EXIT_STORAGE["corrupt"] and "doctor --repair" in err
    code, out, err = run(capsys, "doctor", "--data-dir", str(outbox))
    assert code == 1 and "damaged: not a database file" in out and "doctor --repair" in err
    code, out, _ = run(capsys, "doctor", "--repair", "--data-dir", str(outbox))
    assert code == 0, out
    assert f"messages: {ROWS} rows kept" in out and "contracts: 1 rows kept" in out
    assert "the file's header was damaged and was replaced" in out
    (aside,) = outbox.glob("quarterdeck.broken-*.sqlite3")
    assert aside.read_bytes()[:8] == b"\x00garbage"  # the broken file, kept as it was
    code, out, _ = run(capsys, "history", "--json", "--search", "marker-0123-", "--data-dir", str(outbox))
    assert code == 0 and json.loads(out)["total"] == 1  # the search index was rebuilt too
    code, out, _ = run(capsys, "contracts", "list", "--data-dir", str(outbox))
    assert code == 0 and "Keep the build green" in out


def test_a_wrecked_page_loses_only_its_rows(outbox, capsys):
    db = outbox / "quarterdeck.sqlite3"
    wreck_page_holding(db, b"marker-0150-")
    code, out, _ = run(capsys, "doctor", "--data-dir", str(outbox))
    assert code == 1 and "damaged" in out
    code, out, _ = run(capsys, "doctor", "--repair", "--json", "--data-dir", str(outbox))
    report = json.loads(out)["files"][0]
    assert code == 0 and report["repaired"] and report["ok_after"]
    kept = contents(db)
    assert 0 < report["kept"]["messages"] == len(kept) < ROWS
    assert "marker-0150" not in kept and {"marker-0000", "marker-0299"} <= set(kept)  # before and after
    assert "some rows were unreadable and skipped" in report["lost"]["messages"]
    with Store(db) as store:  # the rebuilt file is a working outbox
        store.enqueue(Message(sender="Captain", recipients=["Agent-1"], content="after the repair"),
                      [("Agent-1", "inbox")])


def test_repair_refuses_while_the_outbox_is_open(outbox, capsys):
    db = outbox / "quarterdeck.sqlite3"
    wreck_page_holding(db, b"marker-0010-")
    lease = owner.Lease(db)  # held as a running panel holds it
    try:
        code, _, err = run(capsys, "doctor", "--repair", "--data-dir", str(outbox))
    finally:
        lease.release()
    assert code == 2 and "is open in another Quarterdeck process" in err
    assert not list(outbox.glob("*.broken-*"))


def test_nothing_to_check(tmp_path, capsys):
    code, out, _ = run(capsys, "doctor", "--data-dir", str(tmp_path / "empty"))
    assert code == 0 and "nothing to check" in out


@pytest.fixture
def relay_data(tmp_path) -> Path:
    """A relay's data folder: its outbox and its ledger, with one receipt waiting for the broker."""
    from quarterdeck.core.relay.ledger import Ledger
    from quarterdeck.core.relay.protocol import Receipt

    data = tmp_path / "relay data"  # a space: the advice quotes the folder
    with Store(default_db_path(data)):
        pass
    ledger = Ledger(data)
    ledger.record(7, "m-1", "Agent-1")
    assert ledger.add_receipt(Receipt("R1", 7, "Agent-1", "delivered", verdict="submitted", at=1.0), final=True)
    ledger.close()
    return data


def test_a_relay_ledger_is_checked_and_a_wrecked_one_repaired(relay_data, capsys):
    from quarterdeck.core.relay.ledger import Ledger

    ledger_file = relay_data / "relay.sqlite"
    code, out, _ = run(capsys, "doctor", "--data-dir", str(relay_data))
    assert code == 0 and f"{ledger_file}: ok" in out.splitlines()
    raw = bytearray(ledger_file.read_bytes())
    raw[:100] = b"\x00garbage" * 12 + b"\x00" * 4
    ledger_file.write_bytes(bytes(raw))
    with pytest.raises(sqlite3.Error) as opened:  # a relay starting on it: the file named, the folder's doctor
        Ledger(relay_data)
    assert str(opened.value).startswith(f"{ledger_file} is damaged (SQLite: file is not a database): run "
                                        f"'quarterdeck doctor --repair --data-dir \"{relay_data}\"'")
    code, out, err = run(capsys, "doctor", "--data-dir", str(relay_data))
    assert code == 1 and f"{ledger_file}: damaged: not a database file" in out
    assert f"'quarterdeck doctor --repair --data-dir \"{relay_data}\"'" in err
    code, out, _ = run(capsys, "doctor", "--repair", "--data-dir", str(relay_data))
    assert code == 0 and "relayed_deliveries: 1 rows kept" in out and "unpublished: 1 rows kept" in out, out
    (aside,) = relay_data.glob("relay.broken-*.sqlite")
    assert aside.read_bytes()[:8] == b"\x00garbage"
    ledger = Ledger(relay_data)
    try:
        assert ledger.unpublished_count() == 1  # the receipt still goes to the captain
    finally:
        ledger.close()


def test_a_relay_ledger_is_not_repaired_while_its_relay_runs(relay_data, capsys):
    ledger_file = relay_data / "relay.sqlite"
    wreck = bytearray(ledger_file.read_bytes())
    wreck[:16] = b"\x00" * 16
    ledger_file.write_bytes(bytes(wreck))
    lease = owner.Lease(relay_data / "quarterdeck.sqlite3")  # held as a running relay holds its outbox's
    try:
        code, _, err = run(capsys, "doctor", "--repair", "--data-dir", str(relay_data))
    finally:
        lease.release()
    assert code == 2 and f"{ledger_file} is open in another Quarterdeck process" in err
    assert not list(relay_data.glob("*.broken-*"))
