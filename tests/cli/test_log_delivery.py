"""log_delivery: one line per delivery outcome, its free-text fields redacted, marked redacted."""
from __future__ import annotations

import logging

from quarterdeck.cli import common
from quarterdeck.cli.common import log_delivery
from quarterdeck.core.dispatch.dispatcher import DeliveryEvent

KEY = "AKIA" + "QWERTYUIOPASDFGH"


def test_a_delivered_line_keeps_every_fact_and_redacts_the_free_text(caplog) -> None:
    with caplog.at_level(logging.DEBUG, logger="quarterdeck.deliveries"):
        log_delivery(DeliveryEvent(7, "m", "A1-2", "delivered", 1, "delivered by relay M1 after 1 attempt(s)", 0.0123,
                                   "submitted", "input read back (relay M1)"))
        log_delivery(DeliveryEvent(8, "m", "A1-2", "failed", 2, f"the pane said {KEY}", None, "not_typed", ""))
        log_delivery(DeliveryEvent(9, "m", "A1-2", "sending"))
    first, second, third = caplog.records
    assert first.getMessage() == ("delivery 7 to A1-2: delivered (attempt 1; 0.012 s; submitted; "
                                  "input read back (relay M1); delivered by relay M1 after 1 attempt(s))")
    assert (first.levelno, third.levelno) == (logging.INFO, logging.DEBUG)
    assert KEY not in second.getMessage() and "[REDACTED:" in second.getMessage()
    assert second.getMessage().startswith("delivery 8 to A1-2: failed (attempt 2; not_typed; the pane said ")
    assert third.getMessage() == "delivery 9 to A1-2: sending (-)"
    assert all(getattr(r, "secrets_redacted", False) for r in caplog.records)
    assert common._REDACTED[f"the pane said {KEY}"] == second.getMessage().split("not_typed; ")[1][:-1]


def test_nothing_is_formatted_when_the_level_is_off(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="quarterdeck.deliveries"):
        log_delivery(DeliveryEvent(1, "m", "A", "delivered", 1, f"secret {KEY} here"))
    assert caplog.records == [] and f"secret {KEY} here" not in common._REDACTED


def test_the_redacting_filter_passes_a_line_marked_redacted_and_still_redacts_the_rest() -> None:
    from quarterdeck.core.logsetup import RedactSecrets

    # a marked line is the caller's promise that its free text is redacted: it is not searched again
    # (here it holds a key only to show that; log_delivery never marks one that does)
    marked = logging.LogRecord("quarterdeck.deliveries", logging.INFO, __file__, 1, "line %s", (KEY,), None)
    marked.secrets_redacted = True
    plain = logging.LogRecord("quarterdeck", logging.INFO, __file__, 1, "key %s", (KEY,), None)
    assert RedactSecrets().filter(marked) and RedactSecrets().filter(plain)
    assert marked.getMessage() == f"line {KEY}"
    assert KEY not in plain.getMessage() and "[REDACTED:" in plain.getMessage()


def test_an_inbox_file_keeps_the_name_we_gave_it_and_its_folder_is_redacted_once(caplog, tmp_path) -> None:
    folder = tmp_path / f"inbox-{KEY}"
    names = [f"20261207T011230.00000{n}Z-normal-{n}f2a9c4e5d6b7a8c9d0e1f2a3b4c5d6e.md" for n in range(3)]
    with caplog.at_level(logging.INFO, logger="quarterdeck.deliveries"):
        for n, name in enumerate(names):
            log_delivery(DeliveryEvent(n, "m", "A", "delivered", 1, f"written to {folder}/{name}", 0.001,
                                       "submitted", "written and fsynced"))
    for record, name in zip(caplog.records, names, strict=True):
        line = record.getMessage()
        assert line.endswith(f"/{name})") and KEY not in line and "[REDACTED:" in line
    assert not any(name in text for text in common._REDACTED for name in names)
