"""The outbox's sending path (the outbox, the relayed deliveries' claims) loads no history row type: the
mapping builds those where the history asks for them."""
from __future__ import annotations

import subprocess
import sys


def test_the_outbox_and_the_forwarding_load_no_history_row_type_until_the_history_is_read():
    probe = ("import sys\nimport quarterdeck.core.store.outbox, quarterdeck.core.store.forwarding\n"
             "print('quarterdeck.core.store.history_rows' in sys.modules)\n"
             "import tempfile, pathlib\nfrom quarterdeck.core.store import history\n"
             "s = quarterdeck.core.store.outbox.Store(pathlib.Path(tempfile.mkdtemp()) / 'q.sqlite3')\n"
             "from quarterdeck.core.models import Message\n"
             "s.enqueue(Message(sender='Captain', content='hello', recipients=['A1']), [('A1', 'tmux')])\n"
             "print(type(history.search(s)[0]).__name__)\n"
             "print('quarterdeck.core.store.history_rows' in sys.modules)\ns.close()")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["False", "HistoryRow", "True"], done.stderr
