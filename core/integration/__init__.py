"""The integration API: put Quarterdeck's validation, resilience and monitoring around your own code.

- ``@coordinate_operation``: validate a function's arguments, retry it with backoff behind a
  circuit breaker named after the operation, record its calls, times and last error;
- ``CoordinationServiceWrapper``: the same around every public method of an existing object;
- ``CoordinationMiddleware``: per-route JSON body rules (422), safe 500s with a correlation id,
  request metrics, ``/metrics`` and ``/health``, for WSGI (``.wsgi(app)``) and ASGI (``.asgi(app)``);
- ``CoordinationEventProcessor``: handlers per event type, with a SQLite dead-letter store that
  can be listed, replayed and purged (also ``quarterdeck deadletter``);
- ``CoordinationHealthChecker`` and ``CoordinationMetricsExporter``: the health tree and the
  Prometheus text of all of the above.

Shared defaults (one monitor, one breaker registry, the dead-letter file) are in ``defaults``.

The names are loaded from their modules when first used (module ``__getattr__``): importing one
submodule (``defaults``, ``deadletter``) no longer loads the middleware, the exporter and the rest.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quarterdeck.core.delivery.errors import PermanentError, RetryableError
    from quarterdeck.core.integration.deadletter import DeadLetter, DeadLetterStore
    from quarterdeck.core.integration.decorator import CoordinationServiceWrapper, coordinate_operation
    from quarterdeck.core.integration.defaults import default_breakers, default_dead_letter_path, default_monitor
    from quarterdeck.core.integration.events import CoordinationEventProcessor, EventResult, NoHandler
    from quarterdeck.core.integration.exporter import CoordinationMetricsExporter
    from quarterdeck.core.integration.health import CoordinationHealthChecker
    from quarterdeck.core.integration.middleware import CoordinationMiddleware
    from quarterdeck.core.integration.operation import Operation, Outcome
    from quarterdeck.core.integration.policy import ErrorConfig
    from quarterdeck.core.integration.rules import FieldRules, ValidationError
    from quarterdeck.core.integration.tracking import LastError, OperationTracker, tracker_for
    from quarterdeck.core.resilience import CallNotPermitted

_WHERE = {
    "PermanentError": "quarterdeck.core.delivery.errors",
    "RetryableError": "quarterdeck.core.delivery.errors",
    "DeadLetter": "quarterdeck.core.integration.deadletter",
    "DeadLetterStore": "quarterdeck.core.integration.deadletter",
    "CoordinationServiceWrapper": "quarterdeck.core.integration.decorator",
    "coordinate_operation": "quarterdeck.core.integration.decorator",
    "default_breakers": "quarterdeck.core.integration.defaults",
    "default_dead_letter_path": "quarterdeck.core.integration.defaults",
    "default_monitor": "quarterdeck.core.integration.defaults",
    "CoordinationEventProcessor": "quarterdeck.core.integration.events",
    "EventResult": "quarterdeck.core.integration.events",
    "NoHandler": "quarterdeck.core.integration.events",
    "CoordinationMetricsExporter": "quarterdeck.core.integration.exporter",
    "CoordinationHealthChecker": "quarterdeck.core.integration.health",
    "CoordinationMiddleware": "quarterdeck.core.integration.middleware",
    "Operation": "quarterdeck.core.integration.operation",
    "Outcome": "quarterdeck.core.integration.operation",
    "ErrorConfig": "quarterdeck.core.integration.policy",
    "FieldRules": "quarterdeck.core.integration.rules",
    "ValidationError": "quarterdeck.core.integration.rules",
    "LastError": "quarterdeck.core.integration.tracking",
    "OperationTracker": "quarterdeck.core.integration.tracking",
    "tracker_for": "quarterdeck.core.integration.tracking",
    "CallNotPermitted": "quarterdeck.core.resilience",
}

__all__ = [
    "CallNotPermitted",
    "CoordinationEventProcessor",
    "CoordinationHealthChecker",
    "CoordinationMetricsExporter",
    "CoordinationMiddleware",
    "CoordinationServiceWrapper",
    "DeadLetter",
    "DeadLetterStore",
    "ErrorConfig",
    "EventResult",
    "FieldRules",
    "LastError",
    "NoHandler",
    "Operation",
    "OperationTracker",
    "Outcome",
    "PermanentError",
    "RetryableError",
    "ValidationError",
    "coordinate_operation",
    "default_breakers",
    "default_dead_letter_path",
    "default_monitor",
    "tracker_for",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # found at once from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
