"""Find and mask credentials in captain messages before they reach an agent or a log.

One RE2 set scan over the message tells which detectors (see ``secret_rules``) can match at all;
only those run, most specific first (the scans of the last few texts are kept: the rule engine's
secret rules and the submission's redaction look at the same content one after another).
Overlapping hits merge into their union span, named after the most specific kind among them.
``quarterdeck:allow-secret`` on any line a finding touches suppresses that finding. Offsets count
characters of the original ``str``, and a preview shows at most the public prefix of a format, never
key material.
"""
from __future__ import annotations

import functools
import math
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

import re2

from quarterdeck.core.validation.secret_rules import (
    BASE64_FLOOR,
    BASE64_MIN_LEN,
    BASE64_TOKEN,
    DETECTORS,
    GENERIC_FLOOR,
    HEX_FLOOR,
    Floors,
    Scan,
    Scanner,
    shannon_entropy,
)

__all__ = ["DETECTOR_KINDS", "PRAGMA", "DetectorKind", "SecretFinding", "find_secrets", "nothing_to_find", "redact",
           "shannon_entropy"]

DetectorKind = Literal[
    "aws_access_key_id", "github_token", "gitlab_token", "private_key", "slack_token", "slack_webhook",
    "openai_key", "anthropic_key", "google_api_key", "stripe_key", "jwt", "generic_assignment", "high_entropy",
]
DETECTOR_KINDS: tuple[str, ...] = get_args(DetectorKind)
PRAGMA = "quarterdeck:allow-secret"

# Specificity when hits overlap: a key block outranks anything found inside it, then the order above.
_SPECIFICITY = ("private_key", *(kind for kind in DETECTOR_KINDS if kind != "private_key"))
_RANK = {kind: rank for rank, kind in enumerate(_SPECIFICITY)}
_ALL_KINDS = frozenset(DETECTOR_KINDS)
_Ranked = tuple[int, int, int, bytes]  # byte start, byte end, rank, public prefix
# The one scan's stand-in for a detector's pattern, met by every hit it can report: a base64 token
# shorter than BASE64_MIN_LEN never is one (and short mixed words such as "A1-3" are common).
_PREFILTERS = {BASE64_TOKEN: f"[A-Za-z0-9+/_=-]{{{BASE64_MIN_LEN},}}"}


@dataclass(frozen=True, slots=True)
class SecretFinding:
    kind: str
    start: int
    end: int
    preview: str


def _build() -> tuple[Any, list[tuple[str, Any, Scanner]]]:
    options = re2.Options()
    options.log_errors = False
    prefilter = re2.Set.SearchSet(options)
    for _, pattern, _ in DETECTORS:
        prefilter.Add(_PREFILTERS.get(pattern, pattern))
    prefilter.Add(re2.escape(PRAGMA))
    prefilter.Compile()
    return prefilter, [(kind, re2.compile(pattern, options), scan) for kind, pattern, scan in DETECTORS]


_PREFILTER, _COMPILED = _build()
_PRAGMA_INDEX = len(_COMPILED)
_RUN_ORDER = [_RANK[kind] for kind, _, _ in _COMPILED] + [len(_RANK)]
_PRAGMA_BYTES = PRAGMA.encode("ascii")


def _wanted(kinds: Iterable[str] | None) -> frozenset[str]:
    if kinds is None:
        return _ALL_KINDS
    return _wanted_of((kinds,) if isinstance(kinds, str) else tuple(kinds))


@functools.lru_cache(maxsize=64)
def _wanted_of(kinds: tuple[str, ...]) -> frozenset[str]:
    wanted = frozenset(kinds)
    unknown = sorted(repr(k) for k in wanted if k not in _ALL_KINDS)
    if unknown:
        raise ValueError(f"unknown secret kind {', '.join(unknown)}; valid kinds: {', '.join(DETECTOR_KINDS)}")
    return wanted


def _floors(min_entropy: float | None) -> Floors:
    if min_entropy is None:
        return GENERIC_FLOOR, BASE64_FLOOR, HEX_FLOOR
    if not (math.isfinite(min_entropy) and min_entropy >= 0):
        raise ValueError(f"min_entropy must be a finite number >= 0, got {min_entropy!r}")
    return min_entropy, min_entropy, min_entropy


def _merge(hits: list[_Ranked]) -> list[_Ranked]:
    """Overlapping hits become one span (their union) named after the most specific kind among them."""
    merged: list[_Ranked] = []
    for start, end, rank, lead in sorted(hits):
        if merged and start < merged[-1][1]:
            m_start, m_end, m_rank, m_lead = merged[-1]
            if rank < m_rank:
                m_rank, m_lead = rank, lead
            merged[-1] = (m_start, max(m_end, end), m_rank, m_lead)
        else:
            merged.append((start, end, rank, lead))
    return merged


