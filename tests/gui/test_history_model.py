"""The lazy history model over a real SQLite store filled with many rows: paging, staleness, refresh."""
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from quarterdeck.core.models import Message
from quarterdeck.core.roster.remote import this_machine
from quarterdeck.core.store import Store, search
from quarterdeck.core.store.query import Filters
from quarterdeck.core.store.queueing import priority_rank
from quarterdeck.core.store.rows import to_db_time
from quarterdeck.gui.history import model as model_module
from quarterdeck.gui.history.columns import COLUMNS
from quarterdeck.gui.history.model import LINE_ROLE, HistoryModel

AGENTS = ("Agent-1", "Agent-2", "Agent-3")
START = datetime(2025, 3, 1, tzinfo=UTC)


def fill_history(store: Store, messages: int, *, start: datetime = START) -> int:
    """``messages`` stored straight into SQLite (as bench/bench_store.py does), one a second;
    every fourth goes to two agents at once (equal times). States cycle; returns deliveries."""
    message_rows, delivery_rows = [], []
    states = ("delivered", "delivered", "failed", "delivered", "cancelled", "uncertain", "delivered")
    for n in range(messages):
        moment = to_db_time(start + timedelta(seconds=n))
        message_id = f"m{n:07d}"
        agents = AGENTS[n % 3:n % 3 + 2] if n % 4 == 0 else (AGENTS[n % 3],)
        priority = "urgent" if n % 10 == 0 else "normal"
        word = "zephyr" if n % 50 == 0 else "routine"
        message_rows.append((message_id, "captain", "captain", "text", priority, "[]", json.dumps(list(agents)),
                             f"{word} task number {n}\nwith a second line", 0, moment))
        for agent in agents:
            state = states[len(delivery_rows) % len(states)]
            delivery_rows.append((message_id, agent, "dryrun", priority, priority_rank(priority), state,
                                  "timeout" if state == "failed" else None, 1, moment, moment,
                                  120.0 if state == "delivered" else None))
    conn = store.connection()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO messages (id, sender, sender_kind, type, priority, tags, recipients, content, "
                     "redacted, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)", message_rows)
    conn.executemany("INSERT INTO deliveries (message_id, agent_id, transport, priority, prio, state, reason, "
                     "attempts, created_at, updated_at, latency_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)", delivery_rows)
    conn.execute("COMMIT")
    return len(delivery_rows)


@pytest.fixture
def ctx(make_ctx):
    return make_ctx(start=False)


@pytest.fixture
def filled(ctx):
    return fill_history(ctx.store, 1200)


def _loaded(qtbot, model: HistoryModel, filters: Filters = Filters()) -> None:
    with qtbot.waitSignal(model.sig_page_loaded):
        model.set_filters(filters)


def _ids(model: HistoryModel) -> list[int]:
    return [model.line(row).delivery_id for row in range(model.rowCount())]


def test_model_passes_qt_model_tester(ctx, filled, qtbot, qtmodeltester):
    model = HistoryModel(ctx.jobs, ctx.store, page_size=50)
    _loaded(qtbot, model)
    qtmodeltester.check(model)
    assert model.columnCount() == len(COLUMNS)
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Time"
    assert model.headerData(0, Qt.Orientation.Vertical) is None


def test_only_the_first_page_loads_and_fetch_more_adds_the_next_in_the_background(ctx, filled, qtbot):
    model = HistoryModel(ctx.jobs, ctx.store, page_size=100)
    with qtbot.waitSignal(model.sig_count_changed) as counted:
        _loaded(qtbot, model)
    assert model.rowCount() == 100 and model.canFetchMore()
    assert counted.args == [filled] and model.total == filled
    model.fetchMore()
    assert model.rowCount() == 100 and not model.canFetchMore()  # asked for, not arrived: no second request
    with qtbot.waitSignal(model.sig_page_loaded) as loaded:
        model.fetchMore()  # ignored while one is on its way
    assert loaded.args == [100] and model.rowCount() == 200
    expected = [row.delivery_id for row in search(ctx.store, limit=filled)]
    assert _ids(model) == expected[:200]
    while model.canFetchMore():
        with qtbot.waitSignal(model.sig_page_loaded):
            model.fetchMore()
    assert _ids(model) == expected


