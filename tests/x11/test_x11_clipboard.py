"""The in-process clipboard owner against a real X server: what a paste took, and the handoff."""
from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from xterm_desk import clipboard_bytes, user_copies, wait_until  # user_copies returns once xclip serves the copy

from quarterdeck.core.desktop.clipboard.snapshot import EMPTY, ClipboardError, Snapshot
from quarterdeck.core.desktop.clipboard.x11 import X11Clipboard

ROOT = Path(__file__).resolve().parents[2]
TEXT = "line one é ß 你好 🚀\n\ttabbed $HOME `x` 'q' \"d\"\nno newline at the end"

pytestmark = pytest.mark.x11


@pytest.fixture
def clip(empty_clipboard):
    clip = X11Clipboard(handoff_after=30.0, unconfirmed=5.0)
    yield clip
    clip.close()


def _display():
    import warnings

    from Xlib import display

    with warnings.catch_warnings():  # python-xlib leaves its Xauthority file unclosed
        warnings.simplefilter("ignore", ResourceWarning)
        return display.Display()


class Requestor:
    """A pasting window of our own: asks the owner for a target, reads, deletes or not."""

    def __init__(self) -> None:
        from Xlib import X

        self.X, self.d = X, _display()
        self.win = self.d.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent, X.InputOnly,
                                                      X.CopyFromParent)
        self.prop = self.d.intern_atom("PASTED")

    def paste(self, target: str = "UTF8_STRING", *, delete: bool = True) -> bytes | None:
        self.win.convert_selection(self.d.intern_atom("CLIPBOARD"), self.d.intern_atom(target), self.prop,
                                   self.X.CurrentTime)
        self.d.flush()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.d.pending_events():
                event = self.d.next_event()
                if event.type == self.X.SelectionNotify:
                    if event.property == self.X.NONE:
                        return None
                    reply = self.win.get_property(self.prop, self.X.AnyPropertyType, 0, 1 << 20, delete=delete)
                    self.d.flush()
                    value = reply.value
                    return value.encode() if isinstance(value, str) else bytes(value)
            time.sleep(0.001)
        raise AssertionError("no SelectionNotify")

    def close(self) -> None:
        self.d.close()


@pytest.fixture
def requestor():
    r = Requestor()
    yield r
    r.close()


def test_set_serves_the_exact_text_and_restore_gives_the_users_copy_back(clip):
    user_copies("user text ✓\n".encode())
    snapshot = clip.save()
    assert snapshot == Snapshot("UTF8_STRING", "user text ✓\n".encode())
    offer = clip.set(TEXT)
    assert clipboard_bytes() == TEXT.encode()
    assert clipboard_bytes("TARGETS").split()[0] == b"TARGETS"
    assert clipboard_bytes("STRING") == TEXT.encode("latin-1", "replace")
    clip.restore(snapshot, offer)
    assert clipboard_bytes() == "user text ✓\n".encode()
    assert not offer.owner


def test_an_empty_clipboard_is_restored_to_empty(clip):
    assert clip.save() == EMPTY and clip.get() is None
    offer = clip.set("temporary")
    assert clip.get() is None or clip.get() == "temporary"  # asking ourselves answers too
    clip.restore(EMPTY, offer)
    assert clipboard_bytes() is None and clipboard_bytes("TARGETS") is None


def test_a_non_text_clipboard_is_restored_with_its_format(clip):
    png = b"\x89PNG\r\n\x1a\n fake image bytes \x00\xff"
    user_copies(png, target="image/png")
    snapshot = clip.save()
    assert snapshot == Snapshot("image/png", png)
    clip.restore(snapshot, clip.set("text for a moment"))
    assert clipboard_bytes("TARGETS").split() == [b"TARGETS", b"TIMESTAMP", b"MULTIPLE", b"image/png"]
    assert clipboard_bytes("image/png") == png


def test_restore_leaves_a_newer_copy_alone(clip):
    user_copies(b"old")
    snapshot = clip.save()
    offer = clip.set("ours")
    user_copies(b"copied while we pasted")
    wait_until(lambda: not offer.owner, "the offer to lose the clipboard")
    clip.restore(snapshot, offer)
    assert clipboard_bytes() == b"copied while we pasted"


