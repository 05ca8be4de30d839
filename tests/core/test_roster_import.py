"""Importing the original coordinates file, merging it into a roster, and capturing one point."""
from __future__ import annotations

import json
import textwrap

import pytest

from quarterdeck.core.models import Agent, DryRunTransport, GuiTransport, TmuxTransport
from quarterdeck.core.roster.capture import capture_point
from quarterdeck.core.roster.importing import import_original, merge_agents
from quarterdeck.core.roster.problems import RosterError, UnknownAgentError
from quarterdeck.core.roster.roster import Roster, load_roster, parse_roster, save_roster

LAYOUT = {  # id: (chat, onboarding, description, active); two monitors, the left one at negative x
    "Agent-1": ([-1269, 481], [-1265, 171], "Integration & Core Systems Specialist", True),
    "Agent-2": ([-308, 480], [-304, 170], "Architecture & Design Specialist", True),
    "Agent-3": ([-1269, 1001], [-1265, 691], "Infrastructure & DevOps Specialist", True),
    "Agent-4": ([-308, 1000], [-304, 690], "Strategic Oversight & Emergency Intervention Manager", True),
    "Agent-5": ([652, 421], [656, 111], "Business Intelligence Specialist", True),
    "Agent-6": ([1612, 419], [1616, 109], "Coordination & Communication Specialist", True),
    "Agent-7": ([698, 936], [702, 626], "Web Development Specialist", False),
    "Agent-8": ([1611, 941], [1615, 631], "SSOT & System Integration Specialist", True),
}


def original_document() -> dict:
    agents = {name: {"chat_input_coordinates": chat, "onboarding_input_coords": onboarding,
                     "description": description, "active": active}
              for name, (chat, onboarding, description, active) in LAYOUT.items()}
    return {
        "version": "2.0.0", "last_updated": "2025-09-06T22:16:34",
        "coordinate_system": {"origin": "top-left", "unit": "pixels", "multi_monitor_support": True},
        "agents": agents,
        "fallback_behavior": {"default_offset": [-50, 0], "retry_attempts": 3},
        "validation_rules": {"coordinate_bounds": {"min_x": -2000, "max_x": 2000, "min_y": 0, "max_y": 1500},
                             "required_fields": ["chat_input_coordinates", "onboarding_input_coords"]},
    }


@pytest.fixture
def coords_file(tmp_path):
    path = tmp_path / "cursor_agent_coords.json"
    path.write_text(json.dumps(original_document(), indent=2), encoding="utf-8")
    return path


def test_imports_all_eight_agents_of_the_original_file(coords_file):
    agents, warnings = import_original(coords_file)
    assert [a.id for a in agents] == [f"Agent-{n}" for n in range(1, 9)]
    assert warnings == []
    captain = agents[3]
    assert captain.role == "Strategic Oversight & Emergency Intervention Manager"
    assert captain.transport == GuiTransport(chat=(-308, 1000), onboarding=(-304, 690))
    assert agents[0].transport.chat == (-1269, 481) and agents[0].transport.onboarding == (-1265, 171)
    assert agents[7].transport.chat == (1611, 941) and agents[7].role == "SSOT & System Integration Specialist"
    assert [a.enabled for a in agents] == [True] * 6 + [False, True]


def test_top_level_may_be_the_agents_mapping_and_onboarding_may_be_missing(tmp_path):
    path = tmp_path / "coords.json"
    path.write_text(json.dumps({
        "Agent-1": {"chat_input_coordinates": [10, 20], "notes": "x", "priority": 1},
        "Agent-2": {"chat_input_coordinates": [30, 40], "onboarding_coordinates": [30, 10]},
        "Agent-3": {"chat_input_coordinates": [50, 60], "onboarding_input_coords": None},
    }), encoding="utf-8")
    agents, warnings = import_original(path)
    assert [a.transport.onboarding for a in agents] == [None, (30, 10), None]
    assert all(a.enabled and a.role == "" for a in agents)
    assert warnings == [
        "Agent-1: ignored keys notes, priority",
        "Agent-1: no onboarding point; capture one with `quarterdeck agents capture Agent-1 --onboarding`",
        "Agent-3: no onboarding point; capture one with `quarterdeck agents capture Agent-3 --onboarding`",
    ]


