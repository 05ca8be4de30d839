"""The composer's check follows the send mode, and "allow here" accepts warnings only."""
from __future__ import annotations

from quarterdeck.core.compose.draft import Draft, accept, accept_key, as_sent, check, compose
from quarterdeck.core.models import Agent, DryRunTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.validation import Validator, bundled_rules_dir, load_rule_files

TEAM = Roster(tuple(Agent(id=f"Agent-{i}", transport=DryRunTransport()) for i in (1, 2, 3)), {})


def bundled() -> Validator:
    ruleset, _ = load_rule_files([bundled_rules_dir()])
    return Validator(ruleset)


def test_nobody_ticked_is_checked_as_the_broadcast_not_as_a_message_to_nobody():
    draft = Draft(content="Wrap up and push your branch.")
    direct = check(compose(draft, TEAM), bundled())
    assert [p.rule_id for p in direct.problems] == ["recipients-required"]  # what the old check said
    sent = as_sent(draft, TEAM)
    assert (sent.type, sent.everyone, sent.recipients) == ("broadcast", True, ())
    result = check(compose(sent, TEAM), bundled())
    assert (result.problems, result.score, result.status) == ((), 100, "PASS")


def test_ticked_agents_are_checked_as_they_are():
    draft = Draft(content="Hi", recipients=("Agent-2",))
    assert as_sent(draft, TEAM) is draft


def test_allow_here_takes_a_warning_back_but_never_an_error():
    text = "Ship it. FIXME later. token ghp_aJer8GFWcNzTFM2aCVpCUGMjVCy9y1kPAr82"
    draft = Draft(content=text, recipients=("Agent-1",))
    result = check(compose(draft, TEAM), bundled())
    assert [(p.rule_id, p.severity) for p in result.problems] == [("no-credentials", "error"),
                                                                  ("placeholder-text", "warning")]
    assert (result.score, result.status) == (65, "FAIL")
    keys = {accept_key(p, text) for p in result.problems}
    allowed = accept(result, text, keys)
    assert [p.rule_id for p in allowed.problems] == ["no-credentials"]  # the secret stays, blocking
    assert (allowed.score, allowed.status) == (75, "FAIL") and allowed.blocking
    warning_only = check(compose(Draft(content="FIXME soon", recipients=("Agent-1",)), TEAM), bundled())
    accepted = accept(warning_only, "FIXME soon", {accept_key(warning_only.problems[0], "FIXME soon")})
    assert (accepted.problems, accepted.score, accepted.status) == ((), 100, "PASS")
    # the acceptance is for that text: once the flagged words change it no longer applies
    assert accept(warning_only, "XXXXX soon", {accept_key(warning_only.problems[0], "FIXME soon")}).problems