def test_wait_taken_is_true_once_the_window_has_read_and_deleted_the_text(clip, requestor):
    offer = clip.set(TEXT)
    mark = offer.mark(anyone=True)
    assert not offer.wait_taken(mark, 0.1)  # nobody pasted
    assert requestor.paste("TARGETS") is not None
    assert not offer.wait_taken(mark, 0.1)  # asking for the formats is not taking the text
    start = time.monotonic()
    assert requestor.paste() == TEXT.encode()
    assert offer.wait_taken(mark, 5.0)
    assert time.monotonic() - start < 4.0  # seen deleted, not the 5 s unconfirmed fallback
    assert not offer.wait_taken(offer.mark(anyone=True), 0.05)  # a later mark waits for a later paste
    clip.restore(EMPTY, offer)


def test_a_window_that_never_deletes_counts_as_served_after_the_unconfirmed_wait(empty_clipboard, requestor):
    clip = X11Clipboard(unconfirmed=0.2)
    try:
        offer = clip.set("kept in the property")
        mark = offer.mark(anyone=True)
        result: list[bool] = []
        waiter = threading.Thread(target=lambda: result.append(offer.wait_taken(mark, 5.0)))
        waiter.start()
        assert requestor.paste(delete=False) == b"kept in the property"
        waiter.join(10)
        assert result == [True]
        clip.restore(EMPTY, offer)
    finally:
        clip.close()


def test_large_text_goes_out_in_increments_and_is_taken_at_the_closing_chunk(clip):
    big = ("0123456789abcdef" * 20_000) + "END"
    offer = clip.set(big)
    mark = offer.mark(anyone=True)
    assert clipboard_bytes() == big.encode()  # xclip reads INCR transfers
    assert offer.wait_taken(mark, 5.0)
    clip.restore(EMPTY, offer)


def test_save_reads_a_large_copy_made_elsewhere(clip):
    big = b"x" * 400_000 + b"END"
    user_copies(big)
    assert clip.save() == Snapshot("UTF8_STRING", big)


def test_save_after_restore_sees_a_copy_made_meanwhile(clip):
    user_copies(b"first")
    clip.restore(clip.save(), clip.set("ours"))
    assert clip.save() == Snapshot("UTF8_STRING", b"first")
    user_copies(b"second")
    wait_until(lambda: clip.save() == Snapshot("UTF8_STRING", b"second"), "the new copy to be seen")


def test_the_users_copy_is_handed_to_xclip_after_the_idle_time(empty_clipboard):
    clip = X11Clipboard(handoff_after=0.2)
    watcher = _display()
    try:
        user_copies(b"the user's")
        snapshot = clip.save()
        clip.restore(snapshot, clip.set("ours"))
        ours = clip._owner.window.id
        clipboard = watcher.intern_atom("CLIPBOARD")
        assert watcher.get_selection_owner(clipboard).id == ours
        wait_until(lambda: watcher.get_selection_owner(clipboard).id not in (0, ours), "the handoff")
        assert clipboard_bytes() == b"the user's"
    finally:
        watcher.close()
        clip.close()
    assert clipboard_bytes() == b"the user's"


@pytest.mark.parametrize("xclip", [True, False], ids=["handed-to-xclip", "handed-to-the-keeper"])
def test_a_process_that_exits_leaves_the_users_copy_on_the_clipboard(empty_clipboard, tmp_path, xclip):
    user_copies("before the send ✓".encode())
    script = (
        "from quarterdeck.core.desktop.clipboard.backends import system_clipboard\n"
        "c = system_clipboard()\n"
        "c.restore(c.save(), c.set('the message'))\n"
        "print(type(c).__name__)\n"
    )
    env = dict(os.environ) if xclip else {**os.environ, "PATH": str(tmp_path)}  # no xclip to be found
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30,
                         cwd=ROOT, stdin=subprocess.DEVNULL, env=env)
    assert (out.returncode, out.stdout, out.stderr) == (0, "X11Clipboard\n", "")
    assert clipboard_bytes() == "before the send ✓".encode()