def test_cells_show_time_state_colour_excerpt_and_attempts(ctx, qtbot):
    fill_history(ctx.store, 3)
    model = HistoryModel(ctx.jobs, ctx.store)
    _loaded(qtbot, model)
    cells = [model.index(0, c).data() for c in range(len(COLUMNS))]
    local = datetime.fromtimestamp((START + timedelta(seconds=2)).timestamp())
    assert cells[:6] == [local.strftime("%Y-%m-%d %H:%M:%S"), "Agent-3", "unverified", "normal", "text",
                         "routine task number 2 with a second line"]
    assert cells[6:] == ["1 try · 120 ms", "", this_machine()]  # Machine: NULL is this machine
    # unverified (a dry run): not the green of submitted
    assert model.index(0, 2).data(Qt.ItemDataRole.ForegroundRole).name() == "#6d4c41"
    assert model.index(0, 6).data(Qt.ItemDataRole.TextAlignmentRole) & int(Qt.AlignmentFlag.AlignRight.value)
    assert model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole).endswith(f"delivery #{model.line(0).delivery_id}")
    assert model.index(0, 0).data(LINE_ROLE) == model.line(0)
    assert model.index(0, 1).data(Qt.ItemDataRole.ForegroundRole) is None
    assert model.index(0, 1).data(Qt.ItemDataRole.UserRole + 7) is None
    failed = model.line(1)
    assert (failed.state, model.index(1, 7).data(), model.index(1, 6).data()) == ("failed", "timeout", "1 try")
    assert model.index(1, 2).data(Qt.ItemDataRole.ForegroundRole).name() == "#c62828"
    last = model.rowCount() - 1
    assert model.index(last, 3).data() == "urgent"
    assert model.index(last, 3).data(Qt.ItemDataRole.ForegroundRole).name() == "#d84315"
    assert "From captain · text" in model.index(last, 5).data(Qt.ItemDataRole.ToolTipRole)


def test_a_superseded_filter_s_results_are_dropped(ctx, filled, qtbot):
    model = HistoryModel(ctx.jobs, ctx.store, page_size=50)
    gate = threading.Event()
    ctx.jobs.run(lambda: gate.wait(5))  # hold the runner so both requests queue up behind it
    pages: list[int] = []
    counts: list[int] = []
    model.sig_page_loaded.connect(pages.append)
    model.sig_count_changed.connect(counts.append)
    model.set_filters(Filters(agent="Agent-1"))
    model.set_filters(Filters(agent="Agent-2", state="failed"))
    gate.set()
    qtbot.waitUntil(lambda: len(counts) == 1)
    assert pages == [50]
    assert {model.line(r).agent_id for r in range(model.rowCount())} == {"Agent-2"}
    assert {model.line(r).state for r in range(model.rowCount())} == {"failed"}
    from quarterdeck.core.store import count
    assert counts == [count(ctx.store, agent="Agent-2", state="failed")]


def test_text_filter_finds_rare_words(ctx, filled, qtbot):
    model = HistoryModel(ctx.jobs, ctx.store)
    with qtbot.waitSignal(model.sig_count_changed):
        _loaded(qtbot, model, Filters(text="ZEPHYR"))
    assert model.total == model.rowCount() == len(search(ctx.store, text="zephyr", limit=10_000)) > 0
    assert not model.canFetchMore()


def _submit(ctx, *agents: str, content: str = "fresh work") -> Message:
    message = Message(sender="Captain", recipients=list(agents), content=content)
    ctx.session.submit(message)
    return message


