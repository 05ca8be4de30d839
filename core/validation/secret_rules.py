"""What a secret looks like: the RE2 detector table and the Python post-checks behind it.

Fixed formats (cloud keys, tokens, key blocks) are matched by RE2 alone, plus a word-boundary check
on the left; JWTs are decoded; generic assignments and long base64/hex runs are judged by Shannon
entropy (bits per character) and by their shape. Never high-entropy secrets: a bare 40-hex run (a
git commit SHA), a hex run labelled ``sha256:`` or similar (a digest), UUIDs, placeholders, alphabet
walks, paths and identifiers.
"""
from __future__ import annotations

import base64
import json
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from math import log2
from operator import eq
from typing import Any

import re2

BASE64_FLOOR = 4.5
HEX_FLOOR = 3.0
GENERIC_FLOOR = 3.5
BASE64_MIN_LEN = 20
HEX_MIN_LEN = 32
COMMIT_SHA_LEN = 40
DIGEST_CONTEXT = 16

_HEX_LOWER = frozenset("0123456789abcdef")
_HEX_UPPER = frozenset("0123456789ABCDEF")
_DIGEST_LABELS = ("sha1", "sha224", "sha256", "sha384", "sha512", "md5", "blake2b", "checksum", "digest", "commit")
_PLACEHOLDER_OPENERS = ("${", "{{", "%(", "$(", "<", "[REDACTED")
_PLACEHOLDER_WORDS = ("example", "placeholder", "changeme", "change_me", "change-me", "redacted", "dummy", "xxxx")
_WEIGHTS = [0.0] + [c * log2(c) for c in range(1, 257)]  # count * log2(count), precomputed for short tokens
_UP = bytes((b + 1) % 256 for b in range(256))
_DOWN = bytes((b - 1) % 256 for b in range(256))
_WRAPPERS = ((b"${", b"}"), (b"{{", b"}}"), (b"<", b">"), (b"%(", b")"))
_WORD_BYTES = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_PATH_STARTS = ("/", "./", "../", "~/", "\\\\")


def _count_weight(count: int) -> float:
    return _WEIGHTS[count] if count < len(_WEIGHTS) else count * log2(count)


def shannon_entropy(s: str) -> float:
    """Shannon entropy of ``s`` in bits per character; 0.0 for the empty string."""
    n = len(s)
    if n == 0:
        return 0.0
    return max(0.0, log2(n) - sum(map(_count_weight, Counter(s).values())) / n)


def could_reach(token: str, floor: float) -> bool:
    """Cheap upper bound: entropy never exceeds log2 of the number of distinct characters."""
    return floor <= 0 or len(set(token)) >= 2**floor


def is_hex(token: str) -> bool:
    """Hex in one consistent case (digests and hex keys never mix cases)."""
    chars = set(token)
    return chars <= _HEX_LOWER or chars <= _HEX_UPPER


def is_uuid(token: str) -> bool:
    if len(token) != 36 or [i for i, ch in enumerate(token) if ch == "-"] != [8, 13, 18, 23]:
        return False
    return is_hex(token.replace("-", "").lower())


def is_sequence(token: str) -> bool:
    """Alphabet walks such as ``abcdef…`` or ``0123…``: most neighbours differ by exactly one code point."""
    if token.isascii():
        codes = token.encode("ascii")
        rest = codes[1:]
        steps: int = sum(map(eq, codes.translate(_UP), rest)) + sum(map(eq, codes.translate(_DOWN), rest))
    else:
        steps = sum(1 for a, b in pairwise(token) if abs(ord(b) - ord(a)) == 1)
    return 2 * steps >= len(token) - 1


def is_placeholder(value: str) -> bool:
    """Stand-ins: ``${VAR}``, ``{{ x }}``, ``<your-key>``, ``$NAME``, ``xxxx…``, ``changeme``, redaction marks."""
    if value.startswith(_PLACEHOLDER_OPENERS) or (value.startswith("$") and value[1:2].isalpha()):
        return True
    lowered = value.lower()
    return any(word in lowered for word in _PLACEHOLDER_WORDS)


def is_wrapped(data: bytes, start: int, end: int) -> bool:
    """Template slots such as ``${…}``, ``{{…}}`` and ``<…>`` around ``data[start:end]`` hold stand-ins."""
    return any(data[max(0, start - len(o)):start] == o and data[end:end + len(c)] == c for o, c in _WRAPPERS)


def is_wordy(token: str) -> bool:
    """Paths and identifiers: every ``/``-separated part is letters, optionally followed by digits.

    ``src/core/Module42/helpers`` and ``AbstractSingletonFactoryBean`` are wordy; key material mixes
    digits into letters almost always.
    """
    for part in token.split("/"):
        bare = part.replace("_", "").replace("-", "").rstrip("=")
        if bare and not (bare.rstrip("0123456789").isalpha() or bare.isdigit()):
            return False
    return True