def test_a_closed_clipboard_refuses_with_a_clipboard_error(empty_clipboard):
    clip = X11Clipboard()
    clip.close()
    assert not clip.alive
    with pytest.raises(ClipboardError, match="closed"):
        clip.set("too late")


def test_a_read_by_another_client_than_the_window_pasted_into_does_not_count(clip, requestor, xterms):
    from xterm_desk import XTERM_PASTE

    from quarterdeck.core.transports.gui.transport import load_pyautogui

    pyautogui = load_pyautogui()

    (term,) = xterms(1)
    pyautogui.click(*term.point)
    offer = clip.set("only the pane counts\n")
    mark = offer.mark()  # the pointer is on the xterm: only its reads count
    assert requestor.paste() == b"only the pane counts\n"  # a clipboard manager reads every copy
    assert not offer.wait_taken(mark, 0.3)
    pyautogui.hotkey(*XTERM_PASTE)
    assert offer.wait_taken(mark, 5.0)
    clip.restore(EMPTY, offer)
    assert term.wait_for(b"only the pane counts\n") == b"only the pane counts\n"


def test_a_clear_left_over_from_the_handoff_does_not_end_the_next_offer(empty_clipboard):
    clip = X11Clipboard(handoff_after=0.2)
    handing = threading.Event()
    handoff = clip._xclip.restore

    def slow_handoff(snapshot, offer=None):
        handing.set()
        time.sleep(0.2)  # the next delivery asks for the clipboard meanwhile
        handoff(snapshot, offer)

    clip._xclip.restore = slow_handoff
    try:
        user_copies(b"the user's")
        snapshot = clip.save()
        clip.restore(snapshot, clip.set("message 1"))
        assert handing.wait(5)
        offer = clip.set("message 2")  # runs after the handoff; xclip's clear arrives after it
        assert clipboard_bytes() == b"message 2" and offer.owner
        clip.restore(snapshot, offer)
        assert clipboard_bytes() == b"the user's"
    finally:
        clip.close()
    assert clipboard_bytes() == b"the user's"


def owner_app(delay: float, kind: str, data: bytes) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("owner_app.py")), str(delay), kind,
                             data.hex()], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "owning\n"
    return proc


def stop_app(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()
    proc.stdout.close()


def test_a_slow_owner_is_an_error_and_its_clipboard_is_left_alone(empty_clipboard):
    slow = owner_app(1.5, "UTF8_STRING", b"from a slow app")
    clip = X11Clipboard(read_timeout=0.3)
    try:
        with pytest.raises(ClipboardError, match=re.escape("did not answer within 0.3 s")):
            clip.save()
        assert clipboard_bytes() == b"from a slow app"  # still the slow app's
    finally:
        clip.close()
        stop_app(slow)


def test_latin1_text_from_an_owner_offering_only_string_is_kept_as_text(clip):
    app = owner_app(0, "STRING", "café".encode("latin-1"))
    try:
        snapshot = clip.save()
        assert snapshot == Snapshot("UTF8_STRING", "café".encode())
        clip.restore(snapshot, clip.set("ours"))
        assert clipboard_bytes() == "café".encode() and clipboard_bytes("STRING") == "café".encode("latin-1")
    finally:
        stop_app(app)


def test_a_copy_too_big_for_one_property_is_read_in_increments_and_the_owner_stays_usable(clip):
    big = bytes(range(256)) * (80 * 1024)  # 20 MB: xclip sends it by INCR
    user_copies(big)
    assert clip.save() == Snapshot("UTF8_STRING", big)
    assert clipboard_bytes() == big


def test_a_text_already_served_still_counts_when_someone_copies_right_after(empty_clipboard, requestor):
    clip = X11Clipboard(unconfirmed=0.2)
    try:
        offer = clip.set("served")
        mark = offer.mark(anyone=True)
        assert requestor.paste(delete=False) == b"served"  # read, not yet seen deleted
        user_copies(b"copied at once")
        wait_until(lambda: not offer.owner, "the offer to be lost")
        assert offer.wait_taken(mark, 5.0)  # that window has the text: no second paste
    finally:
        clip.close()


def test_a_failing_timer_leaves_the_connection_working(clip, caplog):
    owner = clip._owner
    ran = threading.Event()

    def boom() -> None:
        ran.set()
        raise OSError("too many open files")

    def timer_failures() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage() == "the X thread's timer failed"]

    caplog.set_level(logging.ERROR, logger="quarterdeck.core.desktop.x11.thread")
    owner.call(lambda: owner.x.set_timer(0, boom))
    assert ran.wait(5), "the timer never ran"
    wait_until(lambda: timer_failures(), "the timer's failure to be logged", timeout=5)
    (failure,) = timer_failures()
    assert failure.exc_info is not None and isinstance(failure.exc_info[1], OSError)
    assert str(failure.exc_info[1]) == "too many open files"
    # the same connection still owns and reads the clipboard
    assert clip.alive and clip.save() == EMPTY
    offer = clip.set("after the failed timer")
    assert clipboard_bytes() == b"after the failed timer"
    clip.restore(EMPTY, offer)
    assert clipboard_bytes() is None


