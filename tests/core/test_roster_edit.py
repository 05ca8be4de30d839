"""Roster editing from a form: field-by-field errors, renames and removals, screen-point maths."""
from __future__ import annotations

from pathlib import Path

import pytest

from quarterdeck.core.models import Agent, DryRunTransport, GuiTransport, InboxTransport, TmuxTransport
from quarterdeck.core.roster.edit import (
    FormError,
    agent_from_form,
    form_from_agent,
    parse_keys,
    parse_point,
    remove_agent,
    replace_agent,
    to_local,
    to_physical,
    with_point,
)
from quarterdeck.core.roster.problems import UnknownAgentError
from quarterdeck.core.roster.roster import Roster, parse_roster, roster_to_yaml


def errors_of(form: dict, roster: Roster | None = None, original: str | None = None) -> dict[str, str]:
    with pytest.raises(FormError) as caught:
        agent_from_form(form, roster, original)
    return caught.value.errors


def test_a_gui_form_becomes_an_agent():
    agent = agent_from_form({"id": " Agent-5 ", "role": "frontend", "enabled": False, "kind": "gui",
                             "chat": "[420, 980]", "onboarding": "-1265 171", "paste_keys": "Ctrl+V",
                             "submit_keys": "", "clear_before_paste": True})
    assert agent.id == "Agent-5" and agent.role == "frontend" and not agent.enabled
    assert agent.transport == GuiTransport(chat=(420, 980), onboarding=(-1265, 171), paste_keys=("ctrl", "v"),
                                           clear_before_paste=True)
    assert agent.display_name == "Agent-5"


@pytest.mark.parametrize("agent", [
    Agent(id="G", display_name="Front", role="r", transport=GuiTransport(chat=(1, 2), submit_keys=("shift", "enter"))),
    Agent(id="T", enabled=False, transport=TmuxTransport(target="swarm:0.1")),
    Agent(id="I", transport=InboxTransport(path=Path("/srv/inbox"))),
    Agent(id="D", transport=DryRunTransport()),
])
def test_form_round_trip(agent):
    assert agent_from_form(form_from_agent(agent)) == agent


def test_every_bad_field_gets_its_own_message():
    errors = errors_of({"id": "3rd", "kind": "gui", "chat": "a, b", "onboarding": "1",
                        "paste_keys": "ctrl+ctrl", "submit_keys": "hyper"})
    assert set(errors) == {"id", "chat", "onboarding", "paste_keys", "submit_keys"}
    assert "start with a letter" in errors["id"]
    assert "two whole numbers" in errors["chat"] and "'a, b'" in errors["chat"]
    assert "twice" in errors["paste_keys"]
    assert "unknown key 'hyper'" in errors["submit_keys"]


def test_required_fields_say_so():
    assert errors_of({"kind": "gui"}) == {
        "chat": "required: the screen position as x, y (e.g. 420, 980)", "id": "required"}
    assert errors_of({"id": "A", "kind": "tmux", "target": " "})["target"].startswith("required")
    assert "session:window.pane" in errors_of({"id": "A", "kind": "tmux", "target": "-t x"})["target"]
    assert errors_of({"id": "A", "kind": "inbox", "path": ""}) == {"path": "the inbox path is empty"}
    assert "unknown transport" in errors_of({"id": "A", "kind": "carrier-pigeon"})["kind"]


def test_an_id_taken_by_another_agent_is_refused_but_keeping_ones_own_is_fine():
    roster = Roster((Agent(id="A", transport=DryRunTransport()), Agent(id="B", transport=DryRunTransport())))
    assert "already on the roster" in errors_of({"id": "B", "kind": "dryrun"}, roster, "A")["id"]
    assert agent_from_form({"id": "A", "kind": "dryrun", "role": "x"}, roster, "A").role == "x"


def test_points_and_keys_parse_leniently():
    assert parse_point(" (3, -4) ", required=True) == (3, -4)
    assert parse_point("", required=False) is None
    with pytest.raises(ValueError, match="two whole numbers"):
        parse_point("1, 2, 3", required=True)
    assert parse_keys("Ctrl + Shift+T") == ("ctrl", "shift", "t")


def roster_with_group() -> Roster:
    agents = tuple(Agent(id=i, transport=GuiTransport(chat=(10, 20))) for i in ("A", "B", "C"))
    return Roster(agents, {"front": ("A", "B"), "solo": ("B",)})


def test_a_rename_keeps_the_place_and_the_groups():
    roster = roster_with_group()
    renamed = replace_agent(roster, "B", Agent(id="Bee", transport=DryRunTransport()))
    assert renamed.ids() == ["A", "Bee", "C"]
    assert renamed.groups == {"front": ("A", "Bee"), "solo": ("Bee",)}
    assert replace_agent(roster, None, Agent(id="D", transport=DryRunTransport())).ids()[-1] == "D"
    assert parse_roster(roster_to_yaml(renamed), screens=()).groups == renamed.groups


def test_removing_an_agent_drops_it_from_its_groups():
    roster = remove_agent(roster_with_group(), "B")
    assert roster.ids() == ["A", "C"]
    assert roster.groups == {"front": ("A",), "solo": ()}
    assert parse_roster(roster_to_yaml(roster), screens=()).groups == roster.groups
    with pytest.raises(UnknownAgentError):
        remove_agent(roster, "B")


def test_a_captured_point_lands_on_one_gui_agent_only():
    roster = with_point(roster_with_group(), "B", "onboarding", (7, 8))
    assert roster.get("B").transport.onboarding == (7, 8)
    assert roster.get("A").transport.onboarding is None
    with pytest.raises(ValueError, match="chat' or 'onboarding"):
        with_point(roster, "A", "elsewhere", (1, 1))
    tmux = Roster((Agent(id="T", transport=TmuxTransport(target="s:0")),))
    with pytest.raises(ValueError, match="only gui agents"):
        with_point(tmux, "T", "chat", (1, 1))


def test_logical_and_physical_pixels_convert_around_the_screen_origin():
    # a 2x screen right of a 1920-wide primary: its origin stays unscaled
    assert to_physical((2460, 500), (1920, 0), 2.0) == (3000, 1000)
    assert to_physical((100, 100), (0, 0), 1.0) == (100, 100)
    assert to_local((3000, 1000), (1920, 0), (1280, 720), 2.0) == (540.0, 500.0)
    assert to_local((1000, 1000), (1920, 0), (1280, 720), 2.0) is None
    assert to_local((-1269, 481), (-1920, 0), (1920, 1080), 1.0) == (651.0, 481.0)
