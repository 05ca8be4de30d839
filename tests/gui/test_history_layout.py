"""History at any width: Time and Agent always in view (a wide table needs no sideways scroll, the
Message column taking what is left; where that would squeeze Message under its floor, it keeps the
floor right after State and the table scrolls under Time and Agent, which stay put), and
a resend to one agent is delivered labelled RESENT, not BROADCAST."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QHeaderView
from test_history_model import fill_history

from quarterdeck.core.models import Message
from quarterdeck.gui.history.columns import COLUMNS, MESSAGE_COLUMN, STATE_COLUMN
from quarterdeck.gui.history.message_column import FLOOR
from quarterdeck.gui.history.panel import HistoryPanel

AGENT_COLUMN = 1


def _panel(ctx, qtbot, width: int = 1340) -> HistoryPanel:
    panel = HistoryPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(width, 420)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: not panel.model.busy and panel.model.rowCount() > 0)
    return panel


def _time_and_agent_in_view(panel: HistoryPanel) -> bool:
    view = panel.view
    right = view.columnViewportPosition(AGENT_COLUMN) + view.columnWidth(AGENT_COLUMN)
    return view.columnViewportPosition(0) == 0 and right <= view.viewport().width()


@pytest.mark.parametrize("width", [1900, 1600])
def test_no_sideways_scroll_and_time_and_agent_stay_in_view(make_ctx, qtbot, width):
    ctx = make_ctx(start=False)
    fill_history(ctx.store, 30)
    panel = _panel(ctx, qtbot, width)
    view = panel.view
    assert view.horizontalHeader().sectionResizeMode(MESSAGE_COLUMN) == QHeaderView.ResizeMode.Stretch
    qtbot.waitUntil(lambda: view.horizontalScrollBar().maximum() == 0)
    assert _time_and_agent_in_view(panel)
    others = sum(view.columnWidth(n) for n in range(len(COLUMNS)) if n != MESSAGE_COLUMN)
    assert others + view.columnWidth(MESSAGE_COLUMN) == view.viewport().width()
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().maximum())  # even pushed sideways
    assert _time_and_agent_in_view(panel)


@pytest.mark.parametrize("width", [1366, 1200])
def test_where_message_would_be_squeezed_it_keeps_its_floor_right_after_state(make_ctx, qtbot, width):
    ctx = make_ctx(start=False)
    fill_history(ctx.store, 30)
    panel = _panel(ctx, qtbot, width)
    view, header = panel.view, panel.view.horizontalHeader()
    qtbot.waitUntil(lambda: view.columnWidth(MESSAGE_COLUMN) == FLOOR)
    assert header.visualIndex(MESSAGE_COLUMN) == header.visualIndex(STATE_COLUMN) + 1
    assert view.columnViewportPosition(MESSAGE_COLUMN) + FLOOR <= view.viewport().width()  # read without scrolling
    assert view.horizontalScrollBar().maximum() > 0  # Priority, Type and the rest are a scroll away
    panel.splitter.setSizes([3000, 10])  # the table given (nearly) the whole width: Message stretches again
    qtbot.waitUntil(lambda: header.sectionResizeMode(MESSAGE_COLUMN) == QHeaderView.ResizeMode.Stretch)
    qtbot.waitUntil(lambda: view.horizontalScrollBar().maximum() == 0)
    assert view.columnWidth(MESSAGE_COLUMN) >= FLOOR


@pytest.mark.parametrize("width", [1000, 680])
def test_a_narrow_table_scrolls_under_time_and_agent_which_stay_put(make_ctx, qtbot, width):
    ctx = make_ctx(start=False)
    fill_history(ctx.store, 60)
    panel = _panel(ctx, qtbot, width)
    view, frozen = panel.view, panel.frozen
    qtbot.waitUntil(lambda: view.horizontalScrollBar().maximum() > 0)  # too narrow for every column
    header = view.horizontalHeader()
    assert view.columnWidth(MESSAGE_COLUMN) == FLOOR  # never squeezed to a few letters
    assert header.visualIndex(MESSAGE_COLUMN) == header.visualIndex(STATE_COLUMN) + 1  # before Priority and Type
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().maximum())
    assert view.columnViewportPosition(0) < 0  # the table's own Time column went left...
    assert frozen.isVisible() and frozen.x() == view.frameWidth()  # ...the frozen one did not
    assert frozen.width() == view.columnWidth(0) + view.columnWidth(1)
    assert [frozen.isColumnHidden(c) for c in range(len(COLUMNS))] == [False, False] + [True] * (len(COLUMNS) - 2)
    assert frozen.model() is view.model() and frozen.selectionModel() is view.selectionModel()
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum() // 2)  # rows stay in line
    assert frozen.verticalScrollBar().value() == view.verticalScrollBar().value()
    row = frozen.rowAt(frozen.viewport().height() // 2)
    assert frozen.indexAt(QPoint(5, frozen.rowViewportPosition(row) + 3)).row() == row
    QTest.mouseClick(frozen.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(20, frozen.rowViewportPosition(row) + 3))
    assert [i.row() for i in view.selectionModel().selectedRows()] == [row]  # a click selects the table's row
    frozen.horizontalHeader().resizeSection(AGENT_COLUMN, 140)  # resizing the frozen Agent resizes the table's
    assert view.columnWidth(AGENT_COLUMN) == 140 and frozen.width() == view.columnWidth(0) + 140


def test_a_layout_saved_with_a_wide_message_column_does_not_bring_the_scroll_back(make_ctx, qtbot):
    ctx = make_ctx(start=False)
    fill_history(ctx.store, 10)
    panel = _panel(ctx, qtbot, 1900)
    header = panel.view.horizontalHeader()
    header.setSectionResizeMode(MESSAGE_COLUMN, QHeaderView.ResizeMode.Interactive)  # as saved before
    panel.view.setColumnWidth(MESSAGE_COLUMN, 900)
    panel.view.setColumnWidth(AGENT_COLUMN, 130)  # a width the captain chose is kept
    panel.shutdown()
    again = _panel(ctx, qtbot, 1900)
    qtbot.waitUntil(lambda: again.view.horizontalScrollBar().maximum() == 0)
    assert again.view.columnWidth(AGENT_COLUMN) == 130 and _time_and_agent_in_view(again)


def test_a_resend_of_a_broadcast_to_one_agent_is_labelled_resent(make_ctx, transports, qtbot):
    transports.fail_times["Agent-2"] = 4  # the broadcast fails for Agent-2 only; the resend gets through
    ctx = make_ctx()
    panel = _panel_empty(ctx, qtbot)
    with qtbot.waitSignal(ctx.sig_submitted):
        ctx.submit(Message(sender="Captain", type="broadcast", content="Wrap up and push."))
    qtbot.waitUntil(lambda: {(panel.model.line(r).agent_id, panel.model.line(r).state)
                             for r in range(panel.model.rowCount())} == {("Agent-1", "delivered"),
                                                                         ("Agent-2", "failed")}, timeout=5000)
    assert transports.sent_to("Agent-1") == ["[C2A] Captain → Agent-1 | BROADCAST\nWrap up and push."]
    row = next(r for r in range(panel.model.rowCount()) if panel.model.line(r).agent_id == "Agent-2")
    with qtbot.waitSignal(panel.detail.sig_shown):
        panel.view.selectionModel().setCurrentIndex(
            panel.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    panel.detail.resend_button.click()
    qtbot.waitUntil(lambda: bool(transports.sent_to("Agent-2")), timeout=5000)
    assert transports.sent_to("Agent-2") == ["[C2A] Captain → Agent-2 | RESENT\nWrap up and push."]


def _panel_empty(ctx, qtbot) -> HistoryPanel:
    panel = HistoryPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1340, 420)
    qtbot.waitUntil(lambda: not panel.model.busy and panel.model.total is not None)
    return panel


def _every_outcome(store) -> None:
    """Rows whose State shows each outcome, the longest ones among them (verdicts set in the outbox)."""
    fill_history(store, 14)
    conn = store.connection()
    ids = [row[0] for row in conn.execute("SELECT id FROM deliveries WHERE state = 'delivered' ORDER BY id")]
    verdicts = ("confirmed_by_agent", "submitted", "unverified")
    with conn:
        for delivery_id, verdict in zip(ids, verdicts, strict=False):
            conn.execute("UPDATE deliveries SET verdict = ? WHERE id = ?", (verdict, delivery_id))
        conn.execute("UPDATE deliveries SET verdict = 'typed_not_submitted' WHERE id = "
                     "(SELECT min(id) FROM deliveries WHERE state = 'failed')")


@pytest.mark.parametrize("width", [1900, 680])  # the history at 1920x1080 and as a tab at 1366x768
@pytest.mark.parametrize("saved", [False, True])
def test_the_state_column_fits_its_longest_state(make_ctx, qtbot, width, saved):
    ctx = make_ctx(start=False)
    _every_outcome(ctx.store)
    if saved:  # a column layout saved when the State column was 96 px wide
        first = _panel(ctx, qtbot, width)
        first.view.setColumnWidth(STATE_COLUMN, 96)
        first.shutdown()
    panel = _panel(ctx, qtbot, width)
    panel.resize(width, 900)  # every row in view: the size hint measures the rows shown
    view = panel.view
    qtbot.waitUntil(lambda: view.model().rowCount() >= 14)
    shown = {view.model().index(row, STATE_COLUMN).data() for row in range(view.model().rowCount())}
    assert {"confirmed by agent", "typed, not submitted", "submitted", "failed"} <= shown
    assert view.sizeHintForColumn(STATE_COLUMN) <= view.columnWidth(STATE_COLUMN)
    metrics = view.fontMetrics()
    for text in shown:  # as the cell draws it: whole, not elided
        room = view.columnWidth(STATE_COLUMN) - 2 * 6 - 6
        assert metrics.elidedText(text, Qt.TextElideMode.ElideRight, room) == text, (text, room)
