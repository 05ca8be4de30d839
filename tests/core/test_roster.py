"""The agent roster file: loading, every kind of problem with its position, screens, saving."""
from __future__ import annotations

import copy
import os
import pickle
import re
import textwrap
from pathlib import Path

import pytest
from msgspec.structs import replace

from quarterdeck.core import fileops
from quarterdeck.core.desktop.screens import ScreenRect
from quarterdeck.core.models import Agent, DryRunTransport, GuiTransport, InboxTransport, TmuxTransport
from quarterdeck.core.roster.problems import RosterError, RosterProblem, UnknownAgentError
from quarterdeck.core.roster.roster import Roster, load_roster, parse_roster, roster_to_yaml, save_roster

PRIMARY = [ScreenRect(0, 0, 1920, 1080, "DP-1")]
LEFT_AND_PRIMARY = [ScreenRect(-1920, 0, 1920, 1080, "HDMI-1"), ScreenRect(0, 0, 2560, 1440, "DP-1")]

EXAMPLE = """\
agents:
  - {id: Agent-1, role: frontend, transport: gui, chat: [420, 980], onboarding: [420, 900],
     paste_keys: [ctrl, v], submit_keys: [enter], urgent_submit_keys: [ctrl, enter], new_chat_keys: [ctrl, t]}
  - {id: Agent-2, transport: tmux, target: "swarm:0.1"}
  - {id: Agent-3, transport: inbox, path: ~/swarm/inbox/agent-3}
groups: {frontend: [Agent-1, Agent-2]}   # optional saved recipient groups
"""


def problems(text: str, screens=PRIMARY) -> list[tuple[int, int, str | None, str | None, str]]:
    with pytest.raises(RosterError) as caught:
        parse_roster(textwrap.dedent(text), "agents.yaml", screens=screens)
    return [(p.line, p.col, p.agent, p.field, p.message) for p in caught.value.problems]


def test_the_documented_example_loads():
    roster = parse_roster(EXAMPLE, screens=PRIMARY)
    assert roster.ids() == ["Agent-1", "Agent-2", "Agent-3"]
    one = roster.get("Agent-1")
    assert one.role == "frontend" and one.display_name == "Agent-1" and one.enabled
    assert one.transport == GuiTransport(chat=(420, 980), onboarding=(420, 900))
    assert roster.get("Agent-2").transport == TmuxTransport(target="swarm:0.1")
    assert roster.get("Agent-3").transport == InboxTransport(path=Path.home() / "swarm/inbox/agent-3")
    assert roster.groups == {"frontend": ("Agent-1", "Agent-2")}
    assert roster.warnings == ()
    assert [a.id for a in roster.group("frontend")] == ["Agent-1", "Agent-2"]


def test_block_style_defaults_and_enabled():
    roster = parse_roster(textwrap.dedent("""\
        agents:
          - id: Agent-1
            display_name: Frontend bot
            transport: gui
            chat: [10, 20]
            submit_keys: [shift, enter]
            clear_before_paste: true
          - id: Agent-2
            enabled: false
            transport: dryrun
        """), screens=PRIMARY)
    one = roster.get("Agent-1")
    assert one.display_name == "Frontend bot"
    assert one.transport.paste_keys == ("ctrl", "v")
    assert one.transport.submit_keys == ("shift", "enter")
    assert one.transport.clear_before_paste is True and one.transport.onboarding is None
    assert roster.get("Agent-2").transport == DryRunTransport()
    assert [a.id for a in roster.enabled()] == ["Agent-1"]
    assert roster.groups == {}