def test_malformed_entries_name_agent_key_and_position(tmp_path):
    path = tmp_path / "coords.json"
    path.write_text(textwrap.dedent("""\
        {"agents": {
          "Agent-1": {"chat_input_coordinates": [10, 20]},
          "Agent-2": {"chat_input_coordinates": "10,20"},
          "Agent-3": {"chat_input_coordinates": [1, 2], "onboarding_input_coords": [1.5, 2]},
          "Agent-4": {"chat_input_coordinates": [1], "active": "yes"},
          "Agent-5": {"onboarding_input_coords": [1, 2]},
          "Agent-6": [1, 2],
          "Agent 7": {"chat_input_coordinates": [1, 2]},
          "Agent-8": {"chat_input_coordinates": [1, 2], "description": 42}
        }}
        """), encoding="utf-8")
    with pytest.raises(RosterError) as caught:
        import_original(path)
    found = [(p.line, p.col, p.agent, p.field, p.message) for p in caught.value.problems]
    assert found == [
        (3, 15, "Agent-2", "chat_input_coordinates", 'expected [x, y] with two whole numbers, not "10,20"'),
        (4, 49, "Agent-3", "onboarding_input_coords", "expected [x, y] with two whole numbers, not [1.5, 2]"),
        (5, 15, "Agent-4", "chat_input_coordinates", "expected [x, y] with two whole numbers, not [1]"),
        (5, 46, "Agent-4", "active", 'expected true or false, not "yes"'),
        (6, 3, "Agent-5", None, "missing 'chat_input_coordinates'"),
        (7, 3, "Agent-6", None, "expected an object with 'chat_input_coordinates', not [1, 2]"),
        (8, 3, "Agent 7", None, "not usable as an agent id: start with a letter, then up to 63 letters, "
                                "digits, '_', '.' or '-'"),
        (9, 49, "Agent-8", "description", "Input should be a valid string"),
    ]
    assert str(caught.value.problems[0]).startswith(f"{path}:3:15: error: Agent-2.chat_input_coordinates: ")


def test_json_syntax_error_has_line_and_column(tmp_path):
    path = tmp_path / "coords.json"
    path.write_text('{"agents": {\n  "Agent-1": {"chat_input_coordinates": [1, 2],}\n}}\n', encoding="utf-8")
    with pytest.raises(RosterError) as caught:
        import_original(path)
    (problem,) = caught.value.problems
    assert (problem.line, problem.col) == (2, 48)
    assert problem.message.startswith("JSON syntax error: ")


@pytest.mark.parametrize("content", ["[]", "{}", '{"agents": []}', "3"])
def test_a_file_without_agents_is_rejected(tmp_path, content):
    path = tmp_path / "coords.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RosterError, match="expected an object of agents"):
        import_original(path)


def test_merge_adds_and_updates_replace_keeps_only_the_import():
    existing = Roster((
        Agent(id="Agent-1", transport=TmuxTransport(target="swarm:0.1")),
        Agent(id="Agent-9", transport=DryRunTransport()),
    ), {"crew": ("Agent-1", "Agent-9")})
    incoming = [Agent(id="Agent-1", transport=GuiTransport(chat=(1, 2))),
                Agent(id="Agent-2", transport=GuiTransport(chat=(3, 4)))]
    merged, notes = merge_agents(existing, incoming, replace=False)
    assert merged.ids() == ["Agent-1", "Agent-9", "Agent-2"]
    assert merged.get("Agent-1").transport.kind == "gui"
    assert merged.groups == existing.groups
    assert notes == ["updated: Agent-1", "added: Agent-2"]
    replaced, notes = merge_agents(existing, incoming, replace=True)
    assert replaced.ids() == ["Agent-1", "Agent-2"]
    assert replaced.groups == {"crew": ("Agent-1",)}
    assert notes == ["removed: Agent-9", "group crew: dropped Agent-9", "updated: Agent-1", "added: Agent-2"]