def is_path_or_url(value: str) -> bool:
    if value.startswith(_PATH_STARTS) or "://" in value:
        return True
    return len(value) > 2 and value[0].isalpha() and value[1] == ":" and value[2] in "\\/"


def is_code_reference(value: str) -> bool:
    """``settings.API_KEY``, ``os.environ``, ``SECRET_KEY_NAME``, ``get_token``: names, not values."""
    parts = value.split(".")
    if len(parts) > 1 and all(p.isidentifier() for p in parts):
        return True
    snake = "_" in value and value.replace("_", "").isalnum() and value.isascii()
    return snake and not value[0].isdigit() and (value.isupper() or value.islower())


def base64_token_is_secret(token: str, floor: float) -> bool:
    """A base64-ish run that looks like key material."""
    if len(token) < BASE64_MIN_LEN or not could_reach(token, floor) or token.isdigit() or is_uuid(token):
        return False
    if shannon_entropy(token) < floor:
        return False
    return not (is_wordy(token) or is_sequence(token))


def hex_token_is_secret(token: str, before: str, floor: float) -> bool:
    """A one-case hex run of at least HEX_MIN_LEN. A bare 40-hex run is a commit SHA, and a run labelled
    ``sha256:``, ``md5 ``, ``commit `` and the like is a digest or an object id."""
    if len(token) == COMMIT_SHA_LEN or token.isdigit():
        return False
    if before.rstrip(" \t:=-(@").lower().endswith(_DIGEST_LABELS):
        return False
    if not could_reach(token, floor) or shannon_entropy(token) < floor:
        return False
    return not is_sequence(token)


def generic_value_is_secret(value: str, bare: bool, floor: float) -> bool:
    """The value of ``password = …``-style assignments: random enough, and not a name, path or stand-in."""
    if not value or not could_reach(value, floor) or shannon_entropy(value) < floor:
        return False
    if is_placeholder(value) or is_path_or_url(value) or is_sequence(value):
        return False
    return not (bare and is_code_reference(value))


def _json_object(part: bytes) -> bool:
    try:
        return isinstance(json.loads(base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))), dict)
    except (ValueError, RecursionError):
        return False


def is_jwt(raw: bytes) -> bool:
    header, payload, _ = raw.split(b".", 2)
    return _json_object(header) and _json_object(payload)


def is_openai_key(raw: bytes) -> bool:
    """Keys carry ``T3BlbkFJ``; newer long ``sk-proj-`` keys may not, so those must at least look random."""
    if b"T3BlbkFJ" in raw:
        return True
    body = raw[len(b"sk-proj-"):].decode("ascii")
    return shannon_entropy(body) >= GENERIC_FLOOR and not is_placeholder(body)


def is_anthropic_key(raw: bytes) -> bool:
    return len(raw.split(b"-", 3)[3]) == 95 and raw.endswith(b"AA")


Floors = tuple[float, float, float]  # generic value, base64 token, hex token
Hit = tuple[int, int, bytes]  # byte start, byte end, public prefix shown in previews


@dataclass(slots=True)
class Scan:
    """One message being scanned. ``claimed`` holds byte spans already taken by more specific detectors."""

    data: bytes
    floors: Floors
    claimed: list[tuple[int, int]]

    def is_claimed(self, start: int, end: int) -> bool:
        if not self.claimed:
            return False
        i = bisect_right(self.claimed, (start, len(self.data))) - 1
        return i >= 0 and self.claimed[i][1] >= end


Scanner = Callable[[Any, Scan], Iterator[Hit]]


def _plain(lead: str, verify: Callable[[bytes], bool] | None = None, bounded: bool = True) -> Scanner:
    """Whole-match detectors. ``lead`` matches the public prefix shown in previews. ``bounded`` ones must
    start at a word boundary, checked here: a leading ``\\b`` would stop RE2 skipping ahead to the prefix."""
    lead_regex = re2.compile(lead)

    def scan(regex: Any, ctx: Scan) -> Iterator[Hit]:
        data = ctx.data
        for match in regex.finditer(data):
            start, end = match.span()
            if bounded and start and data[start - 1] in _WORD_BYTES:
                continue
            raw = data[start:end]
            if verify is None or verify(raw):
                yield start, end, raw[: lead_regex.match(raw).end()]

    return scan


def _block(closing: str) -> Scanner:
    """A header, then everything through the first ``closing`` match after it, or the header alone.

    Searching for the closing line in Python keeps many unterminated headers linear: once a search
    fails, no later header can be closed either."""
    closing_regex = re2.compile(closing)

    def scan(regex: Any, ctx: Scan) -> Iterator[Hit]:
        data, resume, open_ended = ctx.data, 0, False
        for match in regex.finditer(data):
            start, end = match.span()
            if start < resume:
                continue  # a header inside the block just reported
            close = None if open_ended else closing_regex.search(data, end)
            open_ended = close is None
            yield start, end if close is None else close.end(), data[start:end]
            resume = end if close is None else close.end()

    return scan


