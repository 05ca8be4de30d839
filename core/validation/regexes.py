"""Compile user-supplied regular expressions with RE2 (linear time, no ReDoS)."""

from __future__ import annotations

import functools
from typing import Any

import re2

_HINT = " (RE2 has no lookaround or backreferences; rewrite the pattern without them)"


def _perl_only(detail: str) -> bool:
    """True when RE2 rejected a Perl-only construct (lookaround, backreference)."""
    if "invalid perl operator" in detail:
        return True
    return "invalid escape sequence: \\" in detail and detail[-1:].isdigit()


def regex_options(case_sensitive: bool) -> Any:
    """The RE2 options user patterns are compiled with."""
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = case_sensitive
    return options


@functools.lru_cache(maxsize=512)
def compile_regex(pattern: str, case_sensitive: bool = True) -> Any:
    """Compile ``pattern`` with RE2; raise ValueError with an actionable message."""
    try:
        return re2.compile(pattern, options=regex_options(case_sensitive))
    except re2.error as error:
        detail = error.args[0] if error.args else "unknown error"
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        hint = _HINT if _perl_only(detail) else ""
        raise ValueError(f"invalid regular expression: {detail}{hint}") from None
    except UnicodeError:
        raise ValueError("invalid regular expression: it is not valid Unicode") from None


def literal_alternation(words: tuple[str, ...]) -> str:
    """An RE2 pattern matching any of ``words`` literally, longest first."""
    ordered = sorted(set(words), key=lambda w: (-len(w), w))
    return "|".join(re2.escape(word) for word in ordered)