def test_problem_string_names_file_position_agent_and_field(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text("agents:\n  - {id: Agent-2, transport: dryrun}\n  - {id: Agent-3, transport: dryrun}\n"
                    "  - {id: Agent-1, transport: gui, chat: [2500, 300]}\n", encoding="utf-8")
    with pytest.raises(RosterError) as caught:
        load_roster(path, screens=PRIMARY)
    assert str(caught.value) == (f"{path}:4:41: error: Agent-1.chat: point (2500, 300) is on no screen "
                                 "(screens: 1920x1080+0+0)")
    assert caught.value.problems[0].agent == "Agent-1" and caught.value.problems[0].field == "chat"
    path.write_text("agents:\n  - id: Agent-5\n    transport: inbox\n    path: ~no-such-user-qd/inbox\n",
                    encoding="utf-8")
    with pytest.raises(RosterError) as caught:  # once a traceback
        load_roster(path)
    assert str(caught.value) == (f"{path}:4:11: error: Agent-5.path: ~no-such-user-qd/inbox: no home folder is known "
                                 "for '~no-such-user-qd'; write the folder out in full")
    bare = RosterProblem("agents.yaml", 1, 1, None, None, "the file is empty")
    assert str(bare) == "agents.yaml:1:1: error: the file is empty"


def test_yaml_syntax_error_has_line_and_column():
    found = problems("agents:\n  - {id: Agent-1, transport: gui, chat: [1, 2]\n  - {id: Agent-2}\n")
    assert len(found) == 1
    line, col, agent, field, message = found[0]
    assert (line, col, agent, field) == (3, 3, None, None)
    assert message.startswith("YAML syntax error: ")


def test_empty_file_and_wrong_top_level():
    assert problems("") == [(1, 1, None, None, "the file is empty: it needs an 'agents:' list")]
    assert problems("- Agent-1\n") == [(1, 1, None, None, "the roster is [Agent-1], not a mapping: write "
                                                         "'agents:' on the first line and indent the list under it")]
    listed = "- {id: A, transport: inbox, path: /tmp/a}\n- {id: B, transport: inbox, path: /tmp/b}\n"
    assert problems(listed) == [(1, 1, None, None, "the roster is a list of 2 items, not a mapping: write "
                                                   "'agents:' on the first line and indent the list under it")]
    assert problems("just text\n") == [(1, 1, None, None, "the roster must be a mapping of 'key: value' "
                                                           "lines, not 'just text'")]
    assert problems("groups: {}\n") == [(1, 1, None, None, "missing 'agents:' (a list of agents)")]


def test_every_problem_is_reported_at_once_with_agent_field_and_position():
    found = problems("""\
        agents:
          - {id: Agent-1, transport: gui, chat: [10, 20]}
          - {id: Agent-2, transport: tmux, target: 1:0, chat: [1, 2]}
          - id: Agent-3
            transport: inbox
            path: /tmp/in
            rol: tester
            enabled: "no"
          - {id: Agent-1, transport: gui, chat: [1.5, 2], paste_keys: [ctrl, zz]}
          - {id: Agent-5, transport: ssh}
          - {transport: dryrun}
          - {id: Agent-7}
          - {id: Agent-8, transport: gui}
          - just-a-name
        groups: {frontend: [Agent-1, Agent-9], solo: Agent-2}
        extra: 1
        """)
    assert found == [
        (3, 44, "Agent-2", "target", 'Input should be a valid string (put it in quotes: "1:0")'),
        (3, 49, "Agent-2", "chat", "'chat' is a setting of gui agents; this one is tmux"),
        (7, 5, "Agent-3", "rol", "unknown key 'rol' (did you mean 'role'?)"),
        (8, 14, "Agent-3", "enabled", "must be true or false, not 'no'"),
        (9, 10, "Agent-1", "id", "duplicate id: 'Agent-1' is already defined on line 2"),
        (9, 41, "Agent-1", "chat", "expected a point [x, y] of two whole numbers, not [1.5, 2]"),
        (9, 70, "Agent-1", "paste_keys[1]", "unknown key 'zz': use a single printable character or a "
                                            "lowercase key name such as ctrl, shift, alt, command, enter, "
                                            "tab, esc, f5"),
        (10, 30, "Agent-5", "transport", "unknown transport 'ssh' (use one of: gui, tmux, inbox, dryrun)"),
        (11, 5, "agents[5]", "id", "missing required key 'id'"),
        (12, 5, "Agent-7", "transport", "missing required key 'transport' (one of: gui, tmux, inbox, dryrun)"),
        (13, 5, "Agent-8", "chat", "missing required key 'chat'"),
        (14, 5, "agents[8]", None, "an agent entry must be a mapping of 'key: value' lines, not 'just-a-name'"),
        (15, 30, None, "groups.frontend", "unknown agent 'Agent-9' (did you mean 'Agent-8'?)"),
        (15, 46, None, "groups.solo", "a group is a list of agent ids, e.g. [Agent-1, Agent-2]"),
        (16, 1, None, "extra", "unknown key 'extra'"),
    ]


def test_odd_yaml_is_reported_with_its_position():
    assert problems("agents:\n  - {id: A, transport: dryrun, role: \"x\x07\"}\n") == [
        (2, 40, None, None, "the file is not readable text: special characters are not allowed (U+0007)")]
    assert problems("agents:\n  - {id: A, transport: dryrun, role: !custom x}\n") == [
        (2, 38, "A", "role", "could not determine a constructor for the tag '!custom'")]
    assert problems("agents:\n  - {<<: 5, id: A, transport: dryrun}\n") == [
        (2, 5, "A", None, "bad merge ('<<'): expected a mapping or list of mappings for merging, "
                          "but found scalar")]
    assert problems("agents:\n  - {? [a, b] : 1, id: A, transport: dryrun}\n") == [
        (2, 8, "A", None, "keys must be plain names")]
    assert problems("agents: 5\n") == [(1, 9, None, "agents", "must be a list of agents (lines starting '- ')")]


def test_empty_agents_and_groups_are_an_empty_roster():
    assert parse_roster("agents: []\n").agents == () == parse_roster("agents:\ngroups:\n").agents


def test_points_must_be_two_whole_numbers():
    for bad, shown in [("[1, 2, 3]", "[1, 2, 3]"), ("'100,200'", "'100,200'"), ("[true, 2]", "[true, 2]"),
                       ("{x: 1}", "a mapping")]:
        found = problems(f"agents:\n  - {{id: A, transport: gui, chat: {bad}}}\n")
        assert found == [(2, 35, "A", "chat",
                          f"expected a point [x, y] of two whole numbers, not {shown}")], bad


def test_repeated_key_and_repeated_group_member():
    found = problems("agents:\n  - {id: A, transport: dryrun, id: B}\ngroups: {g: [A, A]}\n")
    assert found == [(2, 32, "A", "id", "'id' is given twice (first on line 2)"),
                     (3, 17, None, "groups.g", "'A' is listed twice")]


def test_anchors_in_x_keys_supply_shared_settings():
    roster = parse_roster(textwrap.dedent("""\
        x-gui: &gui {transport: gui, submit_keys: [ctrl, enter]}
        agents:
          - {<<: *gui, id: Agent-1, chat: [5, 5]}
          - {<<: *gui, id: Agent-2, chat: [6, 6], submit_keys: [enter]}
        """), screens=PRIMARY)
    assert roster.get("Agent-1").transport.submit_keys == ("ctrl", "enter")
    assert roster.get("Agent-2").transport.submit_keys == ("enter",)


def test_negative_points_are_accepted_only_where_a_screen_is():
    text = "agents:\n  - {id: Agent-1, transport: gui, chat: [-1269, 481], onboarding: [-1265, 1200]}\n"
    assert problems(text, screens=LEFT_AND_PRIMARY) == [
        (2, 67, "Agent-1", "onboarding", "point (-1265, 1200) is on no screen "
                                         "(screens: 1920x1080-1920+0, 2560x1440+0+0)")]
    found = problems(text, screens=PRIMARY)
    assert [(f, m.split(" is on")[0]) for _, _, _, f, m in found] == [
        ("chat", "point (-1269, 481)"), ("onboarding", "point (-1265, 1200)")]
    ok = "agents:\n  - {id: Agent-1, transport: gui, chat: [-1920, 0], onboarding: [2559, 1439]}\n"
    assert parse_roster(ok, screens=LEFT_AND_PRIMARY).get("Agent-1").transport.chat == (-1920, 0)
    edge = "agents:\n  - {id: Agent-1, transport: gui, chat: [1920, 0]}\n"
    assert problems(edge, screens=PRIMARY)[0][4].startswith("point (1920, 0) is on no screen")


def test_unknown_screens_skip_the_check_with_a_warning(monkeypatch):
    text = "agents:\n  - {id: Agent-1, transport: gui, chat: [9000, 9000]}\n"
    assert parse_roster(text, screens=[]).warnings == (
        "screen points were not checked: no screens were given",)
    monkeypatch.delenv("DISPLAY", raising=False)
    assert parse_roster(text).warnings == (
        "screen points were not checked: no display could be queried for its monitors",)


def test_screens_are_detected_only_when_there_are_gui_agents(monkeypatch):
    calls = []

    def detect():
        calls.append(1)
        return PRIMARY

    monkeypatch.setattr("quarterdeck.core.desktop.screens.detect_screens", detect)
    assert parse_roster("agents:\n  - {id: A, transport: dryrun}\n").warnings == ()
    assert calls == []
    found = problems("agents:\n  - {id: A, transport: gui, chat: [1920, 5]}\n", screens=None)
    assert calls == [1] and found[0][3] == "chat"


def test_roster_lookup_and_invariants():
    agent = Agent(id="Agent-1", transport=DryRunTransport())
    roster = Roster((agent,), {"all": ("Agent-1",)})
    assert "Agent-1" in roster and "Agent-2" not in roster
    with pytest.raises(UnknownAgentError, match=r"no agent 'Agent-2' on the roster \(agents: Agent-1\)"):
        roster.get("Agent-2")
    with pytest.raises(UnknownAgentError, match="no group 'x'"):
        roster.group("x")
    with pytest.raises(ValueError, match="appears twice"):
        Roster((agent, agent))
    with pytest.raises(ValueError, match="unknown agents: Agent-9"):
        Roster((agent,), {"g": ("Agent-9",)})
    assert roster.with_agent(replace(agent, role="lead")).get("Agent-1").role == "lead"
    assert roster.with_agent(Agent(id="Agent-2", transport=DryRunTransport())).ids() == ["Agent-1", "Agent-2"]


def test_a_copied_replaced_or_pickled_roster_finds_its_agents_by_id_and_shows_no_index():
    """The index by id is no field: equality and repr leave it out, and every copy has its own, current one."""
    agent, other = Agent(id="Agent-1", transport=DryRunTransport()), Agent(id="Agent-2", transport=DryRunTransport())
    roster = Roster((agent,), {"all": ("Agent-1",)})
    assert copy.copy(roster).get("Agent-1") is agent and pickle.loads(pickle.dumps(roster)) == roster
    assert pickle.loads(pickle.dumps(roster)).get("Agent-1") == agent and "Agent-1" in copy.deepcopy(roster)
    moved = replace(roster, agents=(other,), groups={})
    assert "Agent-2" in moved and "Agent-1" not in moved and "Agent-1" in roster
    assert roster == Roster((agent,), {"all": ("Agent-1",)}) and "by_id" not in repr(roster)
    with pytest.raises(ValueError, match="appears twice"):
        replace(roster, agents=(agent, agent))


def test_round_trip_through_yaml():
    roster = Roster((
        Agent(id="Agent-1", display_name="Front", role="frontend: UI", transport=GuiTransport(
            chat=(-1269, 481), onboarding=(-1265, 171), submit_keys=("shift", "enter"),
            clear_before_paste=True)),
        Agent(id="Agent-2", enabled=False, transport=TmuxTransport(target="1:0")),
        Agent(id="Agent-3", role="yes", transport=InboxTransport(path=Path("/srv/inbox #3"))),
        Agent(id="Agent-4", transport=DryRunTransport()),
    ), {"front": ("Agent-1", "Agent-3"), "empty": ()})
    text = roster_to_yaml(roster)
    again = parse_roster(text, screens=LEFT_AND_PRIMARY)
    assert again.agents == roster.agents and again.groups == roster.groups
    assert "chat: [-1269, 481]" in text and "  front: [Agent-1, Agent-3]" in text


def test_save_writes_new_file_then_backs_up_the_previous_one(tmp_path):
    path = tmp_path / "conf" / "agents.yaml"
    first = Roster((Agent(id="A", transport=DryRunTransport()),))
    assert save_roster(first, path) is None
    assert load_roster(path).ids() == ["A"]
    old_text = path.read_text(encoding="utf-8")
    second = first.with_agent(Agent(id="B", transport=DryRunTransport()))
    backup = save_roster(second, path)
    third = save_roster(second, path)
    assert backup is not None and third is not None and backup != third
    assert re.fullmatch(r"agents\.yaml\.bak-\d{8}T\d{6}Z(-\d+)?", backup.name)
    assert backup.read_text(encoding="utf-8") == old_text
    assert load_roster(path).ids() == ["A", "B"]
    assert save_roster(first, path, backup=False) is None
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(["agents.yaml", backup.name, third.name])


def _disk_full(src, dst):
    raise OSError("disk full")


def test_save_keeps_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    path = tmp_path / "agents.yaml"
    save_roster(Roster((Agent(id="A", transport=DryRunTransport()),)), path)
    os.chmod(path, 0o600)
    before = path.read_text(encoding="utf-8")
    with monkeypatch.context() as patch, pytest.raises(OSError, match="disk full"):
        patch.setattr(fileops.os, "replace", _disk_full)
        save_roster(Roster(), path, backup=False)
    assert path.read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == ["agents.yaml"]
    save_roster(Roster(), path, backup=False)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_roster(path).agents == ()


def test_load_defaults_to_the_user_config_dir(_isolated_user_dirs):
    path = _isolated_user_dirs / "config" / "agents.yaml"
    save_roster(Roster((Agent(id="A", transport=DryRunTransport()),)), path)
    assert load_roster().ids() == ["A"]
    path.unlink()
    with pytest.raises(FileNotFoundError):
        load_roster()


def test_a_transport_written_as_a_mapping_says_how_to_write_it():
    assert problems("""\
        agents:
          - id: Agent-1
            transport:
              kind: inbox
              path: /tmp/in
          - {id: Agent-2, transport: {mode: fast}}
          - {id: Agent-3, transport: {}}
          - {id: Agent-4, transport: {tmux: {target: "s:0.1"}}}
          - {id: Agent-5, transport: {kind: inbx, path: /tmp/in}}
        """) == [
        (4, 7, "Agent-1", "transport", "the transport is a name, not a mapping: write 'transport: inbox' and put "
                                       "path beside it, in the agent"),
        (6, 30, "Agent-2", "transport", "the transport is a name, not a mapping: write 'transport: gui | tmux | "
                                        "inbox | dryrun'"),
        (7, 30, "Agent-3", "transport", "the transport is a name, not a mapping: write 'transport: gui | tmux | "
                                        "inbox | dryrun'"),
        (8, 30, "Agent-4", "transport", "the transport is a name, not a mapping: write 'transport: tmux' and put "
                                        "target, agent, submit beside it, in the agent"),
        (9, 30, "Agent-5", "transport", "the transport is a name, not a mapping: write 'transport: gui | tmux | "
                                        "inbox | dryrun' (did you mean 'inbox'?)"),
    ]
