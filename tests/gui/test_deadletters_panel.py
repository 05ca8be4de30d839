"""The Dead letters panel over a real SQLite store, with processors loaded by MODULE:ATTR."""
from __future__ import annotations

import importlib
import sys
import textwrap
import uuid

import pytest
from gui_fixtures import saved_shot
from PySide6.QtCore import QItemSelectionModel, Qt

from quarterdeck.core.integration.deadletter import DeadLetterStore
from quarterdeck.core.integration.events import CoordinationEventProcessor
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.resilience import BreakerRegistry
from quarterdeck.gui.deadletters import panel as panel_module
from quarterdeck.gui.deadletters.model import DeadLettersModel
from quarterdeck.gui.deadletters.panel import PROCESSOR_KEY, DeadLettersPanel

APP = '''
from quarterdeck.core.integration.events import CoordinationEventProcessor
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.resilience import BreakerRegistry

RECEIVED = []
processor = CoordinationEventProcessor(monitor=Monitor(), breakers=BreakerRegistry(),
                                       error_config={{"max_retries": 0}})


@processor.handler("order.created")
def created(payload):
    {body}
    RECEIVED.append(payload)


not_a_processor = 42
'''
HEALTHY = "pass"
BROKEN = 'raise ConnectionError("billing is still down")'
ORDER = {"order": "A-1001", "lines": [{"sku": "rope-20m", "qty": 2}], "customer": "Hornblower"}


@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "data" / "deadletters.sqlite3"


@pytest.fixture
def dead_letter(store_path):
    """``dead_letter(type, payload)``: process an event whose handler fails, as an app would."""
    store = DeadLetterStore(store_path)
    processor = CoordinationEventProcessor(store, monitor=Monitor(), breakers=BreakerRegistry(),
                                           error_config={"max_retries": 0})

    def failing(payload):
        raise ConnectionError("billing is down (password=Xk9#mQ2vLp7!rT4z)")

    for event_type in ("order.created", "order.cancelled", "invoice.sent"):
        processor.register(event_type, failing)

    def add(event_type="order.created", payload=None):
        result = processor.process(event_type, ORDER if payload is None else payload)
        assert result.status == "dead_lettered"
        return result.dead_letter_id

    yield add
    store.close()


@pytest.fixture
def app(tmp_path, monkeypatch):
    """``app(body)`` writes an importable processor module to tmp_path; returns its spec."""
    folder = tmp_path / "app"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # a rewrite in the same second must count
    name = f"dlapp_{uuid.uuid4().hex[:8]}"

    def write(body=HEALTHY):
        (folder / f"{name}.py").write_text(textwrap.dedent(APP.format(body=body)))
        importlib.invalidate_caches()
        return f"{name}:processor"

    yield write
    sys.modules.pop(name, None)


@pytest.fixture
def make_panel(make_ctx, store_path, qtbot):
    made = []

    def make(ctx=None):
        panel = DeadLettersPanel(ctx or make_ctx(start=False), store_path=store_path)
        qtbot.addWidget(panel)
        panel.resize(1200, 420)
        made.append(panel)
        panel.show()
        qtbot.waitUntil(lambda: panel.count_label.text() != "Loading…")
        return panel

    yield make
    for panel in made:
        panel.shutdown()


def _select(panel, *rows):
    selection = panel.view.selectionModel()
    for n, row in enumerate(rows):
        flag = QItemSelectionModel.SelectionFlag.ClearAndSelect if n == 0 else QItemSelectionModel.SelectionFlag.Select
        selection.setCurrentIndex(panel.model.index(row, 0), flag | QItemSelectionModel.SelectionFlag.Rows)


def _settled(panel, qtbot):
    qtbot.waitUntil(lambda: not panel._busy and not panel._refreshing and panel.ctx.jobs.pending == 0)


def test_is_a_bottom_panel_tabbed_with_history_offering_two_commands(make_panel):
    panel = make_panel()
    assert (panel.NAME, panel.TITLE, panel.AREA, panel.TAB_WITH) == (
        "deadletters", "Dead letters", Qt.DockWidgetArea.BottomDockWidgetArea, "history")
    assert [a.text() for a in panel.commands()] == ["Refresh dead letters", "Replay all dead letters"]


