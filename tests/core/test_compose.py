"""From a composer draft to messages, and the merged rule check of those messages."""
from __future__ import annotations

import pytest

from quarterdeck.core.compose.draft import Draft, check, compose, for_everyone, preview, uses_placeholders
from quarterdeck.core.compose.submit import UnknownRecipient
from quarterdeck.core.models import Agent, DryRunTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.validation import RuleStore, Validator, bundled_rules_dir


@pytest.fixture(scope="module")
def validator() -> Validator:
    rules = RuleStore([bundled_rules_dir()])
    rules.reload()
    return Validator(rules.active)


def roster(*specs: tuple[str, str], disabled: tuple[str, ...] = ()) -> Roster:
    return Roster(tuple(Agent(id=i, role=r, enabled=i not in disabled, transport=DryRunTransport())
                        for i, r in specs))


ROSTER = roster(("Agent-1", "frontend"), ("Agent-2", "captain"), ("Agent-3", "tests"), disabled=("Agent-3",))


def test_plain_draft_is_one_message_for_all(validator):
    draft = Draft("Please rebase on main.", ("Agent-1", "Agent-2"), tags=("captain",))
    made = compose(draft, ROSTER)
    assert not made.per_agent
    assert [m.recipients for m in made.messages] == [["Agent-1", "Agent-2"]]
    result = check(made, validator)
    assert (result.score, result.status, result.problems) == (100, "PASS", ())


def test_placeholders_are_literal_unless_filling_is_on(validator):
    made = compose(Draft("use {agent_id}", ("Agent-1",)), ROSTER)
    assert made.messages[0].content == "use {agent_id}"
    [hint] = check(made, validator).problems
    assert (hint.rule_id, hint.severity, hint.span) == ("placeholder-not-filled", "info", (4, 14))
    assert compose(Draft("json {\"a\": 1}", ("Agent-1",)), ROSTER).problems == ()


def test_an_empty_value_is_a_warning_naming_the_agents(validator):
    team = roster(("Agent-1", ""), ("Agent-2", "tests"))
    made = compose(Draft("You are {role}, {agent_id}", ("Agent-1", "Agent-2"), fill_placeholders=True), team)
    result = check(made, validator)
    [problem] = result.problems
    assert (problem.rule_id, problem.severity, problem.span, problem.agents) == (
        "template-empty-value", "warning", (8, 14), ("Agent-1",))
    assert not result.blocking and result.status == "PASS"


def test_template_gives_each_recipient_its_own_message(validator):
    draft = Draft("Hi Agent-{agent_id} ({role})", ("Agent-1", "Agent-2"), fill_placeholders=True)
    made = compose(draft, ROSTER)
    assert made.per_agent
    assert [(m.recipients, m.content) for m in made.messages] == [
        (["Agent-1"], "Hi Agent-1 (frontend)"), (["Agent-2"], "Hi Agent-2 (captain)")]
    assert len({m.id for m in made.messages}) == 2
    assert check(made, validator).status == "PASS"


def test_template_without_placeholders_stays_one_message():
    made = compose(Draft("no slots", ("Agent-1", "Agent-2"), fill_placeholders=True), ROSTER)
    assert not made.per_agent and len(made.messages) == 1


def test_everyone_with_template_covers_enabled_agents_captain_last():
    draft = Draft("Wrap up, {agent_id}", everyone=True, fill_placeholders=True, captain_last=True)
    made = compose(Draft("x", everyone=True, type="broadcast"), ROSTER)
    assert made.messages[0].recipients == []
    made = compose(draft, roster(("Agent-2", "captain"), ("Agent-1", "x")))
    assert [m.recipients[0] for m in made.messages] == ["Agent-1", "Agent-2"]


def test_unknown_placeholder_is_a_blocking_problem_at_its_span(validator):
    made = compose(Draft("Hi {agnt_id}", ("Agent-1",), fill_placeholders=True), ROSTER)
    assert made.messages == ()
    result = check(made, validator)
    assert result.score is None
    [problem] = result.blocking
    assert problem.rule_id == "template" and problem.span == (3, 12)
    assert "unknown placeholder {agnt_id}" in problem.message and "column 4" in problem.message


