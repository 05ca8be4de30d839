"""Fixtures for the tests on a real display: xterm windows as chat panes and a clean clipboard."""
from __future__ import annotations

import pytest
from xterm_desk import XtermPool, missing_tools


@pytest.fixture
def xterms(tmp_path):
    """``xterms(n)`` starts n xterms and returns them once each is mapped and its cat is reading."""
    missing = missing_tools()
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    pool = XtermPool(tmp_path)
    yield pool.start
    pool.close()


@pytest.fixture
def empty_clipboard():
    """Start and end with an empty clipboard, leaving no detached xclip behind."""
    from core.delivery.clipboard import EMPTY, XclipClipboard

    if "xclip" in missing_tools():
        pytest.skip("missing tools: xclip")
    XclipClipboard().restore(EMPTY)
    yield
    XclipClipboard().restore(EMPTY)
