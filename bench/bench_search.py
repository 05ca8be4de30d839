"""History search over a big history: the first page of each kind of query, as the panel asks for it.

Usage: python bench/bench_search.py [DELIVERIES] [--cache DIR] [--runs N] [--plans]

The history (default 1,000,000 deliveries, bench_store's filler) is built once and kept in
``--cache`` (default ``~/.cache/quarterdeck-bench``); building it takes a minute or two and is
reported. Then, for each query kind, it prints the median and best of N runs of:

- page: the first page as the history panel loads it (``paging.page``, 251 lines, newest first);
- count<=1000: ``count(at_most=1000)``, what a view showing "1,000+" needs;
- count: the exact count (what the panel asks for after the first page today).

Each figure sits beside two baselines measured in the same run: bare Python (``python -c pass``)
and the first page with no filter at all (an index walk; what any page costs at least). The
target is a common word's first page within 50 ms. ``--plans`` prints each query's SQL plan.
Prints figures only; nothing here asserts.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from bench_store import RARE, ensure_history  # noqa: E402

from quarterdeck.core.store import Store, count  # noqa: E402
from quarterdeck.core.store.paging import PAGE, page  # noqa: E402
from quarterdeck.core.store.query import Filters  # noqa: E402

LAST_DAY = datetime(2025, 6, 29, tzinfo=UTC)
A_WEEK_IN_MARCH = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 8, tzinfo=UTC))
CASES = [
    ("common word (30%)", Filters(text="kalo")),
    ("common word, 3 letters", Filters(text="kal")),
    ("mid word (25%)", Filters(text="quelvo")),
    ("two words (6%)", Filters(text="kalo vosun")),
    ("phrase (1.4%)", Filters(text='"kalo ren"')),
    ("rare word (21)", Filters(text=RARE)),
    ("common + agent", Filters(agent="Agent-3", text="kalo")),
    ("common + state failed", Filters(state="failed", text="kalo")),
    ("common + state uncertain", Filters(state="uncertain", text="kalo")),
    ("common + last day", Filters(since=LAST_DAY, text="kalo")),
    ("common + a week in March", Filters(since=A_WEEK_IN_MARCH[0], until=A_WEEK_IN_MARCH[1], text="kalo")),
    ("rare + agent", Filters(agent="Agent-3", text=RARE)),
    ("short terms (LIKE, 1%)", Filters(text="你好 🚀")),
]


def timed(call: Callable[[], object], runs: int) -> tuple[float, float, object]:
    samples, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - started) * 1e3)
    return statistics.median(samples), min(samples), result


def bare_python(runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        samples.append((time.perf_counter() - started) * 1e3)
    return statistics.median(samples)


def show_plans(store: Store, filters: Filters) -> None:
    conn = store.connection()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        page(store, filters, limit=PAGE + 1)
    finally:
        conn.set_trace_callback(None)
    for sql in statements:
        if sql.startswith(("SELECT", "WITH")):
            print(f"      {sql[:160]}{'…' if len(sql) > 160 else ''}")
            steps = [str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
            ranges = sum(1 for step in steps if step.startswith("SCAN messages_fts VIRTUAL TABLE INDEX 0:"))
            for step in steps:
                if step.startswith("LIST SUBQUERY") or step.startswith("SCAN messages_fts VIRTUAL TABLE INDEX 0:"):
                    continue
                print(f"        {step}")
            if ranges:
                print(f"        + {ranges} seq ranges of matches, each read from messages_fts (rowid range) "
                      "only when the walk first reaches it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("deliveries", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "quarterdeck-bench")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--plans", action="store_true", help="print each query's SQL and its plan")
    args = parser.parse_args()
    path = ensure_history(args.cache, args.deliveries)
    python_ms = bare_python(5)
    with Store(path) as store:
        page(store, Filters(text="kalo"), limit=PAGE + 1)  # warm the page cache once
        floor_ms, _, _ = timed(lambda: page(store, limit=PAGE + 1), args.runs)
        print(f"baselines: bare Python (python -c pass) {python_ms:.0f} ms; first page, no filter {floor_ms:.1f} ms")
        print(f"first page = {PAGE + 1} lines newest first, as the history panel asks; median / best of "
              f"{args.runs}, ms")
        print(f"  {'query':28} {'page':>13} {'count<=1000':>13} {'count':>15} {'matches':>9}")
        for label, filters in CASES:
            page_ms, page_best, _ = timed(lambda f=filters: page(store, f, limit=PAGE + 1), args.runs)
            capped_ms, capped_best, _ = timed(lambda f=filters: count(store, at_most=1000, **vars(f)), args.runs)
            exact_ms, exact_best, total = timed(lambda f=filters: count(store, **vars(f)), 3)
            print(f"  {label:28} {page_ms:6.1f} /{page_best:5.1f} {capped_ms:6.1f} /{capped_best:5.1f} "
                  f"{exact_ms:7.1f} /{exact_best:6.1f} {total:>9,}")
            if args.plans:
                show_plans(store, filters)


if __name__ == "__main__":
    main()
