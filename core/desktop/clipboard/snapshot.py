"""The clipboard's vocabulary: what it held (``Snapshot``), its errors, and what a backend offers.

A snapshot keeps text, or else the bytes of one other format (an image, say); ``EMPTY`` is a
clipboard nobody owned. Every backend (``X11Clipboard``, ``XclipClipboard``,
``PyperclipClipboard``) saves, sets and restores through ``ClipboardLike``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["EMPTY", "ClipboardError", "ClipboardLike", "ClipboardOffer", "ClipboardUnavailable", "Snapshot"]

TEXT_TARGETS = ("UTF8_STRING", "text/plain;charset=utf-8", "text/plain", "STRING", "TEXT", "COMPOUND_TEXT")
META_TARGETS = frozenset({"TARGETS", "MULTIPLE", "TIMESTAMP", "SAVE_TARGETS", "DELETE", "INCR"})


class ClipboardError(RuntimeError):
    """The clipboard could not be set or read back; worth another try."""


class ClipboardUnavailable(ClipboardError):
    """No clipboard tool on this machine (xclip missing, pyperclip has no backend)."""


@dataclass(frozen=True)
class Snapshot:
    """What the clipboard held: ``target`` is None when it was empty."""

    target: str | None
    data: bytes = b""

    @property
    def text(self) -> str | None:
        if self.target in TEXT_TARGETS:
            return self.data.decode("utf-8", "replace")
        return None


EMPTY = Snapshot(None)


class ClipboardOffer(Protocol):
    """Text a backend is serving as the clipboard (``X11Offer``, xclip's ``Offer``)."""

    def mark(self) -> Any: ...  # a point to wait from, meaningful to this offer's wait_taken only

    def wait_taken(self, mark: Any, timeout: float) -> bool: ...

    def wait_quiet(self, quiet: float, limit: float) -> object: ...


class ClipboardLike(Protocol):
    def save(self) -> Snapshot: ...

    def set(self, text: str) -> ClipboardOffer | None: ...

    # ``offer``: what this backend's own ``set`` returned (each takes only its own kind)
    def restore(self, snapshot: Snapshot, offer: Any = None) -> None: ...
