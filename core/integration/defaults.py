"""The shared parts every coordinated call uses unless it is given its own.

One process-wide ``Monitor`` collects the metrics and one ``BreakerRegistry`` holds a breaker per
operation name, so two wrappers of the same operation share one breaker, and ``/metrics`` and
``/health`` see every operation without wiring. The registry opens an operation's breaker after
``BREAKER_FAILURES`` failed calls in a row and lets one trial call through after
``BREAKER_WAIT_S`` seconds. For other thresholds, pass a registry of your own, e.g.
``BreakerRegistry(BreakerConfig.from_threshold(3, wait_duration=10))``, to each piece.

Dead letters live in ``deadletters.sqlite3`` in the user data dir (``QUARTERDECK_DATA_DIR``
moves it); nothing is created until a store is opened.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from quarterdeck.core.monitor import Monitor
from quarterdeck.core.paths import user_data_dir
from quarterdeck.core.resilience import BreakerConfig, BreakerRegistry

__all__ = ["BREAKER_FAILURES", "BREAKER_WAIT_S", "DEAD_LETTER_FILE", "default_breakers",
           "default_dead_letter_path", "default_monitor"]

BREAKER_FAILURES = 5
BREAKER_WAIT_S = 30.0
DEAD_LETTER_FILE = "deadletters.sqlite3"

_MONITOR = Monitor()
_BREAKERS = BreakerRegistry(BreakerConfig.from_threshold(BREAKER_FAILURES, wait_duration=BREAKER_WAIT_S))


def default_monitor() -> Monitor:
    return _MONITOR


def default_breakers() -> BreakerRegistry:
    return _BREAKERS


def default_dead_letter_path(env: Mapping[str, str] | None = None) -> Path:
    return user_data_dir(env) / DEAD_LETTER_FILE
