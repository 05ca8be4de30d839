"""A token typed into the Contracts panel's dialogs is stored redacted, and the panel says so."""
from __future__ import annotations

import random
import string

from test_contracts_panel import _confirm, _panel, _select, other  # noqa: F401 - fixtures, used by name

from quarterdeck.core.store import default_db_path


def _token() -> str:
    rng = random.Random(11)
    return "ghp_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(36))


def _file_bytes(tmp_path) -> bytes:
    db = default_db_path(tmp_path / "data")
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())


def test_a_token_in_the_new_contract_dialog_is_stored_redacted_and_the_panel_says_so(make_ctx, qtbot, other,
                                                                                     tmp_path):
    token = _token()
    panel = _panel(make_ctx(start=False), qtbot)
    panel.buttons["create"].click()
    dialog = panel.changes.dialog
    dialog.title_edit.setText("Rotate the deploy token")
    dialog.description_edit.setPlainText(f"The old one is {token}; revoke it after.")
    _confirm(panel, qtbot, dialog)
    qtbot.waitUntil(lambda: panel.model.records() != [])
    assert other.get(1).description == "The old one is [REDACTED:github_token]; revoke it after."
    text = panel.outcome_label.text()
    assert text.startswith("Contract #1 created: Rotate the deploy token · stored redacted: github_token in the "
                           "description")
    assert "give the agent that credential another way" in text and token not in text
    _select(panel, 1)
    assert token.encode() not in _file_bytes(tmp_path)