ROSTER = """\
# the swarm
agents:
  - {id: Agent-1, transport: gui, chat: [100, 200]}   # left pane
  - id: Agent-2
    transport: gui
    chat: [300, 400]
    onboarding: [300, 100]  # new chat input
  - {id: Agent-3, transport: tmux, target: "swarm:0.1"}
groups: {pair: [Agent-1, Agent-2]}
"""


@pytest.fixture
def roster_file(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(ROSTER, encoding="utf-8")
    return path


def test_capture_edits_only_that_agents_point_and_keeps_comments(roster_file):
    old, new, backup = capture_point(roster_file, "Agent-2", "onboarding", (333, 111))
    assert (old, new) == ((300, 100), (333, 111))
    assert backup is not None and backup.read_text(encoding="utf-8") == ROSTER
    assert roster_file.read_text(encoding="utf-8") == ROSTER.replace("[300, 100]", "[333, 111]")
    old, new, _ = capture_point(roster_file, "Agent-1", "chat", (-5, 7))
    assert (old, new) == ((100, 200), (-5, 7))
    roster = load_roster(roster_file, screens=())
    assert roster.get("Agent-1").transport.chat == (-5, 7)
    assert roster.get("Agent-2").transport == GuiTransport(chat=(300, 400), onboarding=(333, 111))
    assert "# left pane" in roster_file.read_text(encoding="utf-8")


def test_capture_of_a_point_not_yet_in_the_file_rewrites_the_roster(roster_file):
    before = load_roster(roster_file, screens=())
    old, new, backup = capture_point(roster_file, "Agent-1", "onboarding", (100, 50))
    assert (old, new) == (None, (100, 50))
    assert backup is not None and backup.read_text(encoding="utf-8") == ROSTER
    after = load_roster(roster_file, screens=())
    assert after.get("Agent-1").transport.onboarding == (100, 50)
    assert after.agents[1:] == before.agents[1:] and after.groups == before.groups


def test_capture_point_replaces_a_block_list(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text("agents:\n  - id: A\n    transport: gui\n    chat:\n      - 1\n      - 2\n"
                    "    role: lead\n", encoding="utf-8")
    capture_point(path, "A", "chat", (7, 8))
    agent = parse_roster(path.read_text(encoding="utf-8"), screens=()).get("A")
    assert agent.transport.chat == (7, 8) and agent.role == "lead"


def test_capture_refuses_unknown_and_non_gui_agents(roster_file):
    with pytest.raises(UnknownAgentError, match="no agent 'Agent-7'"):
        capture_point(roster_file, "Agent-7", "chat", (1, 1))
    with pytest.raises(ValueError, match="Agent-3 uses the tmux transport"):
        capture_point(roster_file, "Agent-3", "chat", (1, 1))
    with pytest.raises(ValueError, match="'chat' or 'onboarding'"):
        capture_point(roster_file, "Agent-1", "submit", (1, 1))
    assert roster_file.read_text(encoding="utf-8") == ROSTER
    assert [p.name for p in roster_file.parent.iterdir()] == ["agents.yaml"]


def test_capture_works_on_a_roster_whose_points_are_off_screen(tmp_path):
    path = tmp_path / "agents.yaml"
    save_roster(Roster((Agent(id="A", transport=GuiTransport(chat=(-99999, 5))),)), path)
    old, new, _ = capture_point(path, "A", "chat", (10, 10))
    assert (old, new) == ((-99999, 5), (10, 10))
