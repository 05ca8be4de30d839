"""How a contract reads for an agent: ``contract_text`` (the ``{contract}`` placeholder), the
message "Send to agent" queues, and parsing a contract number."""
from __future__ import annotations

import pytest

from quarterdeck.core.compose.templates import render
from quarterdeck.core.contracts import (
    ContractError,
    ContractStore,
    contract_message,
    contract_text,
    parse_id,
    points_text,
)
from quarterdeck.core.models import Agent, DryRunTransport
from quarterdeck.core.validation import RuleStore, Validator
from quarterdeck.core.validation.location import active_rules_path


@pytest.fixture
def store(tmp_path):
    with ContractStore(tmp_path / "q.sqlite3") as s:
        yield s


def test_contract_text_headline_then_description(store):
    c = store.create("Fix the login redirect", points=3,
                     description="After login the user lands on /home.\nKeep ?next= through OAuth.")
    assert contract_text(c) == ("Contract #1: Fix the login redirect (3 points)\n"
                                "After login the user lands on /home.\nKeep ?next= through OAuth.")
    assert contract_text(store.create("Tidy", points=1)) == "Contract #2: Tidy (1 point)"
    assert points_text(0) == "0 points"


def test_contract_text_fills_the_onboarding_placeholder(store):
    c = store.create("Write the parser", points=2)
    agent = Agent(id="Agent-4", role="backend", transport=DryRunTransport())
    text = render("Welcome {agent_id} ({role}). Your first task: {contract}", agent, contract=contract_text(c))
    assert text == "Welcome Agent-4 (backend). Your first task: Contract #1: Write the parser (2 points)"


def test_message_for_an_open_contract_says_how_to_claim(store):
    c = store.create("Write the parser", description="See issue 9.", points=2, assignee="Agent-4")
    message = contract_message(c)
    assert message.recipients == ["Agent-4"] and message.type == "text" and message.sender == "Captain"
    assert message.content == (
        "Agent-4, this contract is yours.\n\nContract #1: Write the parser (2 points)\nSee issue 9.\n\n"
        "Claim it before you start: quarterdeck contracts claim 1 Agent-4\n"
        'When it is done: quarterdeck contracts complete 1 --note "what you did"')
    claimed = contract_message(store.claim(c.id, "Agent-4"), sender="Lead")
    assert claimed.sender == "Lead" and "You have claimed it." in claimed.content
    assert "contracts claim" not in claimed.content


def test_the_message_passes_the_bundled_rules(store):
    c = store.create("x" * 200, description="y" * 6000, points=1000, assignee="Agent-4")
    rules = RuleStore([active_rules_path(None)])
    rules.reload()
    report = Validator(rules.active).validate(contract_message(c))
    assert [v.rule_id for v in report.violations if v.severity == "error"] == []


def test_a_message_needs_an_assignee(store):
    with pytest.raises(ValueError, match="no assignee"):
        contract_message(store.create("x"))


@pytest.mark.parametrize(("text", "value"), [("7", 7), ("#12", 12), (" 3 ", 3), (5, 5)])
def test_parse_id(text, value):
    assert parse_id(text) == value


@pytest.mark.parametrize("text", ["", "seven", "#", "-1", "0", "²", True, "1.5"])
def test_parse_id_refuses(text):
    with pytest.raises(ContractError):
        parse_id(text)
