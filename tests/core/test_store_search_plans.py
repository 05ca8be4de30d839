"""Text search lists exactly the matching deliveries whatever plan and window it uses.

The history's text plans (``quarterdeck.core.store.query``) read the full-text index newest
first and decide each message by the range of ``seq`` it falls in. These tests shrink the window,
the walk budget and the ranges so a small history takes every branch, and make the delivery
order disagree with the message order the ways real histories do (a failed delivery sent again,
a delivery added to an old message, a clock that went back), then compare every list with one
worked out by brute force from the tables.
"""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from quarterdeck.core.models import Message
from quarterdeck.core.store import Store, count, search
from quarterdeck.core.store import query as query_module
from quarterdeck.core.store.paging import lines_by_id, newer, page
from quarterdeck.core.store.query import Filters
from quarterdeck.core.store.rows import now_db, to_db_time
from quarterdeck.core.store.textquery import text_filter

AGENTS = ("Agent-1", "Agent-2", "Agent-3")


def _words(i: int) -> str:
    words = ["alpha" if i % 2 else "omega"]
    if i % 7 == 0:
        words.append("bravo charlie")
    if i % 29 == 0:
        words.append("zulu")
    if i < 30 and i % 3 == 0:
        words.append("oldword")
    return f"item {i} " + " ".join(words)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """160 messages to one to three agents, then deliveries out of message order: resends of
    failed ones, deliveries added to old messages, and creation times moved back and forth."""
    rng = random.Random(15)
    path = tmp_path_factory.mktemp("search") / "quarterdeck.sqlite3"
    with Store(path) as s:
        for i in range(160):
            agents = rng.sample(AGENTS, rng.choice([1, 1, 2, 3]))
            s.enqueue(Message(sender="captain", content=_words(i)), [(a, "dryrun") for a in agents])
        conn = s.connection()
        for _ in range(40):
            task = s.claim_next()
            assert task is not None
            if rng.random() < 0.5:
                s.mark_failed(task.delivery_id, "pane gone")
            else:
                s.mark_delivered(task.delivery_id, 10.0)
        failed = [row[0] for row in conn.execute("SELECT id FROM deliveries WHERE state = 'failed' ORDER BY id")]
        s.requeue(failed[:6])  # old messages, new deliveries at the top
        for seq in (3, 40, 90):  # a second agent added to an old message later (as a relay does)
            message_id = conn.execute("SELECT id FROM messages WHERE seq = ?", (seq,)).fetchone()[0]
            now = now_db()
            conn.execute("INSERT INTO deliveries (message_id, agent_id, transport, priority, prio, state, "
                         "created_at, updated_at) VALUES (?, 'Agent-3', 'dryrun', 'normal', 1, 'queued', ?, ?)",
                         (message_id, now, now))
        ids = [row[0] for row in conn.execute("SELECT id FROM deliveries ORDER BY id")]
        times = sorted(row[0] for row in conn.execute("SELECT created_at FROM deliveries"))
        for delivery_id in rng.sample(ids, 25):  # a clock that went back (or forward) now and then
            conn.execute("UPDATE deliveries SET created_at = ? WHERE id = ?",
                         (rng.uniform(times[0], times[-1]), delivery_id))
        yield s


def _expected(store: Store, filters: Filters) -> list[int]:
    """Matching delivery ids, newest first, by brute force: every delivery tested in Python
    against the full-text index's whole answer."""
    conn = store.connection()
    wanted = text_filter(filters.text)
    assert not wanted.likes, "short terms are not what these tests are about"
    matched = None
    if wanted.match is not None:
        matched = {row[0] for row in conn.execute(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (wanted.match,))}
    since = None if filters.since is None else to_db_time(filters.since)
    until = None if filters.until is None else to_db_time(filters.until)
    rows = conn.execute("SELECT d.id, d.created_at, d.agent_id, d.state, m.seq FROM deliveries d "
                        "JOIN messages m ON m.id = d.message_id").fetchall()
    kept = [row for row in rows
            if (filters.agent is None or row[2] == filters.agent)
            and (filters.state is None or row[3] == filters.state)
            and (since is None or row[1] >= since) and (until is None or row[1] < until)
            and (matched is None or row[4] in matched)]
    return [row[0] for row in sorted(kept, key=lambda row: (row[1], row[0]), reverse=True)]


def _middle_time(store: Store) -> datetime:
    row = store.connection().execute("SELECT created_at FROM deliveries ORDER BY created_at "
                                     "LIMIT 1 OFFSET (SELECT count(*) / 2 FROM deliveries)").fetchone()
    return datetime.fromtimestamp(row[0], UTC)


