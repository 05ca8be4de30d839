"""Quarterdeck: a desktop control panel for a captain coordinating a swarm of AI coding agents.

Installed, everything lives under this package: ``quarterdeck.core`` (Qt-free: rules,
validation, the outbox, delivery, monitoring, the integration API), ``quarterdeck.gui`` (the
panel) and ``quarterdeck.cli`` (the ``quarterdeck`` command). The integration API is importable
from here as well, loaded on first use so that ``import quarterdeck`` stays cheap::

    from quarterdeck import coordinate_operation, CoordinationHealthChecker
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_INTEGRATION = "quarterdeck.core.integration"
_LAZY = {
    "coordinate_operation": _INTEGRATION,
    "CoordinationServiceWrapper": _INTEGRATION,
    "CoordinationMiddleware": _INTEGRATION,
    "CoordinationEventProcessor": _INTEGRATION,
    "CoordinationHealthChecker": _INTEGRATION,
    "CoordinationMetricsExporter": _INTEGRATION,
}

__all__ = [
    "CoordinationEventProcessor",
    "CoordinationHealthChecker",
    "CoordinationMetricsExporter",
    "CoordinationMiddleware",
    "CoordinationServiceWrapper",
    "__version__",
    "coordinate_operation",
]

if TYPE_CHECKING:
    from quarterdeck.core.integration import (
        CoordinationEventProcessor,
        CoordinationHealthChecker,
        CoordinationMetricsExporter,
        CoordinationMiddleware,
        CoordinationServiceWrapper,
        coordinate_operation,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'quarterdeck' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
