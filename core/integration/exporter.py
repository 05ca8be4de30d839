"""Prometheus text for the coordinated operations: the monitor's families plus breakers and dead letters.

The monitor is exported by core's ``MonitorCollector`` (so ``quarterdeck_operation_calls_total``,
``quarterdeck_operation_seconds`` and ``quarterdeck_http_requests_total`` appear as recorded). The
operation breakers are exported here, labelled ``operation`` rather than core's ``agent``:

- ``quarterdeck_operation_breaker_state{operation}``: 0 closed, 1 open, 2 half-open, 3 disabled,
  4 forced open;
- ``quarterdeck_operation_breaker_failure_ratio{operation}``: 0-1, left out below the window's
  minimum of calls;
- ``quarterdeck_operation_breaker_not_permitted_calls_total{operation}``;
- ``quarterdeck_dead_letters{event_type}``: events waiting for a replay (with a store only).

Everything lives in a private registry, never the global one, and is read only when scraped.
"""
from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from quarterdeck.core.integration.deadletter import DeadLetterStore
from quarterdeck.core.integration.defaults import default_breakers, default_monitor
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.monitor.prometheus import CONTENT_TYPE, PREFIX, MonitorCollector, breaker_families
from quarterdeck.core.resilience import BreakerRegistry

__all__ = ["CONTENT_TYPE", "CoordinationMetricsExporter", "OperationCollector"]


class OperationCollector(Collector):
    def __init__(self, breakers: BreakerRegistry, dead_letters: DeadLetterStore | None = None) -> None:
        self.breakers = breakers
        self.dead_letters = dead_letters

    def collect(self) -> Iterator[Metric]:
        yield from breaker_families(self.breakers, "operation_breaker", "operation", "operation breaker",
                                    "Operation breaker")
        if self.dead_letters is not None:
            waiting = GaugeMetricFamily(PREFIX + "dead_letters", "Events waiting for a replay.",
                                        labels=["event_type"])
            for event_type, count in sorted(self.dead_letters.counts().items()):
                waiting.add_metric([event_type], count)
            yield waiting


class CoordinationMetricsExporter:
    """``export_metrics()`` is the text to serve as ``content_type`` at ``/metrics``."""

    content_type = CONTENT_TYPE

    def __init__(self, monitor: Monitor | None = None, breakers: BreakerRegistry | None = None,
                 dead_letters: DeadLetterStore | None = None) -> None:
        self.monitor = monitor if monitor is not None else default_monitor()
        self.breakers = breakers if breakers is not None else default_breakers()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(MonitorCollector(self.monitor))
        self.registry.register(OperationCollector(self.breakers, dead_letters))

    def export_bytes(self) -> bytes:
        return generate_latest(self.registry)

    def export_metrics(self) -> str:
        return self.export_bytes().decode("utf-8")
