"""Prometheus text: parsed back, and checked line by line (the parser is too lenient alone)."""
from __future__ import annotations

import re

import pytest
from fakes import FakeClock
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from quarterdeck.core.monitor import Monitor
from quarterdeck.core.monitor.prometheus import CONTENT_TYPE, export_text, make_registry
from quarterdeck.core.resilience import BreakerConfig, BreakerRegistry

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')
NASTY = 'Agent "7" \\ tmux\nnext'


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def monitor(clock):
    m = Monitor(clock=clock)
    for seconds in (0.004, 0.3, 0.3, 2.0, 12.0):
        m.record_delivery("Agent-1", seconds < 10, seconds)
    m.record_delivery(NASTY, False, 0.05)
    m.gauge("queue_depth", "Messages waiting.", ("agent",)).labels("Agent-1").set(3)
    m.timer("paste_seconds", "Time to paste.").record(0.02)
    return m


@pytest.fixture
def breakers(clock):
    reg = BreakerRegistry(BreakerConfig.from_threshold(1, wait_duration=5), clock=clock)
    reg.get("closed")
    opened = reg.get("open")
    opened.on_error(opened.try_acquire(), "x")
    half = reg.get("half")
    half.on_error(half.try_acquire(), "x")
    clock.t += 5
    half.try_acquire()
    reg.get("disabled").disable()
    reg.get("forced").force_open()
    return reg


def structure(text: str) -> dict[str, dict]:
    """Check the layout rules and return {family: {"type": ..., "samples": [(name, labels, v)]}}."""
    assert text.endswith("\n") and not text.endswith("\n\n")
    families: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            assert name not in families, f"{name} is split or described twice"
            current = families[name] = {"type": None, "samples": []}
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name in families and families[name]["type"] is None, f"second TYPE for {name}"
            assert not families[name]["samples"], "TYPE must come before the samples"
            families[name]["type"] = kind
        else:
            match = SAMPLE.match(line)
            assert match, f"malformed sample line {line!r}"
            assert current is not None and match.group(1).startswith(
                next(reversed(families)).removesuffix("_total")), "family not contiguous"
            current["samples"].append((match.group(1), match.group(2) or "", match.group(3)))
    return families


def test_content_type_is_the_classic_text_format():
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"


def test_layout_names_and_types(monitor, breakers):
    text = export_text(monitor, breakers).decode("utf-8")
    families = structure(text)
    assert {n: f["type"] for n, f in families.items()} == {
        "quarterdeck_deliveries_total": "counter",
        "quarterdeck_delivery_seconds": "histogram",
        "quarterdeck_queue_depth": "gauge",
        "quarterdeck_paste_seconds": "histogram",
        "quarterdeck_breaker_state": "gauge",
        "quarterdeck_breaker_failure_ratio": "gauge",
        "quarterdeck_breaker_not_permitted_calls_total": "counter",
    }
    for name, family in families.items():
        assert NAME.match(name) and name.startswith("quarterdeck_")
        assert (family["type"] == "counter") is name.endswith("_total")
        for sample, labels, _ in family["samples"]:
            assert not sample.endswith("_created")
            for label in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', labels):
                assert not label.startswith("__")
    series = [(s, labels) for f in families.values() for s, labels, _ in f["samples"]]
    assert len(series) == len(set(series)), "a name plus label set appears twice"


def test_histogram_buckets_are_cumulative_and_end_at_count(monitor):
    families = {f.name: f for f in text_string_to_metric_families(export_text(monitor).decode())}
    hist = families["quarterdeck_delivery_seconds"]
    by_agent: dict[str, dict] = {}
    for s in hist.samples:
        row = by_agent.setdefault(s.labels["agent"], {"le": []})
        if s.name.endswith("_bucket"):
            row["le"].append((float(s.labels["le"]), s.value))
        else:
            row[s.name.rsplit("_", 1)[1]] = s.value
    row = by_agent["Agent-1"]
    bounds = [le for le, _ in row["le"]]
    counts = [c for _, c in row["le"]]
    assert bounds == sorted(bounds) and len(bounds) == 15 and bounds[-1] == float("inf")
    assert counts == sorted(counts) and counts[-1] == row["count"] == 5
    assert dict(row["le"])[0.005] == 1 and dict(row["le"])[0.5] == 3 and dict(row["le"])[10] == 4
    assert row["sum"] == pytest.approx(14.604)


