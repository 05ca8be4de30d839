"""The roster read by libyaml (core/roster/roster.py parse_roster): a good roster, with the screens given
(as every send reads it), is composed by libyaml's loader and comes out as PyYAML's own loader reads it; a
roster with a problem is read again by PyYAML's, so each problem is placed as before."""
from __future__ import annotations

import pytest
import yaml

from quarterdeck.core.desktop.screens import ScreenRect
from quarterdeck.core.roster.parse import parse
from quarterdeck.core.roster.problems import RosterError
from quarterdeck.core.roster.roster import Roster, parse_roster

pytestmark = pytest.mark.skipif(not getattr(yaml, "__with_libyaml__", False), reason="PyYAML without libyaml")

SCREENS = [ScreenRect(0, 0, 1920, 1080, "DP-1")]
GOOD = """\
agents:
  - {id: Agent-1, role: frontend, transport: gui, chat: [420, 980], onboarding: [420, 900]}
  - id: Agent-2
    transport: tmux
    target: "swarm:0.1"
    agent: claude-code
  - {id: Agent-3, transport: inbox, path: ~/swarm/inbox/agent-3, enabled: false}
groups:
  front: [Agent-1, Agent-2]
"""


@pytest.fixture
def loaders(monkeypatch):
    """Which loader composed each text."""
    used: list[str] = []
    compose = yaml.compose

    def spy(stream, Loader):
        used.append(Loader.__name__)
        return compose(stream, Loader=Loader)

    monkeypatch.setattr(yaml, "compose", spy)
    return used


@pytest.mark.parametrize("screens", [(), SCREENS])
def test_a_good_roster_is_composed_by_libyaml_and_read_as_pyyaml_reads_it(loaders, screens):
    roster = parse_roster(GOOD, screens=screens)
    assert loaders == ["CSafeLoader"]
    assert roster == Roster(*parse(GOOD, "agents.yaml", screens, yaml.SafeLoader))
    assert list(roster.ids()) == ["Agent-1", "Agent-2", "Agent-3"]
    assert roster.groups == {"front": ("Agent-1", "Agent-2")}


def test_a_roster_with_a_problem_is_read_again_by_pyyaml_which_places_it_as_before(loaders):
    text = "agents:\n  - {id: A, transport: tmux, target: }\n"  # libyaml puts the empty value one column further
    with pytest.raises(RosterError) as caught:
        parse_roster(text, screens=())
    assert loaders == ["CSafeLoader", "SafeLoader"]
    with pytest.raises(RosterError) as pyyaml:
        parse(text, "agents.yaml", (), yaml.SafeLoader)
    assert caught.value.problems == pyyaml.value.problems
    assert [(p.line, p.col) for p in caught.value.problems] == [(2, 37)]  # libyaml: (2, 38)


def test_a_syntax_error_reads_as_pyyaml_says_it(loaders):
    with pytest.raises(RosterError, match=r"agents.yaml:3:2: error: YAML syntax error: expected <block end>"):
        parse_roster("agents:\n  - id: A\n - id: B\n", screens=())
    assert loaders == ["CSafeLoader", "SafeLoader"]


def test_without_screens_given_pyyaml_reads_it_at_once(loaders, monkeypatch):
    monkeypatch.setattr("quarterdeck.core.desktop.screens.detect_screens", lambda: SCREENS)
    parse_roster(GOOD)
    assert loaders == ["SafeLoader"]
