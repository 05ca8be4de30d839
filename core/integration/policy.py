"""How a coordinated call treats errors: which ones to retry, how long to wait, how loudly to log.

``ErrorConfig.of({"max_retries": 3, "error_severity": "MEDIUM"})`` accepts these keys:

- ``max_retries`` (3): retries after the first attempt, so 3 means up to 4 attempts;
- ``base_delay`` (0.5 s), ``backoff_multiplier`` (2.0), ``max_delay`` (30 s), ``jitter`` (0 s):
  the wait before retry n is ``min(max_delay, base_delay * backoff_multiplier ** (n - 1) +
  uniform(0, jitter))``, the schedule of ``quarterdeck.core.resilience.RetryPolicy``;
- ``total_budget`` (None): no retry starts if the time spent plus the coming wait would reach it;
- ``retry_on`` (``ConnectionError``, ``TimeoutError``): the exception classes worth another
  attempt. Core's ``RetryableError`` and ``PermanentError`` always carry their own verdict,
  and a breaker refusal (``CallNotPermitted``) is never retried;
- ``error_severity`` (MEDIUM): LOW, MEDIUM, HIGH or CRITICAL; the log level of a call that
  finally fails (INFO, WARNING, ERROR, CRITICAL) and part of its last-error record.

The breaker's thresholds are not here: they belong to the ``BreakerRegistry`` that the operation's
breaker comes from (one config per registry), see ``quarterdeck.core.integration.defaults``.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from quarterdeck.core.delivery.errors import DeliveryError
from quarterdeck.core.resilience import CallNotPermitted
from quarterdeck.core.resilience.retry import RetryPolicy

__all__ = ["DEFAULT_RETRY_ON", "SEVERITY_LEVELS", "ErrorConfig"]

DEFAULT_RETRY_ON: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)
SEVERITY_LEVELS: Mapping[str, int] = {"LOW": logging.INFO, "MEDIUM": logging.WARNING,
                                      "HIGH": logging.ERROR, "CRITICAL": logging.CRITICAL}


@dataclass(frozen=True)
class ErrorConfig:
    max_retries: int = 3
    base_delay: float = 0.5
    backoff_multiplier: float = 2.0
    max_delay: float = 30.0
    jitter: float = 0.0
    total_budget: float | None = None
    retry_on: tuple[type[BaseException], ...] = DEFAULT_RETRY_ON
    error_severity: str = "MEDIUM"

    def __post_init__(self) -> None:
        severity = str(self.error_severity).upper()
        if severity not in SEVERITY_LEVELS:
            raise ValueError(f"error_severity must be one of {', '.join(SEVERITY_LEVELS)}, "
                             f"not {self.error_severity!r}")
        object.__setattr__(self, "error_severity", severity)
        retry_on = self.retry_on
        retry_on = (retry_on,) if isinstance(retry_on, type) else tuple(retry_on)
        if not all(isinstance(t, type) and issubclass(t, BaseException) for t in retry_on):
            raise ValueError(f"retry_on takes exception classes, not {retry_on!r}")
        object.__setattr__(self, "retry_on", retry_on)
        object.__setattr__(self, "policy", RetryPolicy(
            max_retries=self.max_retries, base_delay=self.base_delay,
            multiplier=self.backoff_multiplier, max_delay=self.max_delay, jitter=self.jitter,
            total_budget=self.total_budget))

    #: Derived in ``__post_init__`` (``RetryPolicy`` checks the numbers).
    policy: RetryPolicy = field(init=False, repr=False, compare=False)

    @classmethod
    def of(cls, config: ErrorConfig | Mapping[str, Any] | None) -> ErrorConfig:
        """An ``ErrorConfig`` from a mapping (unknown keys are refused), or ``config`` itself."""
        if isinstance(config, ErrorConfig):
            return config
        config = dict(config or {})
        known = [f.name for f in fields(cls) if f.init]
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise ValueError(f"unknown error_config key(s) {', '.join(map(repr, unknown))}; "
                             f"known keys: {', '.join(known)}")
        return cls(**config)

    @property
    def log_level(self) -> int:
        return SEVERITY_LEVELS[self.error_severity]

    def retryable(self, error: BaseException) -> bool:
        """Whether another attempt could help after ``error`` (see the module docstring)."""
        if isinstance(error, CallNotPermitted):
            return False
        if isinstance(error, DeliveryError):
            return error.retryable
        return isinstance(error, self.retry_on)