def test_refresh_inserts_new_lines_at_the_top_and_updates_changed_ones_in_place(ctx, filled, qtbot):
    model = HistoryModel(ctx.jobs, ctx.store, page_size=100)
    _loaded(qtbot, model)
    resets, inserted, changed = [], [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    model.dataChanged.connect(lambda tl, br, roles: changed.append((tl.row(), tl.column(), br.column())))
    _submit(ctx, "Agent-1", "Agent-2")
    with qtbot.waitSignal(model.sig_refreshed):
        model.refresh()
    assert inserted == [(0, 1)] and resets == [] and model.rowCount() == 102
    assert {model.line(0).state, model.line(1).state} == {"queued"}
    assert model.total == filled + 2
    task = ctx.store.claim_next()
    ctx.store.mark_delivered(task.delivery_id, 42.0)
    with qtbot.waitSignal(model.sig_refreshed):
        model.refresh([task.delivery_id])
    row = _ids(model).index(task.delivery_id)
    assert model.line(row).state == "delivered" and model.index(row, 6).data() == "0 tries · 42 ms"
    assert changed == [(row, 2, 8)] and resets == [] and model.rowCount() == 102  # State through Machine


def test_a_line_that_stops_matching_leaves_and_one_that_starts_matching_arrives(ctx, filled, qtbot):
    model = HistoryModel(ctx.jobs, ctx.store)
    _submit(ctx, "Agent-1", "Agent-2")
    _loaded(qtbot, model, Filters(state="queued"))
    assert model.rowCount() == 2
    removed = []
    model.rowsRemoved.connect(lambda parent, first, last: removed.append((first, last)))
    task = ctx.store.claim_next()
    ctx.store.mark_failed(task.delivery_id, "pane gone")
    with qtbot.waitSignal(model.sig_refreshed):
        model.refresh([task.delivery_id, 999_999])
    assert model.rowCount() == 1 and len(removed) == 1 and model.total == 1
    ctx.store.mark_cancelled(ctx.store.claim_next().delivery_id)
    _submit(ctx, "Agent-1", content="older")
    _submit(ctx, "Agent-2", content="newer")
    older, newer = ctx.store.claim_next(), ctx.store.claim_next()
    ctx.store.mark_failed(newer.delivery_id, "pane gone")
    _loaded(qtbot, model, Filters(state="failed"))
    assert model.line(0).delivery_id == newer.delivery_id
    before = model.rowCount()
    ctx.store.mark_failed(older.delivery_id, "pane gone")  # older than the top: no query for "newer" finds it
    with qtbot.waitSignal(model.sig_refreshed):
        model.refresh([older.delivery_id])
    assert _ids(model)[:3] == [newer.delivery_id, older.delivery_id, task.delivery_id]
    assert model.rowCount() == before + 1


def test_too_many_new_lines_reload_instead_of_splicing(ctx, filled, qtbot, monkeypatch):
    monkeypatch.setattr(model_module, "NEWER_LIMIT", 2)
    model = HistoryModel(ctx.jobs, ctx.store, page_size=10)
    _loaded(qtbot, model)
    for n in range(2):
        _submit(ctx, "Agent-1", "Agent-2", content=f"burst {n}")
    with qtbot.waitSignal(model.modelReset):
        model.refresh()
    qtbot.waitUntil(lambda: model.rowCount() == 10)
    assert model.line(0).excerpt == "burst 1"


def test_a_refresh_asked_for_before_the_first_page_waits_for_it(ctx, filled, qtbot):
    model = HistoryModel(ctx.jobs, ctx.store, page_size=20)
    model.set_filters(Filters())
    model.refresh([1, 2])
    assert model.busy
    with qtbot.waitSignal(model.sig_refreshed):
        pass
    assert model.rowCount() == 20 and len(set(_ids(model))) == 20
    assert not model.busy


def test_a_failing_query_is_reported_and_paging_stops(tmp_path, ctx, qtbot):
    closed = Store(tmp_path / "closed.sqlite3")
    closed.close()
    model = HistoryModel(ctx.jobs, closed)
    with qtbot.waitSignal(model.sig_load_failed) as failed:
        model.set_filters(Filters())
    assert "closed" in failed.args[0]
    assert not model.canFetchMore() and not model.busy


def test_long_messages_end_in_an_ellipsis_and_durations_read_naturally(ctx, qtbot):
    from quarterdeck.gui.history.columns import duration, local_time

    ctx.store.enqueue(Message(sender="captain", content="word " * 100), [("Agent-1", "dryrun")])
    model = HistoryModel(ctx.jobs, ctx.store)
    _loaded(qtbot, model)
    assert model.index(0, 5).data().endswith("…") and model.line(0).truncated
    assert "select the row for all of it" in model.index(0, 5).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, 6).data() == "—"  # queued: nothing tried yet
    assert (duration(None), duration(12.4), duration(1520.0)) == ("—", "12 ms", "1.5 s")
    assert local_time(None) == "—"


def test_the_machine_is_the_one_that_typed_it_and_none_before_anything_was_typed():
    from quarterdeck.core.store.paging import Line

    machine = next(c for c in COLUMNS if c.title == "Machine")

    def line(state: str, attempts: int, where: str | None) -> Line:
        return Line(1, "m1", "Box-1", state, None, attempts, "normal", "text", "captain", "x", False, False, 0.0,
                    None, machine=where)

    assert machine.text(line("queued", 0, None)) == "—"  # waiting for a broker or a relay: nobody typed it
    assert machine.tip(line("queued", 0, None)) == "Not typed on any machine (yet)"
    assert machine.text(line("cancelled", 0, None)) == "—"
    assert machine.text(line("sending", 0, None)) == this_machine()  # being typed here
    assert machine.text(line("uncertain", 0, None)) == this_machine()  # recovered: it may have been typed here
    assert machine.text(line("delivered", 0, None)) == this_machine()
    assert machine.text(line("failed", 1, None)) == this_machine() and machine.text(line("failed", 0, None)) == "—"
    assert "state" in machine.fields and "attempts" in machine.fields  # repainted when they change
    assert machine.text(line("delivered", 1, None)) == this_machine()
    assert machine.text(line("sending", 0, "box-1")) == "box-1"
    assert machine.tip(line("delivered", 1, "box-1")) == "Typed on relay box-1's machine"
