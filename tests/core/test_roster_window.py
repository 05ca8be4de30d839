"""A gui agent bound to its window, in the roster file: YAML round trips, problems, captures, edits."""
from __future__ import annotations

import pytest

from quarterdeck.core.desktop.window_match import Window, nearest_anchor
from quarterdeck.core.model_check import checked, dumped
from quarterdeck.core.models import Agent, GuiTransport, WindowMatch, WindowPoint
from quarterdeck.core.roster.capture import capture_point
from quarterdeck.core.roster.edit import agent_from_form, form_from_agent, with_point
from quarterdeck.core.roster.problems import RosterError
from quarterdeck.core.roster.roster import Roster, load_roster, parse_roster, roster_to_yaml
from quarterdeck.core.transports.gui.windows import Placement

BOUND = """\
agents:
  - id: Agent-1
    transport: gui
    window: {class: Chromium, title: "api-service", pid: 4242, id: 0x3c00007}
    chat: [420, 980]
    chat_in_window: {anchor: bottom-left, offset: [320, -60]}
    onboarding: [420, 900]
    onboarding_in_window: {anchor: bottom-left, offset: [320, -140]}
  - {id: Agent-2, transport: gui, chat: [1, 2]}
"""

WINDOW = Window(0x80000C, ("chromium", "Chromium"), "main.py — api-service — Cursor", 4242, 100, 50, 800, 600)


def bound_agent() -> Agent:
    return parse_roster(BOUND, screens=()).get("Agent-1")


def test_a_window_bound_agent_reads_and_writes_back_the_same():
    agent = bound_agent()
    assert agent.transport.window == WindowMatch(class_="Chromium", title="api-service", pid=4242, id=0x3C00007)
    assert agent.transport.chat_in_window == WindowPoint(anchor="bottom-left", offset=(320, -60))
    text = roster_to_yaml(Roster((agent,)))
    assert "    window: {class: Chromium, title: api-service, pid: 4242, id: 62914567}\n" in text
    assert "    chat_in_window: {anchor: bottom-left, offset: [320, -60]}\n" in text
    assert parse_roster(text, screens=()).agents == (agent,)
    assert checked(GuiTransport, dumped(agent.transport)) == agent.transport


def test_a_roster_with_screen_points_only_is_unchanged():
    agent = parse_roster(BOUND, screens=()).get("Agent-2")
    assert agent.transport == GuiTransport(chat=(1, 2))
    assert (agent.transport.window, agent.transport.chat_in_window) == (None, None)
    text = roster_to_yaml(Roster((agent,)))
    assert "window" not in text and "in_window" not in text


def test_titles_with_yaml_characters_survive_the_round_trip():
    title = "main.py — [api]: {x}, #1 'q' \"d\""
    agent = Agent(id="A", transport=GuiTransport(chat=(1, 2), window=WindowMatch(class_="Code", title=title)))
    assert parse_roster(roster_to_yaml(Roster((agent,))), screens=()).get("A") == agent


@pytest.mark.parametrize(("entry", "where", "message"), [
    ("window: {class: X, titel: y}", "window.titel", "unknown key 'titel'"),
    ("window: {}", "window", "a window needs a class, a title or an id, e.g. {class: Cursor, title: api-service}"),
    ("window: {title: '  '}", "window.title", "the title is blank: leave it out, or give a part of the window title"),
    ("window: {class: X, id: -4}", "window.id", "Input should be greater than 0"),
    ("window: {class: X}, chat_in_window: {anchor: middle, offset: [1, 2]}", "chat_in_window.anchor",
     "Input should be 'top-left', 'top-right', 'bottom-left' or 'bottom-right'"),
    ("window: {class: X}, chat_in_window: {anchor: top-left, offset: [1, 2.5]}", "chat_in_window.offset[1]",
     "Input should be a valid integer"),
    ("chat_in_window: {anchor: top-left, offset: [1, 2]}", "", "chat_in_window needs 'window' (which window "
     "the point is in)"),
])
def test_window_mistakes_are_reported_at_their_key(entry, where, message):
    with pytest.raises(RosterError) as caught:
        parse_roster(f"agents:\n  - {{id: A, transport: gui, chat: [1, 2], {entry}}}\n", "r.yaml", screens=())
    (problem,) = caught.value.problems
    assert (problem.field or "", problem.message) == (where, message)
    if where:
        assert problem.line == 2 and problem.col > 40  # inside the entry, at the nested key's value


