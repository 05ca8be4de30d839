"""CoordinationHealthChecker and CoordinationMetricsExporter over real operations."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from quarterdeck.core.integration import (
    CoordinationHealthChecker,
    CoordinationMetricsExporter,
    DeadLetterStore,
    coordinate_operation,
    default_breakers,
    default_monitor,
)
from quarterdeck.core.monitor.health import Health, Status
from quarterdeck.core.monitor.prometheus import CONTENT_TYPE
from quarterdeck.core.resilience import BreakerConfig, BreakerRegistry


def operation(name, monitor, breakers, outcomes):
    """A coordinated function that succeeds or fails per the next item of ``outcomes``."""
    plan = iter(outcomes)

    @coordinate_operation(operation_name=name, monitor=monitor, breakers=breakers,
                          error_config={"max_retries": 0})
    def call():
        if not next(plan):
            raise ConnectionError(f"{name} failed")
        return "ok"

    return call


def run(call, times):
    for _ in range(times):
        try:
            call()
        except Exception:
            pass


@pytest.fixture
def wide():
    """Breakers with a window of 4 calls that open at 75% failures."""
    return BreakerRegistry(BreakerConfig(failure_rate_threshold=75, window_size=4, minimum_calls=4,
                                         wait_duration=60, half_open_permits=1))


def test_each_operation_gets_a_spring_style_status(monitor, wide):
    run(operation("healthy", monitor, wide, [True] * 4), 4)
    run(operation("shaky", monitor, wide, [True, False, True, True]), 4)
    run(operation("broken", monitor, wide, [False] * 4), 5)
    wide.get("paused").force_open()
    wide.get("idle")
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    report = CoordinationHealthChecker(breakers=wide, monitor=monitor, now=lambda: when).check_health()
    assert report["timestamp"] == "2025-01-02T03:04:05+00:00"
    assert report["status"] == report["overall_status"] == "DOWN"
    parts = report["components"]["operations"]["components"]
    assert {name: part["status"] for name, part in parts.items()} == {
        "broken": "DOWN", "healthy": "UP", "idle": "UNKNOWN", "paused": "OUT_OF_SERVICE",
        "shaky": "DEGRADED"}
    assert parts["broken"]["details"]["calls"] == {"ok": 0, "failed": 4, "rejected": 1, "invalid": 0}
    assert parts["broken"]["details"]["last_error"]["error"] == "ConnectionError: broken failed"
    assert parts["broken"]["details"]["retry_in_s"] > 0
    assert parts["shaky"]["details"]["failure_rate"] == 0.25
    assert parts["healthy"]["details"]["last_error"] is None
    assert "reason" not in parts["healthy"]["details"]


def test_a_half_open_breaker_is_degraded(monitor):
    clock = [0.0]
    registry = BreakerRegistry(BreakerConfig.from_threshold(1, wait_duration=10), clock=lambda: clock[0])
    run(operation("probe", monitor, registry, [False]), 1)
    clock[0] = 11
    registry.get("probe").try_acquire()  # the lazy move to HALF_OPEN
    report = CoordinationHealthChecker(breakers=registry, monitor=monitor).check_health()
    assert report["components"]["operations"]["components"]["probe"]["status"] == "DEGRADED"


def test_dead_letters_and_own_components(monitor, breakers, tmp_path):
    with DeadLetterStore(tmp_path / "d.sqlite3") as store:
        checker = CoordinationHealthChecker(
            breakers=breakers, monitor=monitor, dead_letters=store,
            components={"database": lambda: Health(Status.UP, {"latency_ms": 3})})
        report = checker.check_health()
        assert report["status"] == "UP"
        assert report["components"]["dead_letters"] == {"status": "UP", "details": {"count": 0}}
        store.add("user.created", {}, reason="failed", error="e", attempts=4)
        report = checker.check_health()
        assert report["status"] == "DEGRADED"
        assert report["components"]["dead_letters"]["details"]["count"] == 1
        assert report["components"]["database"]["details"] == {"latency_ms": 3}


def test_the_exporter_writes_text_prometheus_can_parse(monitor, breakers, tmp_path):
    run(operation("charge", monitor, breakers, [True, False, False, True]), 3)
    breakers.get("refund")
    with DeadLetterStore(tmp_path / "d.sqlite3") as store:
        store.add("payment.failed", {}, reason="failed", error="e", attempts=1)
        store.add("payment.failed", {}, reason="failed", error="e", attempts=1)
        exporter = CoordinationMetricsExporter(monitor, breakers, store)
        text = exporter.export_metrics()
    assert exporter.content_type == CONTENT_TYPE
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in families.values() for s in f.samples}
    assert samples[("quarterdeck_operation_calls_total", (("operation", "charge"), ("outcome", "ok")))] == 1
    assert samples[("quarterdeck_operation_calls_total",
                    (("operation", "charge"), ("outcome", "failed")))] == 2
    assert samples[("quarterdeck_operation_seconds_count", (("operation", "charge"),))] == 3
    assert samples[("quarterdeck_operation_breaker_state", (("operation", "charge"),))] == 1  # OPEN
    assert samples[("quarterdeck_operation_breaker_state", (("operation", "refund"),))] == 0
    assert samples[("quarterdeck_operation_breaker_failure_ratio", (("operation", "charge"),))] == 1.0
    assert ("quarterdeck_operation_breaker_failure_ratio", (("operation", "refund"),)) not in samples
    assert samples[("quarterdeck_dead_letters", (("event_type", "payment.failed"),))] == 2
    assert samples[("quarterdeck_operation_last_error_timestamp_seconds",
                    (("operation", "charge"),))] > 1.6e9


def test_the_defaults_are_shared_process_wide():
    exporter, checker = CoordinationMetricsExporter(), CoordinationHealthChecker()
    assert exporter.monitor is default_monitor() is checker.monitor
    assert exporter.breakers is default_breakers() is checker.breakers
    assert list(text_string_to_metric_families(exporter.export_metrics()))
    assert checker.check_health()["status"] in {s.value for s in Status}
