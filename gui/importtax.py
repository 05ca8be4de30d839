"""A lighter PySide6 import hook: the panel starts some 0.1 s sooner.

Once PySide6 is imported it replaces ``__import__``, and for every module name imported from then
on (some 400 before the panel's first paint) it asks ``shibokensupport.feature._mod_uses_pyside``
whether the module's source mentions "PySide6" (to support ``from __feature__ import
snake_case``). That reads the source through ``inspect.getsource`` (the line cache, the module's
loader, every line split): about 0.2 ms a module, ~0.1 s at start (measured with
bench/bench_panel_start.py; napari found the same, napari/napari#8584). :func:`lighten` puts in
the same test made on the file's bytes (a ``.py`` file: ``b"PySide6" in`` its bytes, as the
original looks for ``"PySide6"`` in its text); anything else (no file, not a ``.py``, a file that
cannot be read) still goes to the original. Where PySide6 has no such function it does nothing.
tests/gui/test_panel_start.py checks both answer alike for every module loaded.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

_FEATURE = "shibokensupport.feature"


def file_mentions_pyside(module: ModuleType, fallback: Callable[[ModuleType], bool]) -> bool:
    """Whether ``module``'s ``.py`` file mentions PySide6 (``fallback(module)`` for anything else)."""
    path = getattr(module, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py"):
        return fallback(module)
    try:
        with open(path, "rb") as source:
            return b"PySide6" in source.read()
    except OSError:
        return fallback(module)


def lighten() -> bool:
    """Put the lighter test in PySide6's import hook (once PySide6 is imported); True if done."""
    feature: Any = sys.modules.get(_FEATURE)
    original = getattr(feature, "_mod_uses_pyside", None)
    if original is None or getattr(original, "lightened", False):
        return False

    def mod_uses_pyside(module: ModuleType) -> bool:
        return file_mentions_pyside(module, original)

    mod_uses_pyside.lightened = True  # type: ignore[attr-defined]
    mod_uses_pyside.original = original  # type: ignore[attr-defined]
    feature._mod_uses_pyside = mod_uses_pyside
    return True