ROSTER = """\
# the swarm
agents:
  - {id: Agent-1, transport: gui, chat: [100, 200]}   # left pane
  - id: Agent-2
    transport: gui
    chat: [300, 400]   # the chat
    onboarding: [300, 100]  # new chat input
groups: {pair: [Agent-1, Agent-2]}
"""


def placement(point) -> Placement:
    return Placement(WINDOW, nearest_anchor(point, WINDOW.rect))


def test_capture_binds_the_window_and_keeps_the_files_comments(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(ROSTER, encoding="utf-8")
    assert capture_point(path, "Agent-1", "chat", (420, 610), placement((420, 610)))[:2] == ((100, 200), (420, 610))
    assert capture_point(path, "Agent-2", "chat", (430, 620), placement((430, 620)), title="api-service")[:2] \
        == ((300, 400), (430, 620))
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[2] == (
        "  - {id: Agent-1, transport: gui, chat: [420, 610], window: {class: Chromium, title: main.py — "
        "api-service — Cursor, pid: 4242, id: 8388620}, chat_in_window: {anchor: bottom-left, offset: "
        "[320, -40]}}   # left pane")
    assert text.splitlines()[5:9] == [
        "    chat: [430, 620]   # the chat",
        "    window: {class: Chromium, title: api-service, pid: 4242, id: 8388620}",
        "    chat_in_window: {anchor: bottom-left, offset: [330, -30]}",
        "    onboarding: [300, 100]  # new chat input",
    ]
    # a recapture in place: the shortened title is kept, the offset replaced
    capture_point(path, "Agent-2", "chat", (880, 60), placement((880, 60)))
    agent = load_roster(path, screens=()).get("Agent-2")
    assert agent.transport.window.title == "api-service"
    assert agent.transport.chat_in_window == WindowPoint(anchor="top-right", offset=(-20, 10))
    assert "# the chat" in path.read_text(encoding="utf-8")
    # a point stored without its window drops its place in the window, still in place
    capture_point(path, "Agent-2", "chat", (5, 6))
    agent = load_roster(path, screens=()).get("Agent-2")
    assert (agent.transport.chat, agent.transport.chat_in_window) == ((5, 6), None)
    assert agent.transport.window is not None and "# new chat input" in path.read_text(encoding="utf-8")


def test_capture_refuses_a_title_without_a_window_or_not_in_it(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(ROSTER, encoding="utf-8")
    with pytest.raises(ValueError, match="a title needs the window under the pointer"):
        capture_point(path, "Agent-1", "chat", (1, 1), title="api")
    with pytest.raises(ValueError, match="'web' is not part of the window's title"):
        capture_point(path, "Agent-1", "chat", (420, 610), placement((420, 610)), title="web")
    assert path.read_text(encoding="utf-8") == ROSTER


def test_editing_an_agent_in_the_form_keeps_its_window_and_unchanged_points():
    roster = parse_roster(BOUND, screens=())
    agent = roster.get("Agent-1")
    same = agent_from_form(form_from_agent(agent), roster, "Agent-1")
    assert same == agent
    moved = agent_from_form({**form_from_agent(agent), "chat": "500, 500"}, roster, "Agent-1")
    assert moved.transport.window == agent.transport.window
    assert moved.transport.chat == (500, 500) and moved.transport.chat_in_window is None
    assert moved.transport.onboarding_in_window == agent.transport.onboarding_in_window


def test_a_point_captured_in_the_panel_binds_the_window_when_given_its_placement():
    roster = parse_roster(BOUND, screens=())
    bound = with_point(roster, "Agent-2", "chat", (420, 610), placement((420, 610))).get("Agent-2")
    assert bound.transport.window.id == WINDOW.id
    assert bound.transport.chat_in_window == WindowPoint(anchor="bottom-left", offset=(320, -40))
    plain = with_point(roster, "Agent-1", "onboarding", (7, 8)).get("Agent-1")
    assert (plain.transport.onboarding, plain.transport.onboarding_in_window) == ((7, 8), None)
    assert plain.transport.chat_in_window is not None and plain.transport.window is not None
