"""Secret detection and redaction. Tokens are built at run time from seeded random bodies, never stored verbatim."""
from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import random
import statistics
import string
import timeit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quarterdeck.core.validation.secret_rules import shannon_entropy
from quarterdeck.core.validation.secrets import DETECTOR_KINDS, PRAGMA, SecretFinding, find_secrets, redact

B32 = string.ascii_uppercase + "234567"
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"


def rand(alphabet: str, n: int, seed: object = 0) -> str:
    rng = random.Random(f"{alphabet}|{n}|{seed}")
    return "".join(rng.choice(alphabet) for _ in range(n))


def b64json(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def jwt(payload: object = None, signature: str | None = None) -> str:
    claims = {"sub": "agent-7", "iat": 1700000000} if payload is None else payload
    sig = rand(URLSAFE, 43) if signature is None else signature
    return f"{b64json({'alg': 'HS256', 'typ': 'JWT'})}.{b64json(claims)}.{sig}"


def pem(label: str, lines: list[str] | None = None) -> str:
    body = "\n".join(lines or [rand(B64, 64, i) for i in range(4)])
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"


PUTTY = (
    "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: deploy\nPublic-Lines: 1\n"
    f"{rand(B64, 64, 'pub')}\nPrivate-Lines: 1\n{rand(B64, 64, 'priv')}\nPrivate-MAC: {rand(HEX, 40)}"
)
WEBHOOK = f"https://hooks.slack.com/services/T{rand(B32, 8)}/B{rand(B32, 8)}/{rand(ALNUM, 24)}"

POSITIVE = [  # (kind, token, public prefix shown in the preview)
    *[("aws_access_key_id", p + rand(B32, 16, p), p[:4]) for p in ("AKIA", "ASIA", "ABIA", "ACCA")],
    ("aws_access_key_id", "A3TX" + rand(B32, 16), "A3T"),
    *[("github_token", p + rand(ALNUM, 36, p), p) for p in ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")],
    ("github_token", "github_pat_" + rand(ALNUM + "_", 82), "github_pat_"),
    ("gitlab_token", "glpat-" + rand(URLSAFE, 20), "glpat-"),
    *[("private_key", pem(label), f"-----BEGIN {label}-----") for label in (
        "RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY",
        "DSA PRIVATE KEY", "PGP PRIVATE KEY BLOCK")],
    ("private_key", PUTTY, "PuTTY-User-Key-File-2:"),
    *[("slack_token", f"xox{c}-{rand(string.digits, 12, c)}-{rand(ALNUM, 24, c)}", f"xox{c}-") for c in "baprse"],
    ("slack_webhook", WEBHOOK, "https://hooks.slack.com/services/"),
    ("openai_key", "sk-" + rand(ALNUM, 20) + "T3BlbkFJ" + rand(ALNUM, 20, 1), "sk-"),
    *[("openai_key", p + rand(URLSAFE, 74, p) + "T3BlbkFJ" + rand(URLSAFE, 74, p + "2"), p)
      for p in ("sk-proj-", "sk-svcacct-", "sk-admin-")],
    ("openai_key", "sk-proj-" + rand(URLSAFE, 156), "sk-proj-"),
    *[("anthropic_key", p + rand(URLSAFE, 93, p) + "AA", p) for p in ("sk-ant-api03-", "sk-ant-admin01-")],
    ("google_api_key", "AIza" + rand(URLSAFE, 35), "AIza"),
    *[("stripe_key", p + rand(ALNUM, 24, p), p) for p in ("sk_live_", "rk_test_", "sk_prod_")],
    ("jwt", jwt(), "ey"), ("jwt", jwt(signature=""), "ey"),
    *[("high_entropy", t, "") for t in (rand(B64, 40), rand(URLSAFE, 64), rand(HEX, 32), rand(HEX.upper(), 64))],
]


@pytest.mark.parametrize(("kind", "token", "lead"), POSITIVE, ids=lambda v: v if v in DETECTOR_KINDS else "")
def test_each_format_is_found_with_its_exact_character_span(kind, token, lead):
    text = f"Grüße 👋 from the captain:\n{token}\nthat is all ✓"
    start = text.index(token)
    assert find_secrets(text) == [SecretFinding(kind, start, start + len(token), f"{lead}…[redacted]")]
    assert redact(text) == text.replace(token, f"[REDACTED:{kind}]")
    assert {k for k, _, _ in POSITIVE} | {"generic_assignment"} == set(DETECTOR_KINDS)


GENERIC = [
    "password = '{v}'", 'api_key="{v}"', '{{"client_secret": "{v}"}}', "DB_PASS={v}", "auth_token: {v}  # rotated",
    ":secret_key => '{v}'", "Authorization: Bearer {v}", "pwd := {v};", "https://x.test/cb?token={v}&page=2",
]


@pytest.mark.parametrize("template", GENERIC)
def test_generic_assignment_spans_only_the_value(template):
    secret = rand(ALNUM, 20, template)
    text = "Ünïcode first → " + template.format(v=secret)
    start = text.index(secret)
    assert find_secrets(text) == [SecretFinding("generic_assignment", start, start + len(secret), "…[redacted]")]


NEAR_MISS_BY_KIND = {  # not that kind, although the high_entropy fallback may still flag a random body
    "aws_access_key_id": ("AKIA" + rand(B32, 15), "AKIA" + rand(B32, 16).lower(), "XAKIA" + rand(B32, 16),
                          "AKIA" + rand(B32, 17), "AKIA0189" + rand(B32, 12)),
    "github_token": ("ghp_" + rand(ALNUM, 35), "ghx_" + rand(ALNUM, 36), "github_pat_" + rand(ALNUM, 60)),
    "gitlab_token": ("glpat-" + rand(ALNUM, 19),),
    "private_key": ("-----BEGIN PUBLIC KEY-----", "-----BEGIN CERTIFICATE-----", "PuTTY-User-Key"),
    "slack_token": ("xoxz-1234567890-abc", "xoxb-12345"),
    "slack_webhook": ("hooks.slack.com/services/short",),
    "openai_key": ("sk-" + rand(ALNUM, 48), "task-" + rand(ALNUM, 40), "sk-proj-" + rand(ALNUM, 20)),
    "anthropic_key": ("sk-ant-api03-" + rand(URLSAFE, 92) + "AA", "sk-ant-api03-" + rand(URLSAFE, 93) + "AB"),
    "google_api_key": ("AIza" + rand(URLSAFE, 34),),
    "stripe_key": ("pk_live_" + rand(ALNUM, 24), "sk_demo_" + rand(ALNUM, 24), "sk_live_" + rand(ALNUM, 9)),
    "jwt": ("eyesight.eyebrows.eyelid", jwt(payload=[1, 2]), "eyJub3Q.eyJqc29u.x"),
}
NEAR_MISSES = [(kind, text) for kind, texts in NEAR_MISS_BY_KIND.items() for text in texts]


@pytest.mark.parametrize(("kind", "text"), NEAR_MISSES)
def test_near_misses_are_not_reported_as_that_kind(kind, text):
    assert kind not in {f.kind for f in find_secrets(f"see: {text} .")}


ORDINARY = [
    "password = hunter2", "token: " + "ab" * 12, "password = '${DB_PASSWORD}'", "api_key: <your-api-key-here>",
    "secret = 'changeme-please-0000'", "token = get_token(request)", "api_key = settings.OPENAI_API_KEY",
    "SECRET_KEY = DJANGO_SECRET_KEY_NAME", "key: /home/dev/projects/quarterdeck/core/validation",
    "password: https://wiki.example.org/Security/Passwords", "the password policy: rotate every 90 days",
    "token:\n" + rand(ALNUM, 16), "sk-proj-" + "x" * 60, "xoxb-12345", "task-" + rand(ALNUM, 12),
    rand(HEX, 40), "sha256:" + rand(HEX, 64), "image@sha256:" + rand(HEX, 64),
    "123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000", "1" * 40 + "2" * 30,
    "0123456789abcdef0123456789abcdef", "deadbeef" * 6, string.ascii_uppercase + string.ascii_lowercase + "0123456789",
    "${" + rand(B32, 30) + "}", "<your-" + rand(ALNUM, 30) + ">", "{{ " + rand(HEX, 40, 1) + " }}", "x" * 64, "X" * 40,
    "src/main/java/com/Example/Project/Module42/HelperUtils.java", "AbstractSingletonProxyFactoryBean2",
    "https://github.com/quarterdeck/quarterdeck/pull/1234#issuecomment-1876543210",
    "test_modules_stay_under_the_line_ceiling_for_core_and_gui", "eyesight.eyebrows.eyelid",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_and_placeholders_are_not_flagged(text):
    assert find_secrets(f"see: {text} .") == []


MESSAGE = """Captain here. @agent-3 please rebase feature/secret-scan onto main (HEAD is
9fceb02d0ae598e95dc970b74767f19372d61af8) and rerun `.venv/bin/python -m pytest tests/core -q`.
The failure in /home/dev/projects/quarterdeck/core/validation/secrets.py line 142 looks like an
off-by-one; see https://github.com/quarterdeck/quarterdeck/pull/1234 and the run 20240518.3.
Traceback (most recent call last):
  File "core/delivery/queue.py", line 88, in push
    raise DeliveryError(f'agent {agent_id} is busy')
Keep the password policy note in docs/security.md and read the API key from the environment.
Token budget per agent: 200000; timeout: 30s; request id 123e4567-e89b-12d3-a456-426614174000.
@agent-5: bump version to 0.2.0, tag v0.2.0 after review. Ünïcödé is fine — naïve café résumé.
"""


def test_an_ordinary_dev_chat_message_has_no_findings_and_is_checked_fast():
    text = (MESSAGE * 6)[:4096]
    assert find_secrets(text) == [] and redact(text) == text
    runs = timeit.repeat(lambda: find_secrets(text), number=20, repeat=15)
    assert statistics.median(runs) / 20 < 1e-3  # typically 30-40 µs; the bound only catches blow-ups


def test_overlaps_merge_into_the_most_specific_kind_over_the_union_span():
    aws, token = "AKIA" + rand(B32, 16), jwt()
    text = f"aws_secret = {aws}\nAuthorization: Bearer {token}\n{pem('RSA PRIVATE KEY')}"
    found = find_secrets(text)
    assert [(f.kind, text[f.start:f.end]) for f in found] == [
        ("aws_access_key_id", aws), ("jwt", token), ("private_key", pem("RSA PRIVATE KEY"))]
    assert find_secrets(text, kinds=["generic_assignment"])[0].kind == "generic_assignment"
    inside = pem("RSA PRIVATE KEY").replace("\n", f"\n{rand(B64, 20)}+{aws}/{rand(B64, 20)}\n", 1)
    assert [f.kind for f in find_secrets(inside)] == ["private_key"]  # a key block outranks what it contains
    value = f"{rand(ALNUM, 8)}/AKIA{rand(B32, 16)}/{rand(ALNUM, 8)}"  # a partial overlap keeps the union span
    assert find_secrets(f"secret: {value}") == [SecretFinding("aws_access_key_id", 8, 46, "AKIA…[redacted]")]


def test_key_block_headers_inside_a_block_or_without_an_end():
    text = pem("RSA PRIVATE KEY").rsplit("\n", 1)[0]  # unterminated: the header, and body lines by entropy
    assert find_secrets(text)[0] == SecretFinding("private_key", 0, 31, "-----BEGIN RSA PRIVATE KEY-----…[redacted]")
    assert redact(text) == "[REDACTED:private_key]" + "\n[REDACTED:high_entropy]" * 4
    nested = "-----BEGIN EC PRIVATE KEY-----\n" + pem("PRIVATE KEY")
    assert [(f.start, f.end) for f in find_secrets(nested)] == [(0, len(nested))]
    assert len(find_secrets("-----BEGIN PRIVATE KEY----- x " * 20000)) == 20000  # END is not searched 20000 times


def test_findings_are_sorted_and_kinds_filter_the_detectors_or_name_the_unknown_one():
    aws, ghp, hexkey = "AKIA" + rand(B32, 16), "ghp_" + rand(ALNUM, 36), rand(HEX, 48)
    text = f"{ghp} then {aws} then {hexkey}"
    assert [f.kind for f in find_secrets(text)] == ["github_token", "aws_access_key_id", "high_entropy"]
    assert [f.kind for f in find_secrets(text, kinds=("aws_access_key_id",))] == ["aws_access_key_id"]
    assert [f.kind for f in find_secrets(text, kinds="github_token")] == ["github_token"]
    only_entropy = find_secrets(text, kinds=iter(["high_entropy"]))
    assert [text[f.start:f.end] for f in only_entropy] == [ghp, hexkey]  # the fallback still catches the token
    assert find_secrets(text, kinds=[]) == []
    with pytest.raises(ValueError, match="'aws_key'") as error:
        find_secrets("x", kinds=["jwt", "aws_key"])
    assert all(kind in str(error.value) for kind in DETECTOR_KINDS)


def test_min_entropy_replaces_the_floors_and_is_validated():
    short = "password = " + rand(ALNUM, 16)
    assert find_secrets(short) and not find_secrets(short, min_entropy=6.0)
    mild = "Z9" + "ab1" * 8
    assert not find_secrets(mild) and find_secrets(mild, min_entropy=1.5)[0].kind == "high_entropy"
    assert find_secrets("123E4567-E89B-12D3-A456-426614174000", min_entropy=1.0) == []
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            find_secrets("x", min_entropy=bad)


def test_pragma_on_any_line_a_finding_touches_suppresses_it():
    aws, key = "AKIA" + rand(B32, 16), pem("OPENSSH PRIVATE KEY")
    text = f"{aws}  # {PRAGMA}\n{aws}\n{key}  # {PRAGMA}"
    assert [(f.kind, f.start) for f in find_secrets(text)] == [("aws_access_key_id", len(aws) + len(PRAGMA) + 5)]
    assert redact(text).count("[REDACTED:") == 1


def test_offsets_count_characters_not_bytes_even_with_lone_surrogates():
    aws, ghp = "ASIA" + rand(B32, 16), "ghs_" + rand(ALNUM, 36)
    text = f"日本語 \ud800 {aws} 🚀🚀 é {ghp}"
    assert [text[f.start:f.end] for f in find_secrets(text)] == [aws, ghp]
    assert redact(text) == "日本語 \ud800 [REDACTED:aws_access_key_id] 🚀🚀 é [REDACTED:github_token]"
    greek = rand("αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔ0123456789", 20)
    text = f"→ passwort = '{greek}' ✓"
    assert [text[f.start:f.end] for f in find_secrets(text)] == [greek]


def test_redact_with_explicit_findings_merges_overlaps_and_rejects_bad_spans():
    text = "0123456789"
    given_findings = [SecretFinding("high_entropy", 2, 6, "…"), SecretFinding("jwt", 4, 8, "ey…")]
    assert redact(text, given_findings) == "01[REDACTED:jwt]89"
    assert redact(text, []) == text
    with pytest.raises(ValueError, match="does not fit"):
        redact(text, [SecretFinding("jwt", 5, 11, "ey…")])


def test_markers_never_match_and_redaction_repeats_until_nothing_is_left():
    for kind in DETECTOR_KINDS:
        mark = f"[REDACTED:{kind}]"
        for text in (mark, f"password = {mark}", f"token: '{mark}'", f'"api_key": "{mark}"', mark * 3):
            assert find_secrets(text) == []
    token = "ghp_" + "A" * 35 + "1"  # valid format, low entropy: only a word boundary hides it at first
    text = f"PuTTY-User-Key-File-2: ssh-ed25519\nPrivate-MAC: 0a1b2c{token} ok"
    assert [f.kind for f in find_secrets(text)] == ["private_key"]
    assert redact(text) == "[REDACTED:private_key][REDACTED:github_token] ok"


def test_large_inputs_are_scanned_to_the_end():
    blob = " ".join(rand(ALNUM, 30, i) for i in range(20000))
    aws = "AKIA" + rand(B32, 16)
    assert find_secrets(f"{blob} {aws}", kinds=["aws_access_key_id"])[-1].end == len(blob) + 21


@pytest.mark.parametrize(("s", "bits"), [("", 0.0), ("aaaa", 0.0), ("ab", 1.0), ("abcd", 2.0), ("aabb", 1.0)])
def test_shannon_entropy_and_the_finding_type(s, bits):
    assert shannon_entropy(s) == pytest.approx(bits)
    with pytest.raises(dataclasses.FrozenInstanceError):
        SecretFinding("jwt", 0, 1, s).kind = "x"  # type: ignore[misc]
    assert not hasattr(SecretFinding("jwt", 0, 1, s), "__dict__")


def _token(prefix: str, alphabet: str, size: int, suffix: str = "") -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size).map(lambda body: prefix + body + suffix)


TOKENS = st.one_of(
    _token("AKIA", B32, 16), _token("ghp_", ALNUM, 36), _token("glpat-", URLSAFE, 20),
    _token("xoxb-", ALNUM, 30), _token("sk-ant-api03-", URLSAFE, 93, "AA"), _token("AIza", URLSAFE, 35),
    _token("sk_live_", ALNUM, 24), _token("sk-", ALNUM, 20, "T3BlbkFJ" + "Q" * 20),
    st.lists(st.text(B64, min_size=1, max_size=64), min_size=1, max_size=3).map(lambda ls: pem("EC PRIVATE KEY", ls)),
    st.builds(jwt, st.dictionaries(st.text(ALNUM, min_size=1, max_size=5), st.integers(), min_size=1),
              st.text(URLSAFE, max_size=40)),
)
FILLER = st.text(st.characters(codec="utf-8", exclude_characters=string.digits + "=:"), max_size=12)
GENERIC_ASSIGNMENTS = st.builds(
    lambda key, value: f"{key}={value}", st.sampled_from(["password", "api_key", "TOKEN"]),
    st.text(ALNUM, min_size=16, max_size=30))
PARTS = st.one_of(TOKENS.map(lambda t: (t, True)), st.one_of(FILLER, GENERIC_ASSIGNMENTS).map(lambda t: (t, False)))
SEPARATORS = st.sampled_from([" ", "\n", ", ", " -> ", "; "])


@settings(max_examples=300)
@given(st.lists(st.tuples(PARTS, SEPARATORS), max_size=8))
def test_redaction_leaves_no_raw_value_and_nothing_to_find(parts):
    text = "".join(part + sep for (part, _), sep in parts)
    redacted = redact(text)
    for finding in find_secrets(text):
        assert text[finding.start:finding.end] not in redacted
    assert find_secrets(redacted) == []
    assert redact(redacted) == redacted
    assert not [part for (part, is_token), _ in parts if is_token and part in redacted]


@settings(max_examples=300)
@given(st.text())
def test_arbitrary_text_keeps_everything_outside_findings(text):
    found = find_secrets(text)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    expected, cursor = [], 0
    for f in found:
        expected += [text[cursor:f.start], f"[REDACTED:{f.kind}]"]
        cursor = f.end
    assert redact(text, found) == "".join(expected) + text[cursor:]
    assert find_secrets(redact(text)) == [] and redact(redact(text)) == redact(text)