def test_per_agent_text_cannot_be_a_broadcast(validator):
    made = compose(Draft("Hi {agent_id}", ("Agent-1", "Agent-2"), type="broadcast", fill_placeholders=True),
                   ROSTER)
    assert [p.rule_id for p in check(made, validator).blocking] == ["per-agent-broadcast"]


def test_contract_without_value_blocks():
    made = compose(Draft("Sign {contract}", ("Agent-1",), fill_placeholders=True), ROSTER)
    assert "has no value" in made.problems[0].message


def test_violations_in_rendered_text_map_back_and_name_agents(validator):
    # the doubled prefix only shows for the agent whose role repeats it
    team = roster(("Agent-1", "agent-agent-x"), ("Agent-2", "tests"))
    draft = Draft("TODO: {role} now", ("Agent-1", "Agent-2"), fill_placeholders=True)
    result = check(compose(draft, team), validator)
    by_rule = {p.rule_id: p for p in result.problems}
    assert by_rule["todo-marker"].span == (0, 4) and by_rule["todo-marker"].agents == ()
    assert by_rule["doubled-agent-prefix"].agents == ("Agent-1",)
    assert by_rule["doubled-agent-prefix"].span == (6, 12)  # the whole {role}
    assert result.status == "WARN" and result.score == 88


def test_secret_fails_and_errors_sort_first(validator):
    result = check(compose(Draft("TODO key AKIAIOSFODNN7EXAMPLE", ("Agent-1",)), ROSTER), validator)
    assert result.status == "FAIL"
    assert result.problems[0].rule_id == "no-credentials" and result.problems[0].span == (9, 29)
    assert result.problems[-1].rule_id == "todo-marker"


def test_no_validator_means_no_score():
    result = check(compose(Draft("hello", ("Agent-1",)), ROSTER), None)
    assert (result.problems, result.score, result.status) == ((), None, None)


def test_preview_is_the_delivered_text():
    made = compose(Draft("Ship it", ("Agent-2", "Agent-1"), priority="urgent", captain_last=True), ROSTER)
    assert preview(made, ROSTER) == [("Agent-1", "[C2A] Captain → Agent-1 | URGENT\nShip it"),
                                     ("Agent-2", "[C2A] Captain → Agent-2 | URGENT\nShip it")]
    everyone = compose(Draft("All hands", everyone=True, type="broadcast"), ROSTER)
    assert [a for a, _ in preview(everyone, ROSTER)] == ["Agent-1", "Agent-2"]


def test_preview_refuses_a_disabled_recipient():
    with pytest.raises(UnknownRecipient):
        preview(compose(Draft("x", ("Agent-3",)), ROSTER), ROSTER)


def test_uses_placeholders():
    assert uses_placeholders("Hi {agent_id}")
    assert uses_placeholders("Hi {")
    assert not uses_placeholders("Hi {{x}}")


def test_for_everyone():
    plain = for_everyone(Draft("All hands", ("Agent-1",)), ROSTER)
    assert (plain.everyone, plain.type, plain.recipients) == (True, "broadcast", ())
    templ = for_everyone(Draft("Bye {agent_id}", type="broadcast", fill_placeholders=True), ROSTER)
    assert (templ.everyone, templ.type, templ.recipients) == (False, "text", ("Agent-1", "Agent-2"))
    onboarding = for_everyone(Draft("Welcome", type="onboarding"), ROSTER)
    assert (onboarding.type, onboarding.recipients) == ("onboarding", ("Agent-1", "Agent-2"))


def test_per_agent_text_for_an_agent_not_on_the_roster_is_refused():
    made = compose(Draft("Hi {agent_id}", ("Agent-1", "Agent-9"), fill_placeholders=True), ROSTER)
    assert made.messages == () and made.problems[0].message == "Not on the roster: Agent-9."
