"""Keyset paging: pages tile the search order, stay index-driven, and keep a loaded view current."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quarterdeck.core.models import Message
from quarterdeck.core.store import Store, search
from quarterdeck.core.store import query as query_module
from quarterdeck.core.store.paging import Key, Line, lines_by_id, newer, page, placements, row_of, since_for
from quarterdeck.core.store.query import Filters


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "quarterdeck.sqlite3") as s:
        yield s


def _fill(store: Store, n: int) -> None:
    """``n`` messages; odd ones go to two agents, so their deliveries share one creation time."""
    for i in range(n):
        agents = [("Agent-1", "dryrun"), ("Agent-2", "dryrun")] if i % 2 else [("Agent-1", "dryrun")]
        word = "alpha" if i % 3 == 0 else "omega"
        store.enqueue(Message(sender="captain", content=f"{word} item {i}"), agents)


def _all_pages(store: Store, filters: Filters, size: int) -> list[int]:
    seen, after = [], None
    while True:
        lines = page(store, filters, after=after, limit=size)
        seen += [line.delivery_id for line in lines]
        if len(lines) < size:
            return seen
        after = lines[-1].key


@pytest.mark.parametrize("filters", [
    Filters(), Filters(agent="Agent-2"), Filters(text="alpha"), Filters(text="omega", agent="Agent-1"),
    Filters(text="em"), Filters(state="queued"), Filters(state="failed"),
])
@pytest.mark.parametrize("match_path", ["few", "many"])
def test_pages_tile_exactly_what_search_lists(store, monkeypatch, filters, match_path):
    if match_path == "many":
        monkeypatch.setattr(query_module, "FEW_MATCHES", 0)
    _fill(store, 31)
    expected = [row.delivery_id for row in search(store, limit=10_000, **vars(filters))]
    for size in (1, 4, 7):
        assert _all_pages(store, filters, size) == expected


def test_a_deep_page_seeks_through_the_time_index_without_sorting(store):
    _fill(store, 12)
    deep = page(store, limit=20)[-1]
    statements: list[str] = []
    conn = store.connection()
    conn.set_trace_callback(statements.append)
    try:
        page(store, Filters(agent="Agent-1"), after=deep.key, limit=3)
    finally:
        conn.set_trace_callback(None)
    [select] = [s for s in statements if s.startswith("SELECT")]
    listing = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {select}"))
    assert "deliveries_agent_time (agent_id=? AND created_at<?)" in listing, listing
    assert "TEMP B-TREE" not in listing


def test_lines_are_compact_one_line_excerpts(store):
    long = "first line\n\n   second\tline " + "x" * 300
    store.enqueue(Message(sender="captain", content=long, priority="urgent"), [("Agent-1", "dryrun")])
    store.enqueue(Message(sender="captain", content="short"), [("Agent-1", "dryrun")],
                  content_to_store="[redacted]", redacted=True)
    store.enqueue(Message(sender="captain", content="y" * 40), [("Agent-1", "dryrun")])
    exact, redacted, cut = page(store, excerpt=40)
    assert (exact.excerpt, exact.truncated) == ("y" * 40, False)
    assert cut.excerpt == " ".join(long[:40].split()) and cut.truncated
    assert (cut.priority, cut.sender, cut.type, cut.state, cut.attempts) == ("urgent", "captain", "text", "queued", 0)
    assert (redacted.excerpt, redacted.truncated, redacted.redacted) == ("[redacted]", False, True)
    assert isinstance(cut.created, float) and cut.key == Key(cut.created, cut.delivery_id)
    with pytest.raises(ValueError):
        page(store, limit=-1)


def test_newer_lists_what_appeared_above_a_key_closest_first_when_limited(store):
    _fill(store, 4)
    top = page(store, limit=1)[0]
    assert newer(store, than=top.key) == []
    _fill(store, 5)
    everything = page(store, limit=100)
    above = [line.delivery_id for line in everything if line.key > top.key]
    assert [line.delivery_id for line in newer(store, than=top.key, limit=100)] == above
    assert [line.delivery_id for line in newer(store, than=top.key, limit=2)] == above[-2:]
    assert [line.delivery_id for line in newer(store, Filters(agent="Agent-2"), than=top.key)] == [
        line.delivery_id for line in everything if line.key > top.key and line.agent_id == "Agent-2"]
    assert [line.delivery_id for line in newer(store, than=None, limit=3)] == above[:3]


def test_lines_by_id_reflect_the_current_state_and_drop_what_no_longer_matches(store):
    _fill(store, 3)
    task = store.claim_next()
    store.mark_failed(task.delivery_id, "pane gone")
    ids = [line.delivery_id for line in page(store)]
    [failed] = lines_by_id(store, ids, Filters(state="failed"))
    assert (failed.delivery_id, failed.state, failed.reason) == (task.delivery_id, "failed", "pane gone")
    queued = lines_by_id(store, [*ids, 999], Filters(state="queued"))
    assert {line.delivery_id for line in queued} == set(ids) - {task.delivery_id}
    assert [line.delivery_id for line in lines_by_id(store, ids)] == ids
    assert lines_by_id(store, []) == []
    assert lines_by_id(store, ids, Filters(text="nowhere to be found")) == []


def _line(delivery_id: int, created: float) -> Line:
    return Line(delivery_id, "m", "Agent-1", "queued", None, 0, "normal", "text", "captain", "x", False, False,
                created, None)


def test_placements_keep_newest_first_order_and_leave_unloaded_depths_to_paging():
    loaded = [_line(9, 90.0), _line(7, 70.0), _line(6, 70.0), _line(3, 30.0)]
    fresh = [_line(12, 120.0), _line(11, 120.0), _line(8, 70.0), _line(5, 50.0), _line(7, 70.0), _line(1, 10.0)]
    assert placements(loaded, fresh, complete=False) == [
        (3, [_line(5, 50.0)]), (1, [_line(8, 70.0)]), (0, [_line(12, 120.0), _line(11, 120.0)])]
    assert placements(loaded, fresh, complete=True)[0] == (4, [_line(1, 10.0)])
    assert placements([], fresh[:2], complete=False) == [(0, [_line(12, 120.0), _line(11, 120.0)])]
    merged = list(loaded)
    for row, lines in placements(loaded, fresh, complete=True):
        merged[row:row] = lines
    assert [line.delivery_id for line in merged] == [12, 11, 9, 8, 7, 6, 5, 3, 1]
    assert row_of(merged, _line(6, 70.0)) == 5
    assert row_of(merged, _line(4, 70.0)) is None
    assert row_of([], _line(4, 70.0)) is None


def test_time_ranges_end_now():
    now = datetime(2025, 6, 29, 14, 30, 5, 123, tzinfo=UTC)
    assert since_for("all", now) is None
    assert since_for("hour", now) == now - timedelta(hours=1)
    assert since_for("today", now) == datetime(2025, 6, 29, tzinfo=UTC)
    assert since_for("week", now) == now - timedelta(days=7)
    with pytest.raises(ValueError, match="time range"):
        since_for("fortnight", now)
