"""Python's thread tracer for QThreads: coverage (and debuggers) install their tracer on threads
started by ``threading`` only, so code on a QThread runs untraced unless it adopts it. PySide
gives each call from a Qt thread a fresh Python thread state, so adopt it in every slot that
runs there."""
from __future__ import annotations

import sys
import threading


def adopt_tracer() -> None:  # pragma: no cover (it runs before the tracer does)
    """Call first thing on a QThread: use the tracer ``threading`` gives its own threads, if any."""
    tracer = threading.gettrace()
    if tracer is not None and sys.gettrace() is None:
        sys.settrace(tracer)
