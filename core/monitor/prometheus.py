"""Prometheus text export of a ``Monitor`` (and optionally the agents' breakers).

The monitor keeps its own store; a collector translates it into metric families only when
scraped, in a private registry, so nothing here touches the hot path or the global registry.
Every name gets the ``quarterdeck_`` prefix, counters end in ``_total``, durations are seconds.

Breakers add, per agent: ``quarterdeck_breaker_state`` (CLOSED 0, OPEN 1, HALF_OPEN 2,
DISABLED 3, FORCED_OPEN 4), ``quarterdeck_breaker_failure_ratio`` (0-1, left out while the window
holds too few calls) and ``quarterdeck_breaker_not_permitted_calls_total``.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import accumulate

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from quarterdeck.core.monitor import Monitor
from quarterdeck.core.monitor.metrics import Histogram, check_metric_name
from quarterdeck.core.resilience.breaker import CircuitBreaker

__all__ = ["CONTENT_TYPE", "PREFIX", "MonitorCollector", "export_text", "make_registry"]

# The classic text format; the library's "latest" announces a newer version some scrapers reject.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
PREFIX = "quarterdeck_"

_KINDS = {"counter": CounterMetricFamily, "gauge": GaugeMetricFamily}


class MonitorCollector(Collector):
    def __init__(self, monitor: Monitor, breakers: Iterable[CircuitBreaker] | None = None) -> None:
        self.monitor = monitor
        self.breakers = breakers

    def collect(self) -> Iterator[Metric]:
        for family in self.monitor.families():
            name = check_metric_name(PREFIX + family.name)
            samples = family.samples()
            if isinstance(family, Histogram):
                metric = HistogramMetricFamily(name, family.help, labels=family.labelnames)
                # floatToGoString has no annotations in prometheus_client
                les = [floatToGoString(b) for b in family.bounds] + ["+Inf"]  # type: ignore[no-untyped-call]
                for values, (counts, total, _count) in samples:
                    metric.add_metric(list(values), list(zip(les, accumulate(counts), strict=False)), total)
            else:
                metric = _KINDS[family.kind](name, family.help, labels=family.labelnames)
                for values, value in samples:
                    metric.add_metric(list(values), value)
            yield metric
        if self.breakers is not None:
            yield from self._breaker_families()

    def _breaker_families(self) -> Iterator[Metric]:
        if self.breakers is None:
            return iter(())
        return breaker_families(self.breakers, "breaker", "agent")


def make_registry(monitor: Monitor, breakers: Iterable[CircuitBreaker] | None = None,
                  extra: Iterable[Collector] = ()) -> CollectorRegistry:
    """A private registry holding one collector for ``monitor`` and the ``extra`` ones (the
    agents' activity); keep it for repeated scrapes."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MonitorCollector(monitor, breakers))
    for collector in extra:
        registry.register(collector)
    return registry


def export_text(monitor: Monitor, breakers: Iterable[CircuitBreaker] | None = None) -> bytes:
    """The whole exposition in the text format, to be served as ``CONTENT_TYPE``."""
    return generate_latest(make_registry(monitor, breakers))


def breaker_families(breakers: Iterable[CircuitBreaker], stem: str, label: str, what: str = "breaker",
                     title: str = "Circuit breaker") -> Iterator[Metric]:
    """State, failure ratio and refused calls of each breaker, labelled ``label`` by its name
    (``<prefix><stem>_state`` ...): the agents' breakers here, the operations' in integration."""
    state = GaugeMetricFamily(
        PREFIX + stem + "_state",
        f"{title} state: 0 closed, 1 open, 2 half-open, 3 disabled, 4 forced open.",
        labels=[label])
    ratio = GaugeMetricFamily(PREFIX + stem + "_failure_ratio",
                              f"Failed share of the calls in the {what}'s window.", labels=[label])
    refused = CounterMetricFamily(PREFIX + stem + "_not_permitted_calls",
                                  f"Calls the {what} refused.", labels=[label])
    for breaker in breakers:
        snap = breaker.snapshot()
        state.add_metric([snap.name], int(snap.state))
        if snap.failure_rate >= 0:
            ratio.add_metric([snap.name], snap.failure_rate / 100)
        refused.add_metric([snap.name], snap.not_permitted)
    return iter((state, ratio, refused))
