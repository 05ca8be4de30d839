"""The X11 CLIPBOARD through the ``xclip`` command: the fallback where python-xlib cannot reach
the display, and the process that keeps the user's content after Quarterdeck lets it go.

- ``set(text)`` starts ``xclip -verbose`` in the foreground and returns an ``Offer`` counting the
  requests it served (xclip prints a line for each); ``wait_taken`` is a request and then a quiet
  ``Offer.quiet``. ``set`` returns once reading the clipboard back gives the text and the offer
  has counted that read.
- ``restore(snapshot, offer)`` hands the clipboard to a detached ``xclip`` holding the saved
  bytes (its output goes to /dev/null, so it never holds a caller's pipe open), or, when the
  clipboard was empty, to nobody. Content someone copied while the offer was up is left alone.

An owner silent for ``read_timeout`` counts as empty.
"""
from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import threading
import time

from quarterdeck.core.desktop.clipboard.snapshot import (
    EMPTY,
    META_TARGETS,
    TEXT_TARGETS,
    ClipboardError,
    ClipboardUnavailable,
    Snapshot,
)

__all__ = ["Offer", "XclipClipboard"]

_SERVED_PREFIX = b"Waiting for selection request number "

log = logging.getLogger(__name__)


class Offer:
    """Text this process put on the clipboard, served by a foreground ``xclip -verbose``."""

    quiet = 0.05

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc
        self._cond = threading.Condition()
        self._served = 0
        self._changed = time.monotonic()
        self._ended = False
        self.complaint = ""
        self._thread = threading.Thread(target=self._follow, name="xclip-offer", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            line = line.strip()
            if line.startswith(_SERVED_PREFIX) and line[len(_SERVED_PREFIX):].isdigit():
                with self._cond:
                    self._served = int(line[len(_SERVED_PREFIX):]) - 1
                    self._changed = time.monotonic()
                    self._cond.notify_all()
            elif line.lower().startswith((b"error", b"xclip:", b"can't", b"cannot")):
                self.complaint = line.decode("utf-8", "replace")
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def last_complaint(self, timeout: float = 1.0) -> str:
        """What xclip said before it exited, once its stderr is read to the end (the process can be
        seen gone before its last line is read)."""
        self._thread.join(timeout)
        return self.complaint

    @property
    def served(self) -> int:
        """Clipboard requests answered so far."""
        with self._cond:
            return self._served

    @property
    def owner(self) -> bool:
        """True while xclip still owns the clipboard (it exits once another client takes it)."""
        with self._cond:
            return not self._ended and self._proc.poll() is None

    def wait_request(self, after: int, timeout: float) -> bool:
        """Wait until more than ``after`` requests were served; False on timeout or loss of ownership."""
        with self._cond:
            self._cond.wait_for(lambda: self._served > after or self._ended, timeout)
            return self._served > after

    def wait_quiet(self, quiet: float, limit: float) -> None:
        """Wait until no request came for ``quiet`` seconds (at most ``limit`` seconds in all)."""
        deadline = time.monotonic() + limit
        with self._cond:
            while not self._ended:
                now = time.monotonic()
                left = min(self._changed + quiet, deadline) - now
                if left <= 0:
                    return
                self._cond.wait(left)

    def mark(self) -> int:
        """A point to wait from: call before pressing the paste keys."""
        return self.served

    def wait_taken(self, mark: int, timeout: float) -> bool:
        """True once a window asked for the text after ``mark`` and then ``quiet`` passed without
        another request (xclip cannot tell whether the window has read it)."""
        if not self.wait_request(mark, timeout):
            return False
        self.wait_quiet(self.quiet, timeout)
        return True

    def close(self, grace: float = 1.0) -> None:
        """Reap xclip: wait ``grace`` seconds for it to lose ownership and exit, then end it."""
        try:
            self._proc.wait(grace)
        except subprocess.TimeoutExpired:
            self._proc.terminate()
            try:
                self._proc.wait(2.0)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._thread.join(2.0)
        if self._proc.stderr is not None:
            self._proc.stderr.close()


class XclipClipboard:
    """The X11 CLIPBOARD selection through the ``xclip`` command."""

    def __init__(self, *, xclip: str | None = None, read_timeout: float = 1.0,
                 set_timeout: float = 2.0) -> None:
        found = xclip or shutil.which("xclip")
        if found is None:
            raise ClipboardUnavailable("xclip is not installed; GUI delivery pastes through it")
        self._xclip = found
        self.read_timeout = read_timeout
        self.set_timeout = set_timeout

    def _base(self) -> list[str]:
        return [self._xclip, "-selection", "clipboard"]

    def read(self, target: str | None = None) -> bytes | None:
        """The clipboard's bytes in ``target`` (default: text), or None."""
        cmd = [*self._base(), "-o", *(["-t", target] if target else [])]
        try:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=self.read_timeout, check=False)
        except subprocess.TimeoutExpired:
            return None
        return done.stdout if done.returncode == 0 else None

    def get(self) -> str | None:
        """The clipboard's text, or None when it is empty or holds no text."""
        data = self.read()
        return None if data is None else data.decode("utf-8", "replace")

    def save(self) -> Snapshot:
        """What the clipboard holds now, to hand back with ``restore``."""
        listing = self.read("TARGETS")
        targets = listing.decode("ascii", "replace").split() if listing is not None else []
        if not targets or any(t in TEXT_TARGETS for t in targets):
            data = self.read()
            return EMPTY if data is None else Snapshot("UTF8_STRING", data)
        for target in targets:
            if target not in META_TARGETS:
                data = self.read(target)
                if data is not None:
                    return Snapshot(target, data)
        return EMPTY

    def set(self, text: str) -> Offer:
        """Put ``text`` on the clipboard and return the offer serving it, once it reads back."""
        data = text.encode("utf-8")
        proc = subprocess.Popen([*self._base(), "-i", "-verbose"], stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        offer = Offer(proc)
        try:
            assert proc.stdin is not None
            with contextlib.suppress(BrokenPipeError):  # xclip already gone: reported just below
                proc.stdin.write(data)
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
            deadline = time.monotonic() + self.set_timeout
            while self.read() != data:
                if not offer.owner:
                    raise ClipboardError(f"xclip exited with status {proc.wait()} while taking the clipboard: "
                                         f"{offer.last_complaint() or 'no message'}")
                if time.monotonic() >= deadline:
                    raise ClipboardError(f"the clipboard did not read back the text within {self.set_timeout:g} s")
                time.sleep(0.005)
            # xclip prints the line that counts a request after answering it: wait for the line of our
            # own read-back, so that it is not taken later for a window's request after ``mark()``
            # (briefly: when the clipboard already held this text, the old owner answered instead)
            offer.wait_request(0, min(0.5, max(0.0, deadline - time.monotonic())))
        except BaseException:
            offer.close(grace=0)
            raise
        return offer

    def restore(self, snapshot: Snapshot, offer: Offer | None = None) -> None:
        """Hand the clipboard back to what ``snapshot`` held, unless someone replaced ``offer`` since."""
        if offer is not None and not offer.owner:
            offer.close()
            return
        if snapshot.target is None:
            if offer is None:
                offer = self.set("")
            offer.close(grace=0)
            return
        target = [] if snapshot.text is not None else ["-t", snapshot.target]
        try:
            done = subprocess.run([*self._base(), "-i", *target], input=snapshot.data,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True, timeout=self.set_timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ClipboardError("xclip did not take the clipboard back in time") from exc
        finally:
            if offer is not None:
                offer.close()
        if done.returncode != 0:
            raise ClipboardError(f"xclip exited with status {done.returncode} while restoring the clipboard")
