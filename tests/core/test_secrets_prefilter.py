"""The secret scan's prefilter: one RE2 set scan per text, kept for the next look at the same text, with a
length-aware stand-in for the base64 detector. Findings must be exactly those of the plain prefilter (every
detector's own pattern), on texts made to sit at the stand-in's edges."""
from __future__ import annotations

import random
import string

import pytest
import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from quarterdeck.core.validation import secrets
from quarterdeck.core.validation.secret_rules import BASE64_MIN_LEN, DETECTORS
from quarterdeck.core.validation.secrets import DETECTOR_KINDS, PRAGMA, find_secrets

B64ISH = string.ascii_letters + string.digits + "+/_-"
KIND_CHOICES = [None, ["high_entropy"], [k for k in DETECTOR_KINDS if k != "high_entropy"], ["jwt", "github_token"]]


def plain_prefilter() -> object:
    """The set every detector's own pattern goes into (what the stand-in replaces)."""
    options = re2.Options()
    options.log_errors = False
    prefilter = re2.Set.SearchSet(options)
    for _, pattern, _ in DETECTORS:
        prefilter.Add(pattern)
    prefilter.Add(re2.escape(PRAGMA))
    prefilter.Compile()
    return prefilter


def found_both_ways(monkeypatch: pytest.MonkeyPatch, text: str, kinds: list[str] | None,
                    floor: float | None = None) -> tuple[list, list]:
    secrets._scanned.cache_clear()
    fast = find_secrets(text, kinds, floor)
    again = find_secrets(text, kinds, floor)  # from the kept scan
    assert again == fast
    with monkeypatch.context() as patched:
        patched.setattr(secrets, "_PREFILTER", plain_prefilter())
        secrets._scanned.cache_clear()
        plain = find_secrets(text, kinds, floor)
    secrets._scanned.cache_clear()
    return fast, plain


def token(rng: random.Random) -> str:
    size = rng.choice([2, 4, BASE64_MIN_LEN - 3, BASE64_MIN_LEN - 2, BASE64_MIN_LEN - 1, BASE64_MIN_LEN,
                       BASE64_MIN_LEN + 1, BASE64_MIN_LEN + 8, 40, 64])
    body = "".join(rng.choice(B64ISH) for _ in range(size))
    return body + "=" * rng.choice([0, 0, 1, 2, 3])


def text_of(rng: random.Random) -> str:
    glue = [" ", "\n", "=", ":", "é", "-", ", ", f" {PRAGMA} "]
    return "".join(token(rng) + rng.choice(glue) for _ in range(rng.randint(1, 6)))


def test_base64_tokens_at_the_minimum_length_are_found_as_before(monkeypatch):
    rng = random.Random(14)
    secret = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(BASE64_MIN_LEN))
    fast, plain = found_both_ways(monkeypatch, f"take {secret} now", None, 3.0)  # 20 characters reach 3 bits
    assert fast == plain and [f.kind for f in fast] == ["high_entropy"]  # the stand-in lets it through
    fast, plain = found_both_ways(monkeypatch, f"take {secret[:-1]} now", None, 3.0)
    assert fast == plain == []


def test_findings_equal_the_plain_prefilters_on_texts_at_the_edges(monkeypatch):
    rng = random.Random(2026)
    reported = 0
    for _ in range(600):
        text, kinds, floor = text_of(rng), rng.choice(KIND_CHOICES), rng.choice([None, 2.0, 3.5])
        fast, plain = found_both_ways(monkeypatch, text, kinds, floor)
        assert fast == plain, text
        reported += len(fast)
    assert reported > 100  # the texts did hold secrets to find


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(list(B64ISH + "= \n.:é")), max_size=120), st.sampled_from(KIND_CHOICES),
       st.sampled_from([None, 2.0]))
def test_findings_equal_the_plain_prefilters_on_any_text(text, kinds, floor):
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, plain = found_both_ways(monkeypatch, text, kinds, floor)
    assert fast == plain


def test_a_kept_scan_belongs_to_its_text_alone():
    rng = random.Random(7)
    secret = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32))
    texts = [f"key {n}: {secret}" if n % 2 else f"nothing {n} here" for n in range(20)]
    first = [find_secrets(t) for t in texts]
    assert [bool(f) for f in first] == [bool(n % 2) for n in range(20)]
    assert [find_secrets(t) for t in reversed(texts)] == list(reversed(first))