def _scan_generic(regex: Any, ctx: Scan) -> Iterator[Hit]:
    for match in regex.finditer(ctx.data):
        start, end = max(match.span(1), match.span(2), match.span(3))
        if ctx.is_claimed(start, end):
            continue
        value = ctx.data[start:end].decode("utf-8")
        if generic_value_is_secret(value, bare=match.span(3)[0] >= 0, floor=ctx.floors[0]):
            yield start, end, b""


def _scan_base64(regex: Any, ctx: Scan) -> Iterator[Hit]:
    data = ctx.data
    for match in regex.finditer(data):
        start, end = match.span()
        if ctx.is_claimed(start, end):
            continue
        token = data[start:end].decode("ascii")
        if base64_token_is_secret(token, ctx.floors[1]) and not is_wrapped(data, start, end):
            yield start, end, b""


def _scan_hex(regex: Any, ctx: Scan) -> Iterator[Hit]:
    data = ctx.data
    for match in regex.finditer(data):
        start, end = match.span()
        if data[start - 1:start].isalnum() or data[end:end + 1].isalnum() or ctx.is_claimed(start, end):
            continue  # hex inside a longer alphanumeric token is for the base64 rule to judge
        before = data[max(0, start - DIGEST_CONTEXT):start].decode("utf-8", "replace")
        token = data[start:end].decode("ascii")
        if hex_token_is_secret(token, before, ctx.floors[2]) and not is_wrapped(data, start, end):
            yield start, end, b""


_B64 = r"[A-Za-z0-9+/_-]"  # a run must mix in an uppercase letter and a digit, as key material does
BASE64_TOKEN = rf"(?:{_B64}*[A-Z]{_B64}*[0-9]|{_B64}*[0-9]{_B64}*[A-Z]){_B64}*={{0,2}}"
_KEY_LINE = r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
_GENERIC = (
    r"(?i)(?:key|secret|token|pass|pwd|credential|authorization)[\w.-]*[\"']?[ \t]*(?:=>|:=|=|:)[ \t]*"
    r"(?:(?:bearer|basic|token)[ \t]+)?(?:\"([^\"\r\n]*)\"|'([^'\r\n]*)'|([^\s\"'`,;()\[\]{}<>&]+))"
)
DETECTORS: tuple[tuple[str, str, Scanner], ...] = (  # (kind, RE2 pattern, scanner)
    ("aws_access_key_id", r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}\b", _plain("AKIA|ASIA|ABIA|ACCA|A3T")),
    ("github_token", r"(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_\w{82})\b", _plain("gh[pousr]_|github_pat_")),
    ("gitlab_token", r"glpat-[\w-]{20,}", _plain("glpat-")),
    ("private_key", "-----BEGIN " + _KEY_LINE, _block("-----END " + _KEY_LINE)),
    ("private_key", "PuTTY-User-Key-File-[23]:", _block(r"Private-MAC:[ \t]*[0-9a-fA-F]+")),
    ("slack_token", r"xox[baprse]-[0-9A-Za-z][0-9A-Za-z-]{8,}", _plain("xox.-")),
    ("slack_webhook", r"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[\w/+-]{20,}",
     _plain(r"(?:https?://)?hooks\.slack\.com/\w+/")),
    ("openai_key", r"sk-(?:(?:proj|svcacct|admin)-)?[\w-]{8,}T3BlbkFJ[\w-]{8,}|sk-proj-[\w-]{40,}",
     _plain("sk-(?:(?:proj|svcacct|admin)-)?", is_openai_key)),
    ("anthropic_key", r"sk-ant-(?:api03|admin01)-[\w-]{95,}", _plain(r"sk-ant-\w+-", is_anthropic_key)),
    ("google_api_key", r"AIza[\w-]{35,}", _plain("AIza", lambda raw: len(raw) == 39)),
    ("stripe_key", r"[sr]k_(?:live|test|prod)_[0-9A-Za-z]{10,}\b", _plain("[sr]k_[a-z]+_")),
    ("jwt", r"ey[\w-]{3,}\.ey[\w-]{3,}\.[\w-]*", _plain("ey", is_jwt)),
    ("generic_assignment", _GENERIC, _scan_generic),
    ("high_entropy", BASE64_TOKEN, _scan_base64),
    ("high_entropy", f"[0-9a-f]{{{HEX_MIN_LEN},}}|[0-9A-F]{{{HEX_MIN_LEN},}}", _scan_hex),
)