def test_parsed_values_round_trip(monitor, breakers):
    families = {f.name: f for f in text_string_to_metric_families(
        export_text(monitor, breakers).decode())}
    deliveries = {(s.labels["agent"], s.labels["outcome"]): s.value
                  for s in families["quarterdeck_deliveries"].samples}
    assert deliveries == {("Agent-1", "ok"): 4, ("Agent-1", "failed"): 1,
                          (NASTY, "ok"): 0, (NASTY, "failed"): 1}
    states = {s.labels["agent"]: s.value for s in families["quarterdeck_breaker_state"].samples}
    assert states == {"closed": 0, "open": 1, "half": 2, "disabled": 3, "forced": 4}
    ratios = {s.labels["agent"]: s.value
              for s in families["quarterdeck_breaker_failure_ratio"].samples}
    assert ratios == {"open": 1.0}  # the others hold too few calls for a rate
    assert families["quarterdeck_queue_depth"].samples[0].value == 3


def test_label_values_are_escaped(monitor):
    text = export_text(monitor).decode()
    assert 'agent="Agent \\"7\\" \\\\ tmux\\nnext",outcome="failed"} 1.0\n' in text
    assert all(SAMPLE.match(line) or line.startswith("#") for line in text.splitlines())


def test_golden_bytes_for_a_tiny_monitor(clock):
    m = Monitor(clock=clock)
    m.histogram("size_bytes", "Message size.", buckets=(100, 1000)).observe(150)
    m.counter("sent", "Sent.\nSecond line \\ here.").inc(2)
    breakers = BreakerRegistry(clock=clock)
    assert export_text(m, breakers) == (
        b"# HELP quarterdeck_deliveries_total Deliveries by agent and outcome.\n"
        b"# TYPE quarterdeck_deliveries_total counter\n"
        b"# HELP quarterdeck_delivery_seconds Time per delivery, retries included.\n"
        b"# TYPE quarterdeck_delivery_seconds histogram\n"
        b"# HELP quarterdeck_size_bytes Message size.\n"
        b"# TYPE quarterdeck_size_bytes histogram\n"
        b'quarterdeck_size_bytes_bucket{le="100.0"} 0.0\n'
        b'quarterdeck_size_bytes_bucket{le="1000.0"} 1.0\n'
        b'quarterdeck_size_bytes_bucket{le="+Inf"} 1.0\n'
        b"quarterdeck_size_bytes_count 1.0\n"
        b"quarterdeck_size_bytes_sum 150.0\n"
        b"# HELP quarterdeck_sent_total Sent.\\nSecond line \\\\ here.\n"
        b"# TYPE quarterdeck_sent_total counter\n"
        b"quarterdeck_sent_total 2.0\n"
        b"# HELP quarterdeck_breaker_state Circuit breaker state: 0 closed, 1 open, 2 half-open,"
        b" 3 disabled, 4 forced open.\n"
        b"# TYPE quarterdeck_breaker_state gauge\n"
        b"# HELP quarterdeck_breaker_failure_ratio Failed share of the calls in the breaker's"
        b" window.\n"
        b"# TYPE quarterdeck_breaker_failure_ratio gauge\n"
        b"# HELP quarterdeck_breaker_not_permitted_calls_total Calls the breaker refused.\n"
        b"# TYPE quarterdeck_breaker_not_permitted_calls_total counter\n"
    )


def test_registries_are_private_and_reusable(monitor):
    registry = make_registry(monitor)
    other = make_registry(Monitor())
    assert registry is not other and registry is not REGISTRY
    labels = {"agent": "Agent-1", "outcome": "ok"}
    assert REGISTRY.get_sample_value("quarterdeck_deliveries_total", labels) is None
    assert registry.get_sample_value("quarterdeck_deliveries_total", labels) == 4
    monitor.record_delivery("Agent-1", True, 0.1)
    families = {f.name: f for f in registry.collect()}
    ok = [s.value for s in families["quarterdeck_deliveries"].samples
          if s.labels == {"agent": "Agent-1", "outcome": "ok"}]
    assert ok == [5]
    assert "Agent-1" not in export_text(Monitor()).decode()