FILTERS = [
    {"text": "alpha"}, {"text": "omega"}, {"text": "zulu"}, {"text": '"bravo charlie"'}, {"text": "oldword"},
    {"text": "item"}, {"text": "alpha zulu"}, {"text": "alpha", "agent": "Agent-2"},
    {"text": "omega", "state": "failed"}, {"text": "item", "state": "queued", "agent": "Agent-3"},
    {"text": "alpha", "until": "middle"}, {"text": "omega", "since": "middle"}, {"text": "nowhere"},
    {"agent": "Agent-1"}, {},
]
SETTINGS = {
    "window 1, tiers": dict(PROBE=1, START_ROWS=1),
    "window 3, no budget": dict(PROBE=3, WALK=0, START_ROWS=2),
    "window 5, walk always": dict(PROBE=5, GROWTH=3, FEW_MATCHES=0),
    "window 8, few after probing": dict(PROBE=8, WALK=0, FEW_MATCHES=60),
    "defaults": {},
}


@pytest.fixture(params=list(SETTINGS))
def settings(request, monkeypatch):
    for name, value in SETTINGS[request.param].items():
        monkeypatch.setattr(query_module, name, value)
    return request.param


def _filters(store: Store, spec: dict[str, str]) -> Filters:
    moment = _middle_time(store)
    return Filters(**{k: (moment if v == "middle" else v) for k, v in spec.items()})


@pytest.mark.parametrize("spec", FILTERS)
def test_pages_by_key_list_exactly_the_matching_deliveries(store, settings, spec):
    filters = _filters(store, spec)
    expected = _expected(store, filters)
    for size in (1, 5, 40):
        seen, after = [], None
        while True:
            lines = page(store, filters, after=after, limit=size)
            seen += [line.delivery_id for line in lines]
            if len(lines) < size:
                break
            after = lines[-1].key
        assert seen == expected, size


@pytest.mark.parametrize("spec", FILTERS)
def test_offset_search_count_newer_and_by_id_agree_with_brute_force(store, settings, spec):
    filters = _filters(store, spec)
    expected = _expected(store, filters)
    for offset in (0, 7, 60):
        assert [row.delivery_id for row in search(store, limit=9, offset=offset, **vars(filters))] == \
            expected[offset:offset + 9]
    assert count(store, **vars(filters)) == len(expected)
    for at_most in (0, 4, 50, 10_000):
        assert count(store, at_most=at_most, **vars(filters)) == min(len(expected), at_most + 1)
    everything = page(store, limit=10_000)
    for at in (0, len(everything) // 3, len(everything) - 1):
        key = everything[at].key
        above = [line.delivery_id for line in everything[:at] if line.delivery_id in set(expected)]
        assert [line.delivery_id for line in newer(store, filters, than=key, limit=1000)] == above
        assert [line.delivery_id for line in newer(store, filters, than=key, limit=3)] == above[-3:]
    ids = [line.delivery_id for line in everything[::3]]
    assert [line.delivery_id for line in lines_by_id(store, ids, filters)] == [i for i in expected if i in ids]


def test_the_first_page_of_a_common_word_walks_deliveries_in_time_order(store, monkeypatch):
    monkeypatch.setattr(query_module, "PROBE", 10)
    conn = store.connection()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        page(store, Filters(text="item"), limit=20)
    finally:
        conn.set_trace_callback(None)
    [listing_sql] = [s for s in statements if s.startswith("SELECT d.id")]
    assert "ORDER BY rowid DESC" in " ".join(statements)  # the newest matches, no more
    listing = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {listing_sql}"))
    assert listing.startswith("SCAN d USING INDEX deliveries_time"), listing
    assert "TEMP B-TREE" not in listing


def test_filters_that_select_no_delivery_need_no_text_plan(store):
    later = datetime.now(UTC) + timedelta(days=1)
    assert page(store, Filters(text="item", since=later)) == []
    assert page(store, Filters(text="item", agent="Agent-9")) == []


@pytest.mark.parametrize("text", ["em", "it alpha", "item"])
def test_a_count_stopped_early_says_there_are_more(store, text):
    everything = len(search(store, text=text, limit=10_000))
    assert everything > 3
    assert count(store, text=text, at_most=3) == 4
    assert count(store, text=text, at_most=everything) == everything
    assert count(store, text="nowhere", at_most=3) == 0
    with pytest.raises(ValueError):
        count(store, text=text, at_most=-1)
