"""The clipboard for GUI delivery on X11, owned in-process: no subprocess per delivery.

``X11Clipboard`` is what ``system_clipboard()`` gives GUI delivery when python-xlib can reach the
display (``XclipClipboard`` is the fallback). It is shared by the whole process:

- ``save()`` reads what the clipboard holds (text, or else the bytes of one other format) by
  asking its owner directly. An owner that does not answer within ``read_timeout`` is an error
  (``ClipboardError``: the delivery is tried again later), never an empty clipboard to restore.
- ``set(text)`` makes this process the owner of ``text`` and returns an ``X11Offer``. Its
  ``wait_taken`` is true once the window under the pointer (the one pasted into) has read the
  text (see ``SelectionOwner``), so the submit key never runs ahead of the paste and a clipboard
  manager reading every copy does not count.
- ``restore(snapshot, offer)`` hands the user's content back by serving it from this process at
  once; ``handoff_after`` seconds after the last delivery (and at exit) a running clipboard
  manager (asked to SAVE_TARGETS, then let to own it), else a detached ``xclip``, or
  without xclip a keeper process (``quarterdeck.core.desktop.clipboard.keeper``), takes it over so it
  outlives us. A broadcast to eight panes therefore reads the user's clipboard once and spawns
  xclip once. If someone copied something else meanwhile, that newer content is left alone. A
  process killed before the handoff loses the saved content.
"""
from __future__ import annotations

import atexit
import logging
import shutil
import threading
import time

from quarterdeck.core.desktop.clipboard.convert import TIMEOUT, Reply
from quarterdeck.core.desktop.clipboard.handover import hand_over
from quarterdeck.core.desktop.clipboard.icccm import pump, save_to_manager
from quarterdeck.core.desktop.clipboard.selection import Contents, SelectionOwner
from quarterdeck.core.desktop.clipboard.snapshot import EMPTY, ClipboardError, Snapshot
from quarterdeck.core.desktop.clipboard.xclip import XclipClipboard

log = logging.getLogger(__name__)

__all__ = ["X11Clipboard", "X11Offer", "shared_x11_clipboard"]

_TEXT_TARGETS = ("UTF8_STRING", "text/plain;charset=utf-8", "text/plain", "STRING")  # read in this order
_META_TARGETS = frozenset({"TARGETS", "MULTIPLE", "TIMESTAMP", "SAVE_TARGETS", "DELETE", "INCR"})


def _text_contents(data: bytes, *, text: bool) -> Contents:
    latin = data.decode("utf-8", "replace").encode("latin-1", "replace")
    utf8 = "text/plain;charset=utf-8"
    return Contents({"UTF8_STRING": ("UTF8_STRING", data), utf8: (utf8, data), "text/plain": ("text/plain", data),
                     "STRING": ("STRING", latin), "TEXT": ("UTF8_STRING", data)}, text=text)


def snapshot_contents(snapshot: Snapshot) -> Contents:
    """What serving ``snapshot`` back offers: every text target for text, else its own format."""
    if snapshot.target is None:
        raise ValueError("an empty clipboard has nothing to serve")
    if snapshot.text is not None:
        return _text_contents(snapshot.data, text=False)
    return Contents({snapshot.target: (snapshot.target, snapshot.data)}, text=False)


class X11Offer:
    """Text this process is serving as the clipboard; see ``wait_taken``."""

    sees_reads = True  # wait_taken means the window read the text (not only that it asked)

    def __init__(self, owner: SelectionOwner, contents: Contents) -> None:
        self._owner = owner
        self._contents = contents

    @property
    def owner(self) -> bool:
        """True while this text is still the clipboard (nobody copied something else since)."""
        return not self._contents.lost

    def mark(self, *, anyone: bool = False) -> tuple[int, int | None]:
        """A point to wait from: call before pressing the paste keys, with the pointer on the
        window to paste into (``anyone``: count a read by any client)."""
        owner = self._owner
        client = None if anyone else owner.call(owner.client_at_pointer)
        with owner.cond:
            return len(self._contents.transfers), client

    def wait_taken(self, mark: tuple[int, int | None], timeout: float) -> bool:
        """True once the marked client read the text after ``mark``; False after ``timeout``, or
        if the text stopped being the clipboard before that client had it."""
        return self._owner.wait_taken(self._contents, mark[0], timeout, mark[1])

    def wait_quiet(self, quiet: float = 0.03, limit: float = 0.5) -> bool:
        """Until no client asked for the clipboard for ``quiet`` seconds (bounded by ``limit``):
        only then may the clipboard change owner without breaking a paste still in progress."""
        return self._owner.wait_quiet(self._contents, quiet, limit)


