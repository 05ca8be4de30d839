"""Text in X window properties: STRING is Latin-1, UTF8_STRING is UTF-8, and COMPOUND_TEXT (what
xterm and other Xt programs put in WM_NAME) is ISO 2022: Latin-1 with UTF-8 runs between
``ESC % G`` and ``ESC % @``."""
from __future__ import annotations

import re

__all__ = ["compound_text", "raw", "text"]

_ESCAPE = re.compile(rb"\x1b(%G|%@|[\x20-\x2f]+[\x30-\x7e])")


def raw(value: str | bytes | None) -> bytes:
    """A format-8 property value as its bytes: python-xlib hands over ``str`` when the bytes happen
    to be valid UTF-8 and ``bytes`` otherwise (None: unset)."""
    if value is None:
        return b""
    return value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)


def text(value: str | bytes | None, encoding: str = "utf-8") -> str:
    """A format-8 property value (see ``raw``) decoded as ``encoding``."""
    return raw(value).decode(encoding, "replace")


def compound_text(value: str | bytes | None) -> str:
    """COMPOUND_TEXT as text: Latin-1 and UTF-8 runs; other charset designations are dropped."""
    out, utf8 = [], False
    for index, part in enumerate(_ESCAPE.split(raw(value))):
        if index % 2:
            utf8 = part == b"%G" or (utf8 and part != b"%@")
        else:
            out.append(part.decode("utf-8" if utf8 else "latin-1", "replace"))
    return "".join(out)
