"""`quarterdeck deadletter replay` when the entry that failed again was purged meanwhile (by another
process, here by the handler itself): one line saying so, not an internal error."""
from __future__ import annotations

import sys
import textwrap
import uuid

from quarterdeck.cli.main import main
from quarterdeck.core.integration import DeadLetterStore
from quarterdeck.core.integration.defaults import DEAD_LETTER_FILE

APP = '''
import os

from quarterdeck.core.integration import CoordinationEventProcessor, DeadLetterStore
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.resilience import BreakerRegistry

processor = CoordinationEventProcessor(monitor=Monitor(), breakers=BreakerRegistry(),
                                       error_config={"max_retries": 0})


@processor.handler("user.created")
def created(payload):
    with DeadLetterStore(os.environ["DEAD_LETTERS"]) as other:  # another process purges everything
        other.purge()
    raise ConnectionError("the directory is still down")
'''


def test_a_failed_replay_of_an_entry_purged_meanwhile_is_one_line(tmp_path, monkeypatch, capsys):
    name = f"evtgone_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "data" / DEAD_LETTER_FILE
    monkeypatch.setenv("DEAD_LETTERS", str(path))
    with DeadLetterStore(path) as store:
        store.add("user.created", {"user_id": 1}, reason="failed", error="ConnectionError: down", attempts=1)
    try:
        code = main(["deadletter", "replay", "1", "--processor", f"{name}:processor",
                     "--data-dir", str(tmp_path / "data")])
    finally:
        sys.modules.pop(name, None)
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "#1 user.created: failed again (failed): the entry is gone" in out
    assert "0 replayed, 1 failed again" in out and "internal error" not in err