class X11Clipboard:
    """See the module docstring."""

    def __init__(self, *, read_timeout: float = 1.0, handoff_after: float = 1.0,
                 display_name: str | None = None, unconfirmed: float = 0.05, manager_timeout: float = 1.0) -> None:
        self._owner = SelectionOwner(display_name=display_name, unconfirmed=unconfirmed)
        self.manager_timeout = manager_timeout
        self.read_timeout = read_timeout
        self.handoff_after = handoff_after
        self._xclip = XclipClipboard() if shutil.which("xclip") else None
        self._held: tuple[Snapshot, Contents] | None = None  # the user's content, served by us
        self._lock = threading.Lock()

    # -- reading --------------------------------------------------------------------------------
    def _convert(self, target: str) -> Reply | None:
        """The owner's answer for ``target`` (None: refused, or no owner)."""
        reader = self._owner.reader
        self._owner.call(lambda: reader.convert(target))
        value = reader.take(self.read_timeout)
        if value is TIMEOUT:
            raise ClipboardError(f"the clipboard's owner did not answer within {self.read_timeout:g} s; "
                                 "nothing was pasted")
        return value if isinstance(value, Reply) else None  # REFUSED

    def _text(self, target: str) -> bytes | None:
        """The clipboard's text as UTF-8 (STRING is Latin-1), or None."""
        reply = self._convert(target)
        if reply is None or not isinstance(reply.data, bytes):
            return None
        return reply.data.decode("latin-1").encode("utf-8") if reply.kind == "STRING" else reply.data

    def get(self) -> str | None:
        """The clipboard's text, or None when it is empty or holds no text."""
        contents = self._owner.contents
        if contents is not None and not contents.lost:  # ours: no need to ask ourselves
            data = contents.targets.get("UTF8_STRING", ("", None))[1]
        else:
            data = self._text("UTF8_STRING")
        return None if data is None else data.decode("utf-8", "replace")

    def save(self) -> Snapshot:
        """What the clipboard holds now, to hand back with ``restore``."""
        with self._lock:
            held = self._held
        if held is not None and not held[1].lost:
            return held[0]
        listing = self._convert("TARGETS")
        targets = listing.data if listing is not None and isinstance(listing.data, list) else []
        text = [t for t in _TEXT_TARGETS if t in targets]
        if text or not targets:
            data = self._text(text[0] if text else "UTF8_STRING")
            return EMPTY if data is None else Snapshot("UTF8_STRING", data)
        for target in targets:
            if target not in _META_TARGETS:
                reply = self._convert(target)
                if reply is not None and isinstance(reply.data, bytes):
                    return Snapshot(target, reply.data)
        return EMPTY

    # -- offering -------------------------------------------------------------------------------
    def set(self, text: str) -> X11Offer:
        """Serve ``text`` as the clipboard from this process; raise ``ClipboardError`` if refused."""
        contents = _text_contents(text.encode("utf-8"), text=True)
        owner = self._owner

        def own() -> bool:
            owner.x.set_timer(None)  # no handoff while a delivery uses the clipboard
            return owner.own(contents)

        if not owner.call(own):
            raise ClipboardError("the X server did not give this process the clipboard")
        return X11Offer(owner, contents)

    def restore(self, snapshot: Snapshot, offer: X11Offer | None = None) -> None:
        """Hand the clipboard back to ``snapshot``, unless someone replaced ``offer`` since."""
        owner = self._owner
        if offer is not None and not offer.owner:
            return
        if snapshot.target is None:
            with self._lock:
                self._held = None
            owner.call(lambda: owner.own(None))
            return
        contents = snapshot_contents(snapshot)
        with self._lock:
            self._held = (snapshot, contents)

        def own() -> bool:
            owner.x.set_timer(self.handoff_after, self.handoff)
            return owner.own(contents)

        if not owner.call(own):
            raise ClipboardError("the X server did not give the clipboard back to this process")

    def handoff(self) -> bool:
        """Let a running clipboard manager (else a detached xclip, else a keeper process) serve
        the user's content from now on; True if one took it. (On the selection thread, so no
        delivery takes the clipboard until the new owner has it.)"""
        with self._lock:
            held = self._held
        if held is None or held[1].lost:
            return False
        owner = self._owner
        if self._to_manager(held[0]):
            taken = True
        else:
            try:
                if self._xclip is not None:
                    self._xclip.restore(held[0])
                else:
                    hand_over(held[0].target or "UTF8_STRING", held[0].data)
            except (ClipboardError, OSError) as exc:
                log.warning("could not hand the clipboard over: %s", exc)
                return False
            deadline = time.monotonic() + 2.0
            while owner.owned() and time.monotonic() < deadline:  # xclip owns it once its child runs
                time.sleep(0.002)
            taken = True
        with self._lock:
            if self._held is held:
                self._held = None
        return taken

    def _to_manager(self, snapshot: Snapshot) -> bool:
        """True once a clipboard manager saved the clipboard and owns it: it takes it itself, or
        when we let it go (the freedesktop.org spec). If nobody owns it then, we serve it again."""
        owner = self._owner
        if not save_to_manager(owner, self.manager_timeout):
            return False
        deadline = time.monotonic() + self.manager_timeout
        if owner.owned():
            owner.own(None)
        while time.monotonic() < deadline:
            now = owner._d.get_selection_owner(owner.clipboard)
            if getattr(now, "id", now) not in (0, None) and not owner.owned():
                log.debug("the clipboard manager took the user's clipboard")
                return True
            pump(owner, lambda ev: False, 0.01)
        owner.own(snapshot_contents(snapshot))  # the manager saved it but does not serve it
        return False

    @property
    def alive(self) -> bool:
        """False once the connection is closed (or the X server went away)."""
        return not self._owner.x.closed

    def close(self) -> None:
        """Hand the user's content to xclip if this process still serves it, then disconnect."""
        try:
            if self.alive:
                self._owner.call(self.handoff, timeout=10.0)
        except ClipboardError as exc:
            log.warning("could not hand the clipboard over at exit: %s", exc)
        finally:
            self._owner.x.close()


_shared: X11Clipboard | None = None
_shared_lock = threading.Lock()


def shared_x11_clipboard() -> X11Clipboard:
    """The process's X11 clipboard (created on first use, handed off and closed at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.alive:
            _shared = X11Clipboard()
            atexit.register(_shared.close)
        return _shared
