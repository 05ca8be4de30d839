"""Prometheus families of the agents' activity, read from the recorded events at each scrape.

- ``quarterdeck_agent_state{agent,state}``: 1 for the state each agent is in now, 0 for the others;
- ``quarterdeck_agent_state_seconds{agent,state}``: seconds spent in each state during the last
  hour (``window`` label ``1h``), from :mod:`quarterdeck.core.activity.timeline`.

Both are gauges: they are read back from the shared events table, which other processes write and
pruning trims, so no process could keep a counter of them monotonic. A table that cannot be read
gives no activity families for that scrape (logged), never a failed scrape.
"""
from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from quarterdeck.core.activity.journal import load_since
from quarterdeck.core.activity.state import STATES
from quarterdeck.core.activity.timeline import time_in_state
from quarterdeck.core.activity.tracks import reduce

log = logging.getLogger(__name__)

WINDOW_S = 3600.0


class ActivityCollector(Collector):
    """``agent_ids`` is called at every scrape, so agents added to the roster later show up."""

    def __init__(self, data_dir: Path, agent_ids: Callable[[], Sequence[str]], window: float = WINDOW_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.data_dir = data_dir
        self.agent_ids = agent_ids
        self.window = window
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        agents = list(self.agent_ids())
        try:
            events = load_since(self.data_dir, now - self.window)
        except (sqlite3.Error, OSError) as exc:
            log.warning("agent activity left out of the metrics: %s", exc)
            return
        current = reduce(events, agents, now=now)
        state = GaugeMetricFamily("quarterdeck_agent_state", "1 for the state the agent is in now, else 0.",
                                  labels=["agent", "state"])
        spent = GaugeMetricFamily("quarterdeck_agent_state_seconds",
                                  "Seconds the agent spent in each state during the window.",
                                  labels=["agent", "state", "window"])
        label = f"{self.window / 3600:g}h" if self.window % 3600 == 0 else f"{self.window:g}s"
        totals = time_in_state(events, agents, now - self.window, now)
        for agent in agents:
            for name in STATES:
                state.add_metric([agent, name], 1.0 if current[agent].state == name else 0.0)
                spent.add_metric([agent, name, label], round(totals[agent][name], 3))
        yield state
        yield spent
