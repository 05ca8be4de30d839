"""Fixtures for the tests on a real display: xterm and Chromium windows as chat panes, a clean clipboard."""
from __future__ import annotations

import pytest
from chromium_desk import ChromiumDesk
from chromium_desk import missing_tools as missing_chromium_tools
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
def chromium_chats(tmp_path):
    """One Chromium browser whose chat windows a test opens: ``chromium_chats(2, kind="textarea",
    variant="ignore-enter")`` returns two ``ChatWindow``s (window id, pid, ``input_point``,
    ``value()``, ``submissions()``); calls add windows to the same browser process
    (``chromium_chats.pid``). Ends the browser and removes its profile afterwards."""
    yield from _chromium_desk(tmp_path)


@pytest.fixture
def chromium_plain(tmp_path):
    """Like ``chromium_chats``, but the browser runs without accessibility (no
    ``ACCESSIBILITY_ENABLED``, ``--disable-renderer-accessibility``): nothing to read back."""
    yield from _chromium_desk(tmp_path, accessibility=False)


@pytest.fixture(scope="module")
def chromium_module(tmp_path_factory):
    """Like ``chromium_chats``, shared by a module's tests (Chromium takes 1-2 s to start)."""
    yield from _chromium_desk(tmp_path_factory.mktemp("chromium"))


def _chromium_desk(folder, **options):
    missing = missing_chromium_tools()
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    desk = ChromiumDesk(folder, **options)
    try:
        yield desk
    finally:
        desk.close()


@pytest.fixture
def empty_clipboard():
    """Start and end with an empty clipboard, leaving no detached xclip behind."""
    from quarterdeck.core.desktop.clipboard.snapshot import EMPTY
    from quarterdeck.core.desktop.clipboard.xclip import XclipClipboard

    if "xclip" in missing_tools():
        pytest.skip("missing tools: xclip")
    XclipClipboard().restore(EMPTY)
    yield
    XclipClipboard().restore(EMPTY)