def test_no_store_file_shows_none_and_creates_nothing(make_panel, store_path):
    panel = make_panel()
    assert panel.count_label.text() == "No dead letters"
    assert not store_path.exists()
    assert not panel.replay_all_button.isEnabled() and not panel.purge_button.isEnabled()


def test_model_passes_the_tester_and_merges_without_resets(qtmodeltester, dead_letter, store_path):
    first, second = dead_letter(), dead_letter("invoice.sent", {"invoice": 7})
    with DeadLetterStore(store_path) as store:
        model = DeadLettersModel()
        resets, changed = [], []
        model.modelReset.connect(lambda: resets.append(1))
        model.dataChanged.connect(lambda a, b: changed.append((a.row(), a.column(), b.column())))
        model.set_entries(store.list())
        qtmodeltester.check(model)
        assert model.ids() == [first, second]
        store.failed_again(first, reason="failed", error="TimeoutError: slow", attempts=2)
        third = dead_letter("order.cancelled", {"order": "A-1002"})
        store.remove(second)
        model.set_entries(store.list())
        qtmodeltester.check(model)
    assert model.ids() == [first, third] and resets == []
    assert changed == [(0, 4, 5)]  # attempts and error only
    assert model.row_of(third) == 1 and model.row_of(second) is None
    assert model.index(0, 5).data() == "TimeoutError: slow"


def test_a_dead_letter_is_listed_with_its_redacted_error_and_whole_payload(make_panel, dead_letter):
    entry = dead_letter()
    panel = make_panel()
    assert panel.count_label.text() == "1 dead letter"
    cells = [panel.model.index(0, c).data() for c in range(panel.model.columnCount())]
    assert cells[:3] == [str(entry), "order.created", "failed"] and cells[4] == "1"
    assert "Xk9#mQ2" not in cells[5] and "[REDACTED" in cells[5]
    assert cells[5].startswith("ConnectionError: billing is down")
    assert '"order": "A-1001"' in cells[6]
    _select(panel, 0)
    assert '"sku": "rope-20m"' in panel.detail.toPlainText()
    assert "Hornblower" in panel.detail.toPlainText()
    assert panel.replay_selected_button.isEnabled()


def test_replay_with_a_healthy_handler_removes_the_entry(make_panel, dead_letter, app, qtbot):
    dead_letter()
    kept = dead_letter("invoice.sent", {"invoice": 7})
    panel = make_panel()
    spec = app(HEALTHY)
    panel.processor.setText(spec)
    _select(panel, 0)
    panel.replay_selected_button.click()
    qtbot.waitUntil(lambda: panel.model.ids() == [kept])
    _settled(panel, qtbot)
    assert sys.modules[spec.partition(":")[0]].RECEIVED == [ORDER]
    assert panel.message.text() == "1 replayed."
    assert panel.ctx.settings.get(PROCESSOR_KEY, "", str) == spec
    again = DeadLettersPanel(panel.ctx)
    qtbot.addWidget(again)
    assert again.processor.text() == spec  # remembered for next time


def test_a_failing_replay_keeps_the_entry_with_its_new_error_until_fixed(make_panel, dead_letter, app, qtbot):
    entry = dead_letter()
    panel = make_panel()
    panel.processor.setText(app(BROKEN))
    panel.replay_all_button.click()
    qtbot.waitUntil(lambda: "still down" in panel.model.index(0, 5).data())
    _settled(panel, qtbot)
    assert panel.model.entry(0).replays == 1 and panel.model.ids() == [entry]
    assert panel.message.text().startswith(f"0 replayed, 1 failed again. #{entry} order.created")
    assert "b3261e" in panel.message.styleSheet()
    app(HEALTHY)  # the handler is fixed; the next replay reloads the module
    panel.replay_all_action.trigger()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 0)
    _settled(panel, qtbot)
    assert panel.message.text() == "1 replayed." and panel.message.styleSheet() == ""


