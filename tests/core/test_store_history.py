"""History: filters, awkward search text, paging, counts, message detail, and index-driven plans."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quarterdeck.core.models import Message
from quarterdeck.core.store import State, Store, UnknownMessage, count, message_detail, search
from quarterdeck.core.store import query as query_module
from quarterdeck.core.store.mapping import HISTORY_COLUMNS
from quarterdeck.core.store.query import Filters, plan

TEXTS = {
    "deploy": 'Deploy "v2" now (AND wait) * é 你好世界 🚀',
    "cafe": "Notes from the Café about 50% of_tests",
    "logic": "NOT this OR that",
    "plain": "rebase on main and run the suite",
}


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "quarterdeck.sqlite3") as s:
        yield s


@pytest.fixture
def ids(store):
    """message key -> message id; each message goes to Agent-1 and Agent-2."""
    out = {}
    for key, content in TEXTS.items():
        message = Message(sender="captain", content=content)
        store.enqueue(message, [("Agent-1", "dryrun"), ("Agent-2", "dryrun")])
        out[key] = message.id
    return out


@pytest.fixture(params=["few", "many"])
def match_path(request, monkeypatch):
    """Run text tests through both plans: few matches (start from them) and many (walk deliveries)."""
    if request.param == "many":
        monkeypatch.setattr(query_module, "FEW_MATCHES", 0)
    return request.param


AWKWARD = [
    ("", set(TEXTS)),
    ("   ", set(TEXTS)),
    ('"v2"', {"deploy"}),
    ("AND", {"deploy", "plain"}),
    ("OR", {"logic"}),
    ("NOT", {"logic", "cafe"}),
    ("*", {"deploy"}),
    ("(", {"deploy"}),
    ("((", set()),
    ("wait)", {"deploy"}),
    ("(AND wait)", {"deploy"}),
    ('"(AND wait)"', {"deploy"}),
    ('"unbalanced', set()),
    ('"', {"deploy"}),
    ('""', set(TEXTS)),
    ("deploy AND now", {"deploy"}),
    ("deploy OR plain", set()),
    ("NEAR(deploy now)", set()),
    ("col:val ^x -y +z", set()),
    ("é", {"deploy", "cafe"}),
    ("CAFÉ", {"cafe"}),
    ("café", {"cafe"}),
    ("你好", {"deploy"}),
    ("好世界", {"deploy"}),
    ("🚀", {"deploy"}),
    ("50%", {"cafe"}),
    ("%", {"cafe"}),
    ("_", {"cafe"}),
    ("of_tests", {"cafe"}),
    ("\\", set()),
    ("a\x00b", {"cafe", "plain"}),
    ("rebase suite", {"plain"}),
    ('"run the suite"', {"plain"}),
    ('"suite the run"', set()),
]


@pytest.mark.parametrize("text, expected", AWKWARD)
def test_awkward_search_text_never_errors_and_means_what_it_says(store, ids, match_path, text, expected):
    found = search(store, text=text)
    by_id = {v: k for k, v in ids.items()}
    assert {by_id[row.message_id] for row in found} == expected
    assert count(store, text=text) == len(found) == 2 * len(expected)


def test_text_combines_with_the_other_filters(store, ids, match_path):
    task = store.claim_next()
    store.mark_failed(task.delivery_id, "x")
    assert task.message_id == ids["deploy"]
    rows = search(store, text="deploy", agent="Agent-1", state="failed")
    assert [r.delivery_id for r in rows] == [task.delivery_id]
    assert count(store, text="deploy", agent="Agent-1", state="failed") == 1
    assert count(store, text="deploy", agent="Agent-2", state="failed") == 0
    assert count(store, text="🚀", agent="Agent-2") == 1


def test_agent_and_state_filters(store, ids):
    first = store.claim_next()
    store.mark_delivered(first.delivery_id, 7.0)
    second = store.claim_next()
    store.mark_failed(second.delivery_id, "pane gone")
    assert {r.agent_id for r in search(store, agent="Agent-2")} == {"Agent-2"}
    assert count(store, agent="Agent-2") == 4
    [delivered] = search(store, state="delivered")
    assert (delivered.delivery_id, delivered.latency_ms, delivered.content) == (first.delivery_id, 7.0, TEXTS["deploy"])
    [failed] = search(store, state=State.FAILED)
    assert (failed.agent_id, failed.reason) == (second.agent_id, "pane gone")
    assert count(store, state="queued") == 6
    assert count(store, agent="Agent-1", state="delivered") == 1
    with pytest.raises(ValueError):
        search(store, state="lost")


def test_time_window_is_half_open(store):
    moments = []
    for n in range(3):
        moments.append(datetime.now(UTC))
        store.enqueue(Message(sender="captain", content=f"n{n}"), [("Agent-1", "dryrun")])
    moments.append(datetime.now(UTC))
    assert [r.content for r in search(store, since=moments[1])] == ["n2", "n1"]
    assert [r.content for r in search(store, until=moments[1])] == ["n0"]
    assert [r.content for r in search(store, since=moments[1], until=moments[2])] == ["n1"]
    rows = search(store)
    assert count(store, since=rows[0].created_at) == 1
    assert count(store, until=rows[0].created_at) == 2
    assert count(store, since=moments[3]) == 0


def test_newest_first_and_pages_tile_the_whole_result(store):
    for n in range(23):
        store.enqueue(Message(sender="captain", content=f"item {n}"), [("Agent-1", "dryrun")])
    everything = search(store, limit=1000)
    assert [r.content for r in everything] == [f"item {n}" for n in reversed(range(23))]
    pages = [search(store, limit=5, offset=o) for o in range(0, 25, 5)]
    assert [r.delivery_id for page in pages for r in page] == [r.delivery_id for r in everything]
    assert search(store, limit=5, offset=100) == []
    with pytest.raises(ValueError):
        search(store, offset=-1)


def test_message_detail_shows_every_delivery_retry_and_attempt(store):
    message = Message(sender="captain", content="go", tags=["captain"])
    first, second = store.enqueue(message, [("Agent-1", "tmux"), ("Agent-2", "inbox")])
    task = store.claim_next()
    now = datetime.now(UTC)
    store.record_attempt(task.delivery_id, 1, False, "timeout", now, now)
    store.mark_failed(task.delivery_id, "timeout")
    [retry] = store.requeue([first])
    detail = message_detail(store, message.id)
    assert (detail.message.content, detail.message.tags) == ("go", ("captain",))
    assert [(d.delivery.id, d.delivery.state, d.delivery.retry_of) for d in detail.deliveries] == [
        (first, State.FAILED, None), (second, State.QUEUED, None), (retry, State.QUEUED, first)]
    assert [(a.n, a.error) for a in detail.deliveries[0].attempts] == [(1, "timeout")]
    assert detail.deliveries[1].attempts == ()
    with pytest.raises(UnknownMessage):
        message_detail(store, "nope")


def _plan_text(store: Store, filters: Filters, *, counting: bool) -> str:
    found = plan(store.connection(), filters, counting=counting)
    select = "count(*)" if counting else HISTORY_COLUMNS
    order = "" if counting else " ORDER BY d.created_at DESC, d.id DESC LIMIT 100"
    rows = store.connection().execute(
        f"EXPLAIN QUERY PLAN SELECT {select} FROM {found.source}{found.where}{order}", found.params)
    return " | ".join(row["detail"] for row in rows)


@pytest.mark.parametrize("filters, index", [
    (Filters(), "deliveries_time"),
    (Filters(agent="Agent-1"), "deliveries_agent_time"),
    (Filters(state="failed"), "deliveries_state_time"),
    (Filters(agent="Agent-1", state="failed"), "deliveries_agent_state_time"),
    (Filters(since=datetime(2025, 1, 1, tzinfo=UTC)), "deliveries_time"),
    (Filters(agent="Agent-1", since=datetime(2025, 1, 1, tzinfo=UTC)), "deliveries_agent_time"),
])
def test_filters_are_served_by_an_index_in_display_order(store, ids, filters, index):
    listing = _plan_text(store, filters, counting=False)
    assert f"INDEX {index}" in listing and "TEMP B-TREE" not in listing, listing
    assert f"COVERING INDEX {index}" in _plan_text(store, filters, counting=True)


@pytest.mark.parametrize("agent", [None, "Agent-1"])
def test_text_plans_start_from_few_matches_and_walk_deliveries_for_many(store, ids, match_path, agent):
    listing = _plan_text(store, Filters(agent=agent, text="deploy"), counting=False)
    if match_path == "few":
        assert listing.startswith("SEARCH m USING INTEGER PRIMARY KEY"), listing
        assert "deliveries_message" in listing
    else:
        assert listing.startswith("SCAN d USING INDEX deliveries_time" if agent is None
                                  else "SEARCH d USING INDEX deliveries_agent_time"), listing
        assert "TEMP B-TREE" not in listing