def test_without_xclip_a_keeper_process_takes_the_users_copy_over_and_yields_to_the_next_copy(empty_clipboard):
    clip = X11Clipboard(handoff_after=30.0)
    clip._xclip = None  # as on a desktop without xclip
    try:
        user_copies("kept by the keeper ✓".encode())
        snapshot = clip.save()
        clip.restore(snapshot, clip.set("the message"))
    finally:
        clip.close()  # hands over at once
    assert not clip.alive
    assert clipboard_bytes() == "kept by the keeper ✓".encode()  # served by the keeper now
    keeper = ["pgrep", "-f", "quarterdeck.core.desktop.clipboard.keeper"]
    assert subprocess.run(keeper, capture_output=True, text=True).stdout.split()
    user_copies(b"a newer copy")
    wait_until(lambda: not subprocess.run(keeper, capture_output=True).stdout,
               "the keeper to exit once someone else copies")


def _ask(r: Requestor, target: str, prop_data=None):
    """``r`` asks the clipboard for ``target`` (MULTIPLE: ``prop_data``, the ATOM_PAIR list, is
    put in its property first); the reply's (type name, format, value) or None when refused."""
    X, d = r.X, r.d
    if prop_data is not None:
        r.win.change_property(r.prop, d.intern_atom("ATOM_PAIR"), 32, prop_data)
    r.win.convert_selection(d.intern_atom("CLIPBOARD"), d.intern_atom(target), r.prop, X.CurrentTime)
    d.flush()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if d.pending_events():
            ev = d.next_event()
            if ev.type == X.SelectionNotify:
                if ev.property == X.NONE:
                    return None
                reply = r.win.get_property(r.prop, X.AnyPropertyType, 0, 1 << 20, delete=True)
                return d.get_atom_name(reply.property_type), reply.format, list(reply.value)
        time.sleep(0.001)
    raise AssertionError("no SelectionNotify")


def _read(r: Requestor, prop: int):
    reply = r.win.get_property(prop, r.X.AnyPropertyType, 0, 1 << 20, delete=True)
    value = reply.value  # format 8: bytes (python-xlib 0.33; the old fork gave str); else a list
    if isinstance(value, str):
        return value.encode()
    return bytes(value) if reply.format == 8 else list(value)


def test_the_clipboard_is_taken_with_a_real_server_time_and_timestamp_answers_it(clip, requestor):
    clip.set("timed")
    owned_at = clip._owner.owned_at
    assert owned_at != 0  # not CurrentTime
    assert _ask(requestor, "TIMESTAMP") == ("INTEGER", 32, [owned_at])
    clip.set("later")
    assert clip._owner.owned_at >= owned_at
    assert _ask(requestor, "TIMESTAMP") == ("INTEGER", 32, [clip._owner.owned_at])
    assert set(_ask(requestor, "TARGETS")[2]) >= {requestor.d.intern_atom(n) for n in ("TIMESTAMP", "MULTIPLE")}


