"""The clipboard helper against a real X server: exact round trips, restore, request counting."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from xterm_desk import clipboard_bytes, user_copies, wait_until

from quarterdeck.core.desktop.clipboard.backends import PyperclipClipboard, system_clipboard
from quarterdeck.core.desktop.clipboard.snapshot import EMPTY, ClipboardUnavailable, Snapshot
from quarterdeck.core.desktop.clipboard.xclip import XclipClipboard

ROOT = Path(__file__).resolve().parents[2]
TEXT = "line one é ß 你好 🚀\n\ttabbed $HOME `x` 'q' \"d\"\nno newline at the end"

pytestmark = pytest.mark.x11


def test_set_puts_exact_text_on_the_clipboard_and_restore_hands_back_the_users_text(empty_clipboard):
    user_copies("user text ✓\n".encode())
    clip = XclipClipboard()
    snapshot = clip.save()
    assert snapshot == Snapshot("UTF8_STRING", "user text ✓\n".encode())
    assert snapshot.text == "user text ✓\n"
    offer = clip.set(TEXT)
    assert clipboard_bytes() == TEXT.encode()
    assert clip.get() == TEXT
    clip.restore(snapshot, offer)
    assert clipboard_bytes() == "user text ✓\n".encode()
    assert not offer.owner


def test_an_empty_clipboard_is_restored_to_empty(empty_clipboard):
    clip = XclipClipboard()
    assert clip.save() == EMPTY and clip.get() is None
    offer = clip.set("temporary")
    assert clip.get() == "temporary"
    clip.restore(EMPTY, offer)
    assert clipboard_bytes() is None and clipboard_bytes("TARGETS") is None


def test_a_non_text_clipboard_is_restored_with_its_format(empty_clipboard):
    png = b"\x89PNG\r\n\x1a\n fake image bytes \x00\xff"
    user_copies(png, target="image/png")
    clip = XclipClipboard()
    snapshot = clip.save()
    assert snapshot == Snapshot("image/png", png) and snapshot.text is None
    clip.restore(snapshot, clip.set("text for a moment"))
    assert clipboard_bytes("TARGETS").split() == [b"TARGETS", b"image/png"]
    assert clipboard_bytes("image/png") == png


def test_restore_leaves_a_newer_copy_alone(empty_clipboard):
    user_copies(b"old")
    clip = XclipClipboard()
    snapshot = clip.save()
    offer = clip.set("ours")
    user_copies(b"copied while we pasted")
    wait_until(lambda: not offer.owner, "the offer to lose the clipboard")
    clip.restore(snapshot, offer)
    assert clipboard_bytes() == b"copied while we pasted"


def test_the_offer_counts_the_requests_it_served(empty_clipboard):
    clip = XclipClipboard()
    offer = clip.set("counted")
    try:
        before = offer.served
        assert before == 1  # set() read the text back once, and has counted that read
        assert not offer.wait_request(before, 0.1)
        assert clipboard_bytes() == b"counted"
        assert offer.wait_request(before, 5.0)
        assert offer.served == before + 1
    finally:  # a failed check must not leave xclip running
        clip.restore(EMPTY, offer)


def test_the_restored_owner_does_not_hold_the_callers_output_open(empty_clipboard):
    script = (
        "from quarterdeck.core.desktop.clipboard.backends import XclipClipboard, Snapshot\n"
        "c = XclipClipboard()\n"
        "c.restore(Snapshot('UTF8_STRING', b'kept after exit'), c.set('x'))\n"
        "print('done')\n"
    )
    # With the owner's output on our pipe, communicate() would wait for the owner to exit.
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                         cwd=ROOT, stdin=subprocess.DEVNULL)
    assert (out.returncode, out.stdout, out.stderr) == (0, "done\n", "")
    assert clipboard_bytes() == b"kept after exit"


def test_pyperclip_backend_round_trip(empty_clipboard):
    import pyperclip

    pyperclip.set_clipboard("xclip")
    clip = PyperclipClipboard()
    user_copies(b"before")
    snapshot = clip.save()
    assert clip.set(TEXT) is None
    assert clip.get() == TEXT
    clip.restore(snapshot)
    assert clipboard_bytes() == b"before"


def test_system_clipboard_is_the_process_owner_on_x11_else_xclip_which_it_needs(monkeypatch, tmp_path):
    from quarterdeck.core.desktop.clipboard import x11 as xclipboard

    assert isinstance(system_clipboard(), xclipboard.X11Clipboard)
    assert system_clipboard() is system_clipboard()

    def no_xlib():
        raise ImportError("No module named 'Xlib'")

    monkeypatch.setattr(xclipboard, "shared_x11_clipboard", no_xlib)
    assert isinstance(system_clipboard(), XclipClipboard)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ClipboardUnavailable, match="xclip is not installed"):
        system_clipboard()


@pytest.mark.skipif("DISPLAY" not in os.environ, reason="needs DISPLAY")
def test_set_fails_cleanly_when_xclip_cannot_own_the_clipboard(monkeypatch):
    from quarterdeck.core.desktop.clipboard.snapshot import ClipboardError

    monkeypatch.setenv("DISPLAY", ":999999")
    with pytest.raises(ClipboardError, match=r"xclip exited with status 1 .*open display"):
        XclipClipboard().set("nowhere")
