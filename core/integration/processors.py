"""Finding the event processor a ``MODULE:ATTR`` names, for replaying dead letters.

Like ``uvicorn app:app``, the module is looked up from the current directory too; a factory is
called to make the processor. Every problem is one ``ProcessorSpecError`` naming the spec.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

__all__ = ["ProcessorSpecError", "load_event_processor"]


class ProcessorSpecError(ValueError):
    """The spec names no module, no attribute, or not a processor: its message says which."""


def load_event_processor(spec: str) -> Any:
    """``MODULE:ATTR`` -> the event processor it names (called first if it is a factory)."""
    from quarterdeck.core.integration.events import CoordinationEventProcessor

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ProcessorSpecError(f"{spec!r}: give MODULE:ATTR, e.g. myapp.events:processor")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, "")  # like `python -m`, modules of the current directory are found
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ProcessorSpecError(f"{spec!r} cannot be loaded: {exc}") from exc
    if not isinstance(target, CoordinationEventProcessor) and callable(target):
        try:
            target = target()
        except Exception as exc:
            raise ProcessorSpecError(f"{spec!r}: calling it to make a processor failed: "
                                     f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(target, CoordinationEventProcessor):
        raise ProcessorSpecError(f"{spec!r} is not a CoordinationEventProcessor "
                                 f"(it is of type {type(target).__name__})")
    return target