def test_multiple_fills_each_property_and_marks_a_refused_target_none(clip, requestor):
    d = requestor.d
    clip.set(TEXT)
    props = [d.intern_atom(f"MULTI_{n}") for n in range(3)]
    targets = [d.intern_atom(n) for n in ("UTF8_STRING", "image/png", "TARGETS")]
    pairs = [a for pair in zip(targets, props, strict=True) for a in pair]
    kind, fmt, value = _ask(requestor, "MULTIPLE", pairs)
    assert (kind, fmt) == ("ATOM_PAIR", 32)
    assert value == [targets[0], props[0], targets[1], 0, targets[2], props[2]]
    assert _read(requestor, props[0]) == TEXT.encode()
    assert d.intern_atom("UTF8_STRING") in _read(requestor, props[2])


class FakeClipboardManager:
    """A clipboard manager (freedesktop.org spec): owns CLIPBOARD_MANAGER; asked SAVE_TARGETS, it
    reads the clipboard's text, says it saved it, and from then on owns and serves the clipboard."""

    def __init__(self) -> None:
        from Xlib import X

        self.X, self.d = X, _display()
        self.win = self.d.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent, X.InputOnly, X.CopyFromParent)
        self.atom = self.d.intern_atom
        self.win.set_selection_owner(self.atom("CLIPBOARD_MANAGER"), X.CurrentTime)
        self.d.flush()
        self.saved: bytes | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _next(self, deadline: float):
        while time.monotonic() < deadline and not self.done.is_set():
            if self.d.pending_events():
                return self.d.next_event()
            time.sleep(0.001)
        return None

    def _run(self) -> None:
        from Xlib.protocol import event

        X = self.X
        while (ev := self._next(time.monotonic() + 30)) is not None:
            if ev.type != X.SelectionRequest:
                continue
            prop = X.NONE
            if ev.target == self.atom("SAVE_TARGETS"):
                self.win.convert_selection(self.atom("CLIPBOARD"), self.atom("UTF8_STRING"), self.atom("SAVED"),
                                           X.CurrentTime)
                self.d.flush()
                while (got := self._next(time.monotonic() + 5)) is not None and got.type != X.SelectionNotify:
                    pass
                value = self.win.get_property(self.atom("SAVED"), X.AnyPropertyType, 0, 1 << 20, delete=True).value
                self.saved = value.encode() if isinstance(value, str) else bytes(value)
                ev.requestor.change_property(ev.property, self.atom("NULL"), 32, [])
                prop = ev.property
                self.win.set_selection_owner(self.atom("CLIPBOARD"), X.CurrentTime)
            elif ev.selection == self.atom("CLIPBOARD") and ev.target == self.atom("UTF8_STRING"):
                ev.requestor.change_property(ev.property, ev.target, 8, self.saved)
                prop = ev.property
            ev.requestor.send_event(event.SelectionNotify(time=ev.time, requestor=ev.requestor, selection=ev.selection,
                                                          target=ev.target, property=prop))
            self.d.flush()

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.d.close()


def test_a_running_clipboard_manager_takes_the_users_copy_before_xclip_would(empty_clipboard):
    class NoXclip:
        def restore(self, snapshot):
            raise AssertionError("xclip was asked although a clipboard manager runs")

    manager = FakeClipboardManager()
    clip = X11Clipboard(handoff_after=0.05, unconfirmed=5.0)
    clip._xclip = NoXclip()
    try:
        user_copies("the user's copy ✓".encode())
        snapshot = clip.save()
        clip.restore(snapshot, clip.set("a message"))
        assert wait_until(lambda: manager.saved is not None, timeout=5)
        assert manager.saved == "the user's copy ✓".encode()
        assert wait_until(lambda: clipboard_bytes() == "the user's copy ✓".encode(), timeout=5)
        owner = manager.d.get_selection_owner(manager.atom("CLIPBOARD"))
        assert owner.id == manager.win.id
        assert clip._held is None
    finally:
        clip.close()
        manager.close()
