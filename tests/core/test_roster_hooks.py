"""An agent's ``hooks: <tool>`` in agents.yaml: read, written only when set, kept by edits and imports."""
from __future__ import annotations

import textwrap
import typing

import pytest

from quarterdeck.core.activity.events import SOURCES
from quarterdeck.core.models import Agent, GuiTransport, HookSource
from quarterdeck.core.roster.edit import agent_from_form, form_from_agent, with_hooks
from quarterdeck.core.roster.importing import merge_agents
from quarterdeck.core.roster.problems import RosterError
from quarterdeck.core.roster.roster import Roster, parse_roster, roster_to_yaml

ROSTER = textwrap.dedent("""\
    agents:
      - {id: Agent-1, transport: tmux, target: "swarm:0.1", hooks: claude-code, continue_after_limit: true}
      - {id: Agent-2, transport: dryrun}
""")


def test_the_six_sources_are_the_hook_tools():
    assert typing.get_args(HookSource) == SOURCES


def test_hooks_is_read_and_written_back_only_when_set():
    roster = parse_roster(ROSTER)
    assert [a.hooks for a in roster.agents] == ["claude-code", None]
    text = roster_to_yaml(roster)
    assert "    hooks: claude-code\n" in text
    assert text.count("hooks:") == 1  # Agent-2 has none: the key is left out
    assert text.count("continue_after_limit: true") == 1  # likewise: written only when on
    assert parse_roster(text) == roster


def test_an_unknown_tool_is_reported_at_its_place():
    with pytest.raises(RosterError) as caught:
        parse_roster(ROSTER.replace("hooks: claude-code", "hooks: emacs"), "agents.yaml")
    [problem] = caught.value.problems
    assert (problem.line, problem.agent, problem.field) == (2, "Agent-1", "hooks")
    assert "'claude-code'" in problem.message and "'codex'" in problem.message


def test_with_hooks_sets_and_clears_one_agent():
    roster = parse_roster(ROSTER)
    changed = with_hooks(roster, "Agent-2", "gemini")
    assert [a.hooks for a in changed.agents] == ["claude-code", "gemini"]
    assert [a.hooks for a in with_hooks(changed, "Agent-1", None).agents] == [None, "gemini"]
    assert roster.get("Agent-2").hooks is None  # the original is untouched


def test_the_agent_form_keeps_hooks_it_does_not_show():
    roster = parse_roster(ROSTER)
    form = form_from_agent(roster.get("Agent-1"))
    form["target"] = "swarm:0.2"
    edited = agent_from_form(form, roster, "Agent-1")
    assert (edited.hooks, edited.transport.target) == ("claude-code", "swarm:0.2")  # type: ignore[union-attr]
    assert edited.continue_after_limit  # nor does it show continue_after_limit: kept too
    assert agent_from_form({**form, "id": "Agent-9"}, roster).hooks is None  # a new agent has none


@pytest.mark.parametrize("replace", [False, True])
def test_an_import_keeps_the_hooks_of_an_agent_already_on_the_roster(replace):
    roster = parse_roster(ROSTER)
    imported = [Agent(id="Agent-1", transport=GuiTransport(chat=(10, 20))),
                Agent(id="Agent-3", transport=GuiTransport(chat=(30, 40)))]
    merged, _ = merge_agents(roster, imported, replace=replace)
    assert merged.get("Agent-1").hooks == "claude-code"
    assert merged.get("Agent-1").transport.kind == "gui"
    assert merged.get("Agent-3").hooks is None
    assert isinstance(merged, Roster)
