"""Monitor: metric primitives, exact percentiles, bounded buffers, sampling, thread safety."""
from __future__ import annotations

import json
import math
import threading
from collections import deque

import numpy as np
import pytest
from fakes import FakeClock
from hypothesis import given
from hypothesis import strategies as st

from quarterdeck.core.monitor import Monitor, RingSeries, RollingWindow, percentiles


@pytest.fixture
def clock():
    return FakeClock(500.0)


@pytest.fixture
def monitor(clock):
    return Monitor(collection_interval=1.0, max_data_points=5, window_size=100,
                   rate_window=10.0, clock=clock)


def test_counters_only_go_up(monitor):
    c = monitor.counter("messages_total", "Messages.")
    assert c.name == "messages"  # the exporter adds _total back
    c.inc()
    c.inc(2.5)
    with pytest.raises(ValueError):
        c.inc(-1)
    assert c.samples() == [((), 3.5)]


def test_labels_by_position_or_name_and_bounded(clock):
    m = Monitor(max_series=2, clock=clock)
    c = m.counter("sent", "", ("agent", "outcome"))
    c.labels("A", "ok").inc()
    c.labels(outcome="ok", agent="A").inc()
    assert c.labels("A", "ok").value == 2
    for bad in (lambda: c.labels("A"), lambda: c.labels(agent="A"), lambda: c.inc(),
                lambda: c.labels("A", "ok", outcome="x")):
        with pytest.raises(ValueError):
            bad()
    c.labels("B", "ok")
    with pytest.raises(ValueError, match="more than 2"):
        c.labels("C", "ok")


@pytest.mark.parametrize("name, labels", [("9lives", ()), ("a-b", ()), ("ok", ("__x",)),
                                          ("ok", ("a b",)), ("ok", ("a", "a"))])
def test_bad_names_are_refused(monitor, name, labels):
    with pytest.raises(ValueError):
        monitor.gauge(name, "", labels)


def test_asking_twice_returns_the_same_family_and_kinds_cannot_clash(monitor):
    g = monitor.gauge("queue_depth", "", ("agent",))
    assert monitor.gauge("queue_depth", "", ("agent",)) is g
    with pytest.raises(ValueError):
        monitor.counter("queue_depth", "", ("agent",))
    with pytest.raises(ValueError):
        monitor.gauge("queue_depth", "", ("other",))


def test_gauges_move_both_ways(monitor):
    g = monitor.gauge("queue_depth")
    g.set(5)
    g.inc(2)
    g.dec(4)
    assert g.samples() == [((), 3.0)]


def test_histogram_buckets_are_upper_inclusive(monitor):
    h = monitor.histogram("size_bytes", buckets=(1, 10, 100))
    for v in (0.5, 1, 1.0001, 10, 100, 1e6):
        h.observe(v)
    ((_, (counts, total, count)),) = h.samples()
    assert counts == (2, 2, 1, 1) and count == 6 and total == pytest.approx(1e6 + 112.5001)
    with pytest.raises(ValueError):
        monitor.histogram("bad", buckets=(2, 1))
    with pytest.raises(ValueError):
        monitor.histogram("bad2", "", ("le",))


def test_timers_measure_with_the_monitor_clock(monitor, clock):
    t = monitor.timer("step_seconds", "", ("step",))
    with t.labels("paste").time():
        clock.t += 0.25
    with pytest.raises(KeyError):
        with t.labels("paste").time():
            clock.t += 0.5
            raise KeyError("still recorded")
    t.labels("paste").record(1.0)
    stats = t.labels("paste").stats()
    assert (stats["samples"], stats["p50"], stats["p99"]) == (3, 0.5, pytest.approx(0.99))
    with pytest.raises(ValueError):
        monitor.timer("step")


@pytest.mark.parametrize("n", [1, 2, 3, 7, 100, 1001])
def test_percentiles_match_numpy_linear(n):
    values = np.sort(np.random.default_rng(n).lognormal(0, 1, n))
    qs = [0, 1, 25, 50, 90, 95, 99, 99.9, 100]
    assert percentiles(values, qs) == pytest.approx(np.percentile(values, qs, method="linear"))


def test_percentiles_of_nothing_are_none_and_q_is_checked():
    assert percentiles(np.array([]), [50, 99]) == [None, None]
    with pytest.raises(ValueError):
        percentiles(np.array([1.0]), [101])


@given(st.integers(1, 8), st.lists(st.floats(-1e6, 1e6), max_size=40))
def test_ring_series_holds_the_newest_points_in_order(capacity, values):
    ring, model = RingSeries(capacity), deque(maxlen=capacity)
    for i, v in enumerate(values):
        ring.append(float(i), v)
        model.append((float(i), v))
        t, got = ring.view()
        assert list(zip(t.tolist(), got.tolist(), strict=True)) == list(model)
        assert t.flags.c_contiguous and not got.flags.writeable