@pytest.mark.parametrize(("spec", "expected"), [
    ("", "No processor: give the processor as MODULE:ATTR"),
    ("just_a_module", "is not MODULE:ATTR"),
    ("no_such_module_dl:processor", "cannot be loaded: No module named 'no_such_module_dl'"),
    ("{app}:not_a_processor", "is not a CoordinationEventProcessor (it is of type int)"),
    ("{app}:missing", "cannot be loaded"),
    ("{syntax}:processor", "cannot be loaded: SyntaxError"),
])
def test_a_processor_that_cannot_be_used_is_explained(make_panel, dead_letter, app, tmp_path, qtbot,
                                                      spec, expected):
    entry = dead_letter()
    module = app().partition(":")[0]
    (tmp_path / "app" / "dl_syntax_err.py").write_text("def broken(:\n")
    panel = make_panel()
    panel.processor.setText(spec.format(app=module, syntax="dl_syntax_err"))
    panel.replay_all_button.click()
    qtbot.waitUntil(lambda: expected in panel.message.text())
    _settled(panel, qtbot)
    assert panel.model.ids() == [entry] and "b3261e" in panel.message.styleSheet()
    sys.modules.pop("dl_syntax_err", None)


def test_replay_selected_without_a_selection_asks_for_one(make_panel, dead_letter):
    dead_letter()
    panel = make_panel()
    panel.replay_selected()
    assert panel.message.text() == "Select the dead letters to replay first."


def test_purge_asks_first_and_then_empties_the_store(make_panel, dead_letter, store_path, qtbot):
    for n in range(3):
        dead_letter(payload={"n": n})
    panel = make_panel()
    asked = []
    panel.confirm = lambda title, text: asked.append(title) or False
    panel.purge_button.click()
    assert asked == ["Purge dead letters?"] and panel.model.rowCount() == 3
    panel.confirm = lambda title, text: True
    panel.purge_button.click()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 0)
    _settled(panel, qtbot)
    assert panel.message.text() == "3 dead letter(s) purged."
    assert panel.count_label.text() == "No dead letters"
    with DeadLetterStore(store_path) as store:
        assert store.count() == 0


def test_refreshes_while_visible_and_stops_when_hidden(make_ctx, store_path, dead_letter, monkeypatch, qtbot):
    monkeypatch.setattr(panel_module, "REFRESH_MS", 50)
    dead_letter()
    panel = DeadLettersPanel(make_ctx(start=False), store_path=store_path)
    qtbot.addWidget(panel)
    assert not panel._timer.isActive()
    panel.show()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1)
    dead_letter("invoice.sent", {"invoice": 8})
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2)  # nobody asked: the timer did
    panel.hide()
    assert not panel._timer.isActive()
    panel.shutdown()
    _settled(panel, qtbot)


def test_screenshot(make_panel, dead_letter, app, qtbot):
    dead_letter(payload=ORDER)
    dead_letter("order.cancelled", {"order": "A-0998", "why": "customer request"})
    dead_letter("invoice.sent", {"invoice": 4711, "to": "purser@example.org", "amount": "120.50"})
    dead_letter(payload={"order": "A-1003", "lines": [{"sku": "tar-5l", "qty": 1}]})
    panel = make_panel()
    panel.processor.setText(app(BROKEN))
    _select(panel, 3)
    panel.replay_selected_button.click()
    qtbot.waitUntil(lambda: "failed again" in panel.message.text())
    _settled(panel, qtbot)
    _select(panel, 0)
    saved_shot(panel, "deadletters.png")


def test_replay_without_a_store_has_nothing_to_do(make_panel, app, store_path, qtbot):
    panel = make_panel()
    panel.processor.setText(app())
    panel.replay_all()
    qtbot.waitUntil(lambda: panel.message.text() == "Nothing to replay.")
    assert not store_path.exists()


def test_the_replay_summary_names_the_first_failure_and_counts_the_rest():
    from quarterdeck.gui.deadletters.ops import ReplayReport

    report = ReplayReport(replayed=[1], failed=[(2, "a", "E: x"), (3, "b", "E: y")], gone=[4])
    assert report.summary() == ("1 replayed, 2 failed again, 1 already gone. #2 a: E: x "
                                "(and 1 more; see the table)")
    assert not report.ok and ReplayReport().ok
