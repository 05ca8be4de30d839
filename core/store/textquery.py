"""Turn what a user typed into the search box into safe SQL conditions.

The text is a list of terms, all of which must occur in the message (case-insensitive substring
match, like find-in-page). Terms are separated by whitespace; ``"two words"`` in double quotes is
one term. Everything else is literal: ``AND``, ``OR``, ``NOT``, ``*``, ``(``, ``:`` and a stray
``"`` carry no query meaning, so no input can make the query fail.

The full-text index uses SQLite's trigram tokenizer, which finds any substring of 3 or more
characters in any script (so ``你好世界`` is found by ``好世界``). Shorter terms (``ok``, ``你好``,
``🚀``) cannot use it and become a ``LIKE`` test on the content instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_TERM = re.compile(r'"([^"]*)"|(\S+)')
TRIGRAM = 3


@dataclass(frozen=True)
class TextFilter:
    match: str | None
    """An FTS5 MATCH expression (every long term quoted as a string), or None."""
    likes: tuple[str, ...]
    """``LIKE`` patterns (escape character ``\\``) for the short terms."""

    @property
    def empty(self) -> bool:
        return self.match is None and not self.likes


def split_terms(text: str) -> list[str]:
    """Whitespace-separated terms, double-quoted ones kept whole. NUL separates too: SQLite's
    query and pattern parsers would stop at it."""
    terms = []
    for quoted, bare in _TERM.findall(text.replace("\0", " ")):
        term = (quoted or bare).strip()
        if term:
            terms.append(term)
    return list(dict.fromkeys(terms))


def fts_string(term: str) -> str:
    """``term`` as an FTS5 string literal: double quotes around it, inner double quotes doubled."""
    return '"' + term.replace('"', '""') + '"'


def like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_filter(text: str | None) -> TextFilter:
    terms = split_terms(text or "")
    long_terms = [term for term in terms if len(term) >= TRIGRAM]
    short_terms = [term for term in terms if len(term) < TRIGRAM]
    match = " ".join(fts_string(term) for term in long_terms) or None
    return TextFilter(match=match, likes=tuple(like_pattern(term) for term in short_terms))