@given(st.integers(1, 8), st.lists(st.floats(0, 100), max_size=40))
def test_rolling_window_keeps_the_last_samples(capacity, values):
    window, model = RollingWindow(capacity), deque(maxlen=capacity)
    for i, v in enumerate(values):
        window.add(float(i), v, i % 3 != 0)
        model.append((float(i), v, i % 3 != 0))
    t, v, ok = window.arrays()
    assert list(zip(t.tolist(), v.tolist(), ok.tolist(), strict=True)) == list(model) and len(window) == len(model)


def test_delivery_stats_per_agent_and_overall(monitor, clock):
    for i in range(10):
        clock.t += 1
        monitor.record_delivery("A", i % 5 != 0, 0.1 * (i + 1))
    monitor.record_delivery("B", False, 2.0)
    a = monitor.delivery_stats("A")
    assert (a["ok"], a["failed"], a["samples"]) == (8, 2, 10)
    assert a["p50"] == pytest.approx(np.percentile(np.arange(1, 11) / 10, 50))
    assert a["failure_rate"] == pytest.approx(0.2) and a["throughput"] == pytest.approx(1.0)
    overall = monitor.delivery_stats()
    assert (overall["ok"], overall["failed"], overall["recent"]) == (8, 3, 11)
    clock.t += 100  # everything is older than the 10 s rate window now
    later = monitor.delivery_stats("A")
    assert (later["throughput"], later["failure_rate"], later["samples"]) == (0.0, None, 10)
    assert monitor.delivery_stats("nobody")["p95"] is None


def test_throughput_uses_the_span_a_full_window_covers(clock):
    m = Monitor(window_size=10, rate_window=60.0, clock=clock)
    for _ in range(30):
        clock.t += 0.5
        m.record_delivery("A", True, 0.01)
    # 30 events in 15 s; the window only holds the last 10, spanning 4.5 s
    assert m.delivery_stats("A")["throughput"] == pytest.approx(10 / 4.5)


def test_sampling_fills_bounded_series(monitor, clock):
    assert monitor.maybe_sample()
    assert not monitor.maybe_sample()  # within the interval
    for _i in range(7):
        clock.t += 1
        monitor.record_delivery("A", True, 0.5)
        assert monitor.maybe_sample()
    t, v = monitor.series("deliveries", {"outcome": "ok", "agent": "A"})
    assert t.tolist() == [503.0, 504.0, 505.0, 506.0, 507.0] and v.tolist() == [3, 4, 5, 6, 7]
    t, v = monitor.series("delivery_p95_seconds", {"agent": "A"})
    assert v.tolist() == [0.5] * 5
    _, count = monitor.series("delivery_seconds_count", {"agent": "A"})
    assert count[-1] == 7
    _, first_overall = monitor.series("delivery_throughput")
    assert len(first_overall) == 5 and not np.isnan(first_overall).any()
    assert monitor.series("never_sampled")[0].size == 0


def test_undefined_values_are_sampled_as_nan_and_copies_stay_put(monitor, clock):
    monitor.sample()
    _, p99 = monitor.series("delivery_p99_seconds")
    assert math.isnan(p99[0])
    before_t, _ = monitor.series("delivery_p99_seconds")
    clock.t += 1
    monitor.sample()
    assert before_t.tolist() == [500.0]
    assert ("delivery_p99_seconds", ()) in monitor.series_keys()


def test_run_sampler_samples_until_stopped(monitor):
    class Ticks:
        def __init__(self):
            self.left = 3

        def wait(self, interval):
            self.left -= 1
            return self.left < 0

    monitor.run_sampler(Ticks())
    assert len(monitor.series("delivery_throughput")[0]) == 3


def test_concurrent_recording_loses_nothing(clock):
    m = Monitor(window_size=50, clock=clock)
    c = m.counter("ticks")
    start = threading.Barrier(8)

    def work(agent):
        start.wait()
        for i in range(5000):
            m.record_delivery(agent, i % 4 != 0, 0.01)
            c.inc()

    threads = [threading.Thread(target=work, args=(f"A{i % 4}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    overall = m.delivery_stats()
    assert (overall["ok"], overall["failed"], overall["samples"]) == (30_000, 10_000, 50)
    assert c.samples() == [((), 40_000.0)]
    counts = {values: state[2] for values, state in m.delivery_seconds.samples()}
    assert counts == {(f"A{i}",): 10_000 for i in range(4)}


def test_snapshot_is_strict_json(monitor, clock):
    monitor.record_delivery("A", True, 0.3)
    monitor.gauge("queue_depth").set(2)
    snap = json.loads(json.dumps(monitor.snapshot(), allow_nan=False))
    assert snap["agents"]["A"]["ok"] == 1 and snap["deliveries"]["p99"] == 0.3
    hist = next(m for m in snap["metrics"] if m["name"] == "delivery_seconds")
    row = hist["samples"][0]
    assert row["labels"] == {"agent": "A"} and row["buckets"]["0.25"] == 0
    assert row["buckets"]["0.5"] == row["buckets"]["+Inf"] == row["count"] == 1


def test_monitor_rejects_nonsense_settings():
    with pytest.raises(ValueError):
        Monitor(collection_interval=0)
    with pytest.raises(ValueError):
        Monitor(max_data_points=0)
