"""The screen-reading rules and submit profiles behind tmux verdicts, and their roster settings."""
from __future__ import annotations

import typing

import pytest
from msgspec.structs import replace

from quarterdeck.core.models import TmuxAgentKind
from quarterdeck.core.roster.problems import RosterError
from quarterdeck.core.roster.roster import parse_roster, roster_to_yaml
from quarterdeck.core.transports.registry import transport_for
from quarterdeck.core.transports.tmux.profiles import AGENT_KINDS, PROFILES, detect_kind, profile_for
from quarterdeck.core.transports.tmux.verdict import (
    INPUT_CLEARED,
    OUTPUT_BELOW,
    PROMPT_EMPTY,
    Screen,
    busy_appeared,
    compact,
    line_ended,
    read_input,
    scrolled,
    submit_evidence,
)

MARK = compact("fix the bug\nthen push")


def screen(*rows: str, at: tuple[int, int] | None = None) -> Screen:
    """Rows of a pane; the cursor at (column, row), by default at the end of the last non-blank row."""
    if at is None:
        y = max(i for i, row in enumerate(rows) if row.strip())
        at = (len(rows[y]), y)
    return Screen(tuple(rows), *at)


def uncounted(shown: Screen) -> Screen:
    """``shown`` without its history count (a pane that keeps no history, or the alternate screen)."""
    return replace(shown, history=0, history_limit=0)


BOXED = screen("╭──────────────────╮", "│ > fix the bug     │", "│ then push", "╰──────────────────╯",
               "  ? for shortcuts", at=(11, 2))


def test_the_message_in_a_boxed_input_sits_at_the_cursor():
    assert read_input(BOXED, MARK).right_at_cursor
    assert not read_input(screen("> fix the bug then", at=(10, 0)), MARK).at_cursor


def test_an_unchanged_input_is_no_evidence():
    assert submit_evidence(BOXED, MARK) is None


def test_the_message_moving_into_the_transcript_above_the_agent_output_is_evidence():
    after = screen("> fix the bug", "  then push", "", "✻ Thinking… (esc to interrupt)",
                   "╭──────────────────╮", "│ >                 │", "╰──────────────────╯", at=(4, 5))
    assert submit_evidence(after, MARK) == OUTPUT_BELOW


def test_a_bare_prompt_after_the_message_is_evidence():
    after = screen("> fix the bug", "then push", "> ", at=(2, 2))
    assert submit_evidence(after, MARK) == PROMPT_EMPTY


def test_an_emptied_input_is_evidence():
    assert submit_evidence(screen("", at=(0, 0)), MARK) == INPUT_CLEARED
    assert submit_evidence(screen("you said:", "", at=(0, 1)), MARK) == INPUT_CLEARED


def test_a_blank_row_under_the_message_is_a_newline_in_line_mode_only():
    before = screen("fix the bug", "then push")
    after = screen("fix the bug", "then push", "", at=(0, 2))
    assert line_ended(before, after)  # cat, a read loop: the kernel ended the line
    assert submit_evidence(after, MARK) is None  # an input box that took Enter as a newline
    assert read_input(after, MARK).at_cursor and not read_input(after, MARK).right_at_cursor


def test_the_cursor_moved_elsewhere_on_the_message_row_tells_nothing():
    assert submit_evidence(screen("> fix the bug then push", at=(0, 0)), MARK) is None


def test_a_scroll_on_the_bottom_row_is_a_new_line():
    before = Screen(("a", "b", "fix"), 3, 2)
    assert line_ended(before, Screen(("b", "fix", ""), 0, 2))
    assert not line_ended(before, Screen(("a", "b", "fix"), 3, 2))
    assert not line_ended(before, Screen(("a", "b", "fix more"), 8, 2))


def test_a_scroll_by_two_rows_counted_by_the_history_is_a_new_line():
    # cat on the bottom row: the kernel echoes the newline, cat writes the line back: two rows scroll
    before = Screen(("a", "b", "c", "fix"), 3, 3, history=40, history_limit=2000)
    after = Screen(("c", "fix", "fix", ""), 0, 3, history=42, history_limit=2000)
    assert line_ended(before, after)
    assert scrolled(before, after) == (2,)
    assert not line_ended(uncounted(before), uncounted(after))  # without the count: one row only
    # the count says two rows, but the old cursor row is not two rows up, intact
    assert not line_ended(before, Screen(("c", "fox", "fix", ""), 0, 3, history=42, history_limit=2000))
    # more rows scrolled than the old cursor row had above it: it left the screen, nothing to compare
    assert not line_ended(before, Screen(("x", "y", "z", ""), 0, 3, history=45, history_limit=2000))


