"""The text of an accessible input, as a person reads it, for ``quarterdeck.core.desktop.atspi``.

``Text.GetText`` gives an input's own text only: each child element that is not plain text (a
``<div>`` or ``<p>`` per line in a Chromium contenteditable, the way ``execCommand("insertText")``
stores pasted lines and Lexical editors such as Cursor's composer store paragraphs; a link, a
mention chip) stands in it as one U+FFFC, the object replacement character. ``expand`` puts each
such object's text back in its place, recursively: the node's ``Hypertext`` links, in the order of
their offsets, are its embedded objects. An object whose ``display`` attribute is a block starts
and ends a line, so "one\\ufffc\\ufffc" over ``<div>two</div><div>three</div>`` reads
"one\\ntwo\\nthree\\n". Measured on Chromium: ~4 calls per embedded object (~0.3 ms each);
text without U+FFFC costs nothing more.

``normalize`` makes texts comparable (re-exported by ``quarterdeck.core.desktop.atspi``).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Protocol

__all__ = ["OBJECT", "expand", "normalize"]

OBJECT = "\ufffc"  # an embedded object in AT-SPI text
_HYPERTEXT, _HYPERLINK = "org.a11y.atspi.Hypertext", "org.a11y.atspi.Hyperlink"
_MAX_DEPTH = 8


class Call(Protocol):
    def __call__(self, bus: str, path: str, interface: str, method: str, signature: str | None = None,
                 body: tuple[Any, ...] = (), *, deadline: float) -> tuple[Any, ...]: ...  # D-Bus bodies


def normalize(text: str) -> str:
    """Text for comparisons. Chromium's contenteditable gives runs of spaces back with U+00A0 in
    them, embedded objects as U+FFFC, sometimes a trailing newline. So: NFC; U+00A0 and U+202F
    become spaces; U+FFFC, zero-width spaces, BOMs, spaces at line ends and newlines at the end
    go; CR LF and CR become LF. Runs of spaces inside a line stay: they were typed or pasted."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub("[\ufffc\u200b\ufeff]", "", text)
    text = re.sub(r"[ \t]+(?=\n|$)", "", text)
    return text.rstrip("\n")


def _objects(call: Call, bus: str, path: str, text: str, deadline: float) -> dict[int, tuple[str, str]]:
    """{the offset of its U+FFFC in ``text``: (bus, path)} of the node's embedded objects."""
    links = [call(bus, path, _HYPERTEXT, "GetLink", "i", (i,), deadline=deadline)[0]
             for i in range(call(bus, path, _HYPERTEXT, "GetNLinks", deadline=deadline)[0])]
    objects = [call(lbus, lpath, _HYPERLINK, "GetObject", "i", (0,), deadline=deadline)[0] for lbus, lpath in links]
    offsets = [offset for offset, char in enumerate(text) if char == OBJECT]
    if len(links) != len(offsets):  # else Chromium lists the links in the order of their offsets
        offsets = [call(lbus, lpath, "org.freedesktop.DBus.Properties", "Get", "ss", (_HYPERLINK, "StartIndex"),
                        deadline=deadline)[0][1] for lbus, lpath in links]
    return dict(zip(offsets, objects, strict=True))


def expand(call: Call, bus: str, path: str, text: str, deadline: float, depth: int = 0) -> str:
    """``text`` (node ``path``'s own) with each U+FFFC replaced by its object's text, recursively;
    an object not found stays U+FFFC (``normalize`` drops it)."""
    if OBJECT not in text or depth >= _MAX_DEPTH:
        return text
    objects = _objects(call, bus, path, text, deadline)
    out: list[str] = []
    for offset, char in enumerate(text):
        if char != OBJECT:
            out.append(char)
            continue
        obj = objects.get(offset)
        if obj is None:
            out.append(char)
            continue
        inner = call(obj[0], obj[1], "org.a11y.atspi.Text", "GetText", "ii", (0, -1), deadline=deadline)[0]
        inner = expand(call, obj[0], obj[1], inner, deadline, depth + 1)
        display = call(obj[0], obj[1], "org.a11y.atspi.Accessible", "GetAttributes",
                       deadline=deadline)[0].get("display", "inline")
        block = not display.startswith("inline")
        if block and out and not out[-1].endswith("\n"):
            out.append("\n")
        out.append(inner)
        if block and not inner.endswith("\n"):
            out.append("\n")
    return "".join(out)
