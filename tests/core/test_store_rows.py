"""The store's row types: the history's (core/store/history_rows.py) are still named from
``quarterdeck.core.store.rows`` and the package, and loaded only when first asked for, so a module that
builds none of them (the outbox's sending path) need not pay for their classes."""
from __future__ import annotations

import subprocess
import sys

import pytest

from quarterdeck.core import store
from quarterdeck.core.store import history_rows, rows, verdicts

HISTORY = ("AttemptRow", "DeliveryDetail", "HistoryRow", "MessageDetail", "StoredMessage")


@pytest.mark.parametrize("name", HISTORY)
def test_the_history_s_row_types_are_named_from_rows_and_the_package(name):
    assert getattr(rows, name) is getattr(history_rows, name) is getattr(store, name)


def test_rows_still_names_what_a_verdict_says():
    assert rows.outcome is verdicts.outcome and rows.Verdicted is verdicts.Verdicted
    assert issubclass(rows.DeliveryRow, verdicts.Verdicted) and issubclass(history_rows.HistoryRow, verdicts.Verdicted)
    assert rows.outcome("delivered", "confirmed_by_agent") == rows.CONFIRMED_LABEL


def test_a_name_rows_does_not_have_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'HistoryRows'"):
        rows.HistoryRows  # noqa: B018


def test_rows_alone_loads_no_history_row_type():
    probe = ("import sys\nimport quarterdeck.core.store.rows as rows\nrows.DeliveryRow, rows.StopMark, rows.State\n"
             "print('quarterdeck.core.store.history_rows' in sys.modules)\n"
             "from quarterdeck.core.store.rows import HistoryRow\n"
             "print('quarterdeck.core.store.history_rows' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["False", "True"]