def test_rows_that_repeat_are_no_scroll_when_the_history_did_not_grow():
    # the same line sent again and again, then a key that does not end the line: the screen looks
    # shifted by any number of rows, but it did not move
    before = Screen(("hi", "hi", "hi", "hi"), 2, 3, history=7, history_limit=2000)
    after = Screen(("hi", "hi", "hi", "hi "), 3, 3, history=7, history_limit=2000)
    assert scrolled(before, after) == (0,)
    assert not line_ended(before, after)
    assert line_ended(before, Screen(("hi", "hi", "hi", ""), 0, 3, history=9, history_limit=2000))


def test_a_full_history_that_dropped_its_oldest_tenth_still_counts_the_rows():
    # limit 100: at 99 lines, two more rows: the second finds 100 kept, drops 10, adds itself: 91
    before = Screen(("a", "b", "c", "fix"), 3, 3, history=99, history_limit=100)
    after = Screen(("c", "fix", "fix", ""), 0, 3, history=91, history_limit=100)
    assert scrolled(before, after) == (2,)
    assert line_ended(before, after)
    # limit 20 keeps 19 lines, drops 2 and adds one per row: 0 and 2 rows both fit, so no verdict
    tiny, tiny_after = replace(before, history=19, history_limit=20), replace(after, history=19, history_limit=20)
    assert scrolled(tiny, tiny_after) == (0, 2)
    assert not line_ended(tiny, tiny_after)
    # no history kept (or the alternate screen): no count at all
    assert scrolled(uncounted(before), after) is None


def test_the_cursor_column_counts_wide_characters_as_two_cells():
    wide = Screen(("> 你好 fix the bug then push ok",), 6, 0)
    assert read_input(wide, compact("你好")).at_cursor
    assert not read_input(Screen(wide.rows, 4, 0), compact("你好")).at_cursor


def test_a_busy_indicator_counts_only_when_it_is_new():
    idle, busy = screen("> hi"), screen("> hi", "working (esc to interrupt)")
    patterns = PROFILES["claude-code"].busy
    assert busy_appeared(patterns, idle, busy)
    assert not busy_appeared(patterns, busy, busy)
    assert not busy_appeared((), idle, busy)


def test_profiles_cover_the_roster_kinds_and_take_overrides():
    assert set(AGENT_KINDS) == set(typing.get_args(TmuxAgentKind))
    assert {"plain", "claude-code", "codex", "aider", "gemini"} <= set(AGENT_KINDS)
    codex = profile_for("codex", {"pause": 0.8, "presses": None})
    assert (codex.pause, codex.presses) == (0.8, PROFILES["codex"].presses)
    assert profile_for(None) == PROFILES["plain"]
    with pytest.raises(ValueError, match="unknown agent kind"):
        profile_for("vim")
    with pytest.raises(ValueError, match="unknown submit setting"):
        profile_for("plain", {"pauze": 1})
    with pytest.raises(ValueError, match="pause must not be negative"):  # an override is checked like a profile
        profile_for("plain", {"pause": -1})
    assert profile_for("plain", {"busy": ["working"]}).busy == ("working",)
    assert (detect_kind("claude"), detect_kind("/usr/bin/codex"), detect_kind("bash")) == ("claude-code", "codex", None)


def test_roster_tmux_settings_round_trip_and_reach_the_transport():
    text = ('agents:\n'
            '  - {id: Agent-2, transport: tmux, target: "swarm:0.1", agent: codex, submit: {pause: 0.8}}\n'
            '  - {id: Agent-3, transport: tmux, target: "swarm:0.2"}\n')
    roster = parse_roster(text, screens=())
    written = roster_to_yaml(roster)
    assert "submit: {pause: 0.8}" in written and "ready_after" not in written
    assert parse_roster(written, screens=()).agents == roster.agents
    codex, plain = (transport_for(agent) for agent in roster.agents)
    assert (codex.agent, codex.profile().pause, codex.profile().kind) == ("codex", 0.8, "codex")
    assert (plain.agent, plain.profile().kind) == (None, "plain")


@pytest.mark.parametrize("entry, problem", [
    ("agent: vim", "Agent-2.agent"),
    ("submit: {pauze: 1}", "Agent-2.submit.pauze"),
    ("submit: {presses: 0}", "Agent-2.submit.presses"),
])
def test_bad_tmux_settings_are_named_in_the_roster(entry, problem):
    with pytest.raises(RosterError, match=problem.replace(".", r"\.")):
        parse_roster(f"agents:\n  - {{id: Agent-2, transport: tmux, target: s, {entry}}}\n", screens=())


def test_editing_a_tmux_agent_in_the_form_keeps_its_submit_settings():
    from quarterdeck.core.roster.edit import agent_from_form, form_from_agent

    roster = parse_roster('agents:\n  - {id: A, transport: tmux, target: "s:0.1", agent: codex, '
                          'submit: {pause: 0.8}}\n', screens=())
    form = {**form_from_agent(roster.agents[0]), "target": "s:1.1"}
    edited = agent_from_form(form, roster, "A").transport
    assert (edited.target, edited.agent, edited.submit.pause) == ("s:1.1", "codex", 0.8)
