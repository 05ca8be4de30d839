"""Run RE2 patterns over a message's text and report character offsets.

RE2 works on UTF-8 bytes. Each text is encoded once (long texts are cached,
since several rules scan the same content) and byte offsets are turned back
into character offsets only for the hits. Characters that cannot be encoded
(lone surrogates) become one '?' byte each, so offsets stay aligned.

A ``PatternSet`` tells which of many patterns match a text in one RE2 set
scan (per case setting), where searching with each would take one call each.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import Any

import re2

from .regexes import compile_regex, regex_options

_CACHE_FROM = 256


@functools.lru_cache(maxsize=4)
def _cached_utf8(text: str) -> bytes:
    return text.encode("utf-8", "replace")


def utf8(text: str) -> bytes:
    """``text`` as UTF-8, with unencodable characters replaced by '?'."""
    return _cached_utf8(text) if len(text) >= _CACHE_FROM else text.encode("utf-8", "replace")


def char_offsets(text: str, data: bytes, offsets: Iterable[int]) -> dict[int, int]:
    """Map byte offsets in ``data`` (the UTF-8 of ``text``) to character offsets."""
    wanted = sorted(set(offsets))
    if text.isascii():
        return {offset: offset for offset in wanted}
    table: dict[int, int] = {}
    last_byte = last_char = 0
    for offset in wanted:
        last_char += len(data[last_byte:offset].decode("utf-8", "replace"))
        table[offset], last_byte = last_char, offset
    return table


def _next_char(data: bytes, pos: int) -> int:
    """The byte offset of the character after the one starting at ``pos``."""
    pos += 1
    while pos < len(data) and data[pos] & 0xC0 == 0x80:
        pos += 1
    return pos


class TextPattern:
    """A compiled RE2 pattern applied to ``str`` texts."""

    __slots__ = ("_regex", "case_sensitive", "group", "pattern")

    def __init__(self, pattern: str, case_sensitive: bool = True, group: int = 0) -> None:
        self._regex: Any = compile_regex(pattern, case_sensitive)
        self.pattern = pattern
        self.case_sensitive = case_sensitive
        self.group = group

    def search(self, text: str) -> bool:
        """True if the pattern matches anywhere in ``text``."""
        return self._regex.search(utf8(text)) is not None

    def _byte_spans(self, data: bytes, limit: int) -> Iterator[tuple[int, int]]:
        pos, found = 0, 0
        while found < limit and pos <= len(data):
            hit = self._regex.search(data, pos)
            if hit is None:
                return
            start, end = hit.span(self.group)
            yield start, end
            found += 1
            # Resume after the reported group, so text matched only as context
            # (such as a word boundary) can start the next hit.
            pos = end if end > hit.start() else _next_char(data, hit.end())

    def spans(self, text: str, limit: int) -> list[tuple[int, int]]:
        """Character spans of up to ``limit`` non-overlapping hits, in order."""
        data = utf8(text)
        found = list(self._byte_spans(data, limit))
        if not found:
            return found
        table = char_offsets(text, data, (offset for span in found for offset in span))
        return [(table[start], table[end]) for start, end in found]


class PatternSet:
    """Which of ``patterns`` match somewhere in a text (as :meth:`TextPattern.search` says), in one scan
    per case setting. ``usable`` is False when RE2 could not build the set (then ask each pattern)."""

    MAX_MEM = 64 << 20

    def __init__(self, patterns: Iterable[TextPattern]) -> None:
        self._sets: list[tuple[Any, list[TextPattern]]] = []
        self.usable = True
        unique = list(dict.fromkeys(patterns))  # a pattern hashes as itself
        for case_sensitive in (True, False):
            group = [p for p in unique if p.case_sensitive == case_sensitive]
            if not group:
                continue
            options = regex_options(case_sensitive)
            options.max_mem = self.MAX_MEM
            scan = re2.Set.SearchSet(options)
            try:
                for pattern in group:
                    scan.Add(pattern.pattern)
                scan.Compile()
            except re2.error:
                self.usable = False
                return
            self._sets.append((scan, group))

    def matching(self, text: str) -> set[TextPattern]:
        """The patterns that match somewhere in ``text``."""
        data = utf8(text)
        found: set[TextPattern] = set()
        for scan, group in self._sets:
            found.update(group[i] for i in scan.Match(data) or ())
        return found
