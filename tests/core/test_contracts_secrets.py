"""A credential written into a contract never rests in the outbox file: the CLI is run for real with a
planted token in the title, the description and the completion note, then the SQLite file's bytes
(and its WAL) are searched for it."""
from __future__ import annotations

import json
import random
import string

import pytest

import quarterdeck.cli.main as cli_main
from quarterdeck.cli import contracts_cmd
from quarterdeck.cli.main import main
from quarterdeck.core.contracts import ContractStore
from quarterdeck.core.store import default_db_path


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    if contracts_cmd not in cli_main.COMMAND_MODULES:
        monkeypatch.setattr(cli_main, "COMMAND_MODULES", (*cli_main.COMMAND_MODULES, contracts_cmd))


def _token(prefix: str) -> str:
    rng = random.Random(prefix)
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(36))


def _file_bytes(data_dir) -> bytes:
    db = default_db_path(data_dir)
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_contract_with_tokens_is_stored_and_listed_redacted(tmp_path, capsys):
    data = tmp_path / "data"
    in_title, in_description, in_note = _token("ghp_"), _token("gho_"), _token("ghs_")
    code, out, err = run(capsys, "contracts", "create", f"Rotate {in_title} today", "--data-dir", str(data),
                         "--description", f"the old one is {in_description}\nthen redeploy")
    assert code == 0
    assert in_title not in out + err and in_description not in out + err
    assert out == "contract #1 open: Rotate [REDACTED:github_token] today (1 point), for whoever claims it\n"
    assert err.startswith("quarterdeck: contract #1 stored redacted: github_token in the title, "
                          "github_token in the description")
    run(capsys, "contracts", "claim", "1", "Agent-1", "--data-dir", str(data))
    code, out, err = run(capsys, "contracts", "complete", "1", "--note", f"used {in_note}", "--data-dir", str(data))
    assert code == 0 and in_note not in out + err and "github_token in the note" in err
    code, out, _ = run(capsys, "contracts", "list", "--data-dir", str(data))
    assert code == 0 and "[REDACTED:github_token]" in out
    code, out, _ = run(capsys, "contracts", "list", "--json", "--data-dir", str(data))
    listed = json.loads(out)[0]
    assert listed["description"] == "the old one is [REDACTED:github_token]\nthen redeploy"
    assert listed["note"] == "used [REDACTED:github_token]"
    stored = _file_bytes(data)
    assert b"then redeploy" in stored  # the file really is the one written
    for token in (in_title, in_description, in_note):
        assert token.encode() not in stored
        assert token[4:].encode() not in stored  # not even the key material without its prefix


def test_cancel_note_is_redacted_and_clean_text_is_untouched(tmp_path):
    token = _token("ghp_")
    with ContractStore(default_db_path(tmp_path)) as store:
        plain = store.create("Fix the login redirect", description="keep ?next= through OAuth")
        assert plain.redacted == () and plain.description == "keep ?next= through OAuth"
        cancelled = store.cancel(plain.id, f"token={token}")
        assert cancelled.note == "token=[REDACTED:github_token]"
        assert cancelled.redacted == ("github_token in the note",)
        assert store.get(plain.id).redacted == ()  # a read reports nothing: only the change that masked
    assert token.encode() not in _file_bytes(tmp_path)


def test_allow_secret_pragma_keeps_the_text_as_in_a_message(tmp_path):
    token = _token("ghp_")
    with ContractStore(default_db_path(tmp_path)) as store:
        created = store.create("Docs", description=f"example: {token}  # quarterdeck:allow-secret")
    assert created.redacted == () and token in created.description


def test_tokens_an_earlier_version_stored_in_the_clear_are_masked_once_on_open(tmp_path):
    import sqlite3

    token, note_token = _token("ghp_"), _token("glpat-")
    path = default_db_path(tmp_path)
    with ContractStore(path) as store:
        store.create("placeholder")
    conn = sqlite3.connect(path)  # what an earlier Quarterdeck left behind: the raw text, and no scrub mark
    with conn:
        conn.execute("DROP TABLE contracts_scrubbed")
        conn.execute("UPDATE contracts SET title = ?, description = ?, note = ? WHERE id = 1",
                     (f"Rotate {token}", "plain words", f"done with {note_token}"))
    conn.close()
    assert token.encode() in _file_bytes(tmp_path)
    with ContractStore(path) as store:
        found = store.get(1)
        assert found.title == "Rotate [REDACTED:github_token]" and found.description == "plain words"
        assert found.note == "done with [REDACTED:gitlab_token]"
    stored = _file_bytes(tmp_path)
    assert token.encode() not in stored and note_token.encode() not in stored
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM contracts_scrubbed").fetchone()[0] == 1  # done once
    finally:
        conn.close()
