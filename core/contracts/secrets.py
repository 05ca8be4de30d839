"""Credentials never rest in a contract: the texts a captain or an agent writes are masked before storing.

A contract's title, description and notes are kept in the outbox's file and printed by
``contracts list``, so a token pasted into one would sit there in the clear. Contracts take the
message path's rule: whatever the secret detectors find (``quarterdeck.core.validation.secrets``) is stored
as ``[REDACTED:<kind>]``, the rest as written, and the change reports what was masked so the
captain learns the credential must reach the agent some other way. A line carrying
``quarterdeck:allow-secret`` is left alone, as in a message.
"""
from __future__ import annotations


def scrub(field: str, text: str) -> tuple[str, tuple[str, ...]]:
    """``text`` with its credentials masked, and one ``"<kind> in the <field>"`` per credential found."""
    # the detectors (the rules package, re2) are loaded by the changes that write text, not by a claim
    from quarterdeck.core.validation.secrets import find_secrets, redact

    findings = find_secrets(text)
    if not findings:
        return text, ()
    return redact(text), tuple(f"{finding.kind} in the {field}" for finding in findings)


def redaction_text(masked: tuple[str, ...]) -> str:
    """One line for the captain about what a change masked (empty when nothing was)."""
    if not masked:
        return ""
    return (f"stored redacted: {', '.join(masked)} (as [REDACTED:<kind>]); a contract is kept and shown in "
            "the clear, so give the agent that credential another way")