def _pragma_lines(data: bytes) -> list[tuple[int, int]]:
    """Byte spans of the lines carrying the pragma, in order."""
    lines, at = [], data.find(_PRAGMA_BYTES)
    while at >= 0:
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end
        lines.append((data.rfind(b"\n", 0, at) + 1, end))
        at = data.find(_PRAGMA_BYTES, end)
    return lines


def _touches(lines: list[tuple[int, int]], start: int, end: int) -> bool:
    i = bisect_left(lines, start, key=lambda line: line[1])  # the first pragma line ending at or after start
    return i < len(lines) and lines[i][0] < end


def _char_offsets(data: bytes, offsets: Iterable[int]) -> dict[int, int]:
    table, last_byte, last_char = {0: 0}, 0, 0
    for offset in sorted(set(offsets)):
        last_char += len(data[last_byte:offset].decode("utf-8"))
        table[offset], last_byte = last_char, offset
    return table


@functools.lru_cache(maxsize=8)
def _scanned(text: str) -> tuple[bytes, frozenset[int]]:
    """``text`` as UTF-8 (a lone surrogate becomes one "?", so offsets still line up) and the detectors
    (indices into ``_COMPILED``, and ``_PRAGMA_INDEX``) that may match it."""
    data = text.encode("utf-8", "replace")
    return data, frozenset(_PREFILTER.Match(data) or ())


def nothing_to_find(text: str, kinds: Iterable[str] | None = None) -> bool:
    """True when no detector of ``kinds`` can find anything in ``text`` (the prefilter's scan, kept)."""
    wanted = _wanted(kinds)
    return not any(i != _PRAGMA_INDEX and _COMPILED[i][0] in wanted for i in _scanned(text)[1])


def find_secrets(
    text: str, kinds: Iterable[str] | None = None, min_entropy: float | None = None
) -> list[SecretFinding]:
    """Credentials in ``text``, sorted by start, with overlaps merged so the most specific kind wins.

    ``kinds`` limits the detectors (a single kind name is accepted too); an unknown name raises
    ``ValueError``. ``min_entropy`` replaces every entropy floor (generic 3.5, base64 4.5, hex 3.0).
    """
    wanted, floors = _wanted(kinds), _floors(min_entropy)
    if not wanted:
        return []
    data, indices = _scanned(text)
    if not indices:
        return []
    hits: list[_Ranked] = []
    ctx = Scan(data, floors, [])
    for index in sorted(indices, key=_RUN_ORDER.__getitem__):
        if index == _PRAGMA_INDEX or _COMPILED[index][0] not in wanted:
            continue
        kind, regex, scan = _COMPILED[index]
        found = [(start, end, _RANK[kind], lead) for start, end, lead in scan(regex, ctx)]
        if found:
            hits += found
            ctx.claimed = sorted(hit[:2] for hit in hits)
    merged = _merge(hits)
    if _PRAGMA_INDEX in indices:
        lines = _pragma_lines(data)
        merged = [hit for hit in merged if not _touches(lines, hit[0], hit[1])]
    chars = None if text.isascii() else _char_offsets(data, (offset for hit in merged for offset in hit[:2]))
    return [
        SecretFinding(
            kind=_SPECIFICITY[rank],
            start=start if chars is None else chars[start],
            end=end if chars is None else chars[end],
            preview=f"{lead.decode('utf-8')}…[redacted]",
        )
        for start, end, rank, lead in merged
    ]


def _mask(text: str, findings: Iterable[SecretFinding]) -> str:
    spans: list[tuple[int, int, str]] = []
    for f in sorted(findings, key=lambda f: (f.start, f.end)):
        if not 0 <= f.start < f.end <= len(text):
            raise ValueError(f"finding span {f.start}..{f.end} does not fit a text of {len(text)} characters")
        if spans and f.start < spans[-1][1]:
            start, end, kind = spans[-1]
            best = min(kind, f.kind, key=lambda k: _RANK.get(k, len(_RANK)))
            spans[-1] = (start, max(end, f.end), best)
        else:
            spans.append((f.start, f.end, f.kind))
    pieces, cursor = [], 0
    for start, end, kind in spans:
        pieces += [text[cursor:start], f"[REDACTED:{kind}]"]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def redact(text: str, findings: Iterable[SecretFinding] | None = None) -> str:
    """``text`` with every secret replaced by ``[REDACTED:<kind>]``; all other characters are kept as they are.

    Given ``findings``, it masks exactly those. Otherwise it detects them itself and repeats until nothing
    is left, because a mask can expose a word boundary that hid a token; so ``redact(redact(x)) == redact(x)``.
    The loop ends: every pass replaces original characters, and the markers themselves never match.
    """
    if findings is not None:
        return _mask(text, findings)
    found = find_secrets(text)
    while found:
        text = _mask(text, found)
        found = find_secrets(text)
    return text
