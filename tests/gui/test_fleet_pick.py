"""Typed recipient picks: ``2,5,7-9`` are positions in the fleet, ``@group`` a group, ids by name;
the composer's pick field checks exactly those agents and reports what named nobody."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from quarterdeck.core.models import Agent, DryRunTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.gui.composer.recipients import RecipientsBox
from quarterdeck.gui.roster.fleet_pick import parse_picks
from quarterdeck.gui.settings import Settings

FLEET = [f"Agent-{n}" for n in range(1, 11)]


def test_positions_ranges_groups_and_ids_pick_agents_in_fleet_order():
    picked = parse_picks("9, 2 5,7-8 @Docs agent-10", FLEET, {"docs": ["Agent-3", "Agent-1"]})
    assert picked.ids == ("Agent-1", "Agent-2", "Agent-3", "Agent-5", "Agent-7", "Agent-8", "Agent-9", "Agent-10")
    assert picked.problems == ()
    assert parse_picks("7 - 9", FLEET, {}).ids == ("Agent-7", "Agent-8", "Agent-9")


def test_parts_that_name_nobody_are_each_reported():
    picked = parse_picks("2, 11, 9-3, @nope, bogus, 8-12", FLEET, {"docs": ["Agent-1", "Gone-1"]})
    assert picked.ids == ("Agent-2", "Agent-8", "Agent-9", "Agent-10")
    assert picked.problems == (
        "11: no agent at position 11 (the fleet has 1-10)",
        "9-3: a range runs low to high, as in 3-9",
        "@nope: no such group (groups: @docs)",
        "bogus: not a position, a range (7-9), a @group or an agent id",
        "8-12: positions run 1-10",
    )
    assert picked.problem_text().endswith("; and 2 more")
    assert parse_picks("@docs", FLEET, {"docs": ["Agent-1", "Gone-1"]}).problems == ("@docs: Gone-1 not on the roster",)
    assert parse_picks("1", [], {}).problems == ("1: the fleet is empty",)


def roster() -> Roster:
    agents = [Agent(id=f"Agent-{n}", transport=DryRunTransport(), enabled=n != 3) for n in range(1, 9)]
    return Roster(tuple(agents), groups={"odd": ("Agent-1", "Agent-5", "Agent-7")})


def test_the_composer_pick_field_checks_exactly_the_typed_agents(qtbot):
    box = RecipientsBox(Settings())
    qtbot.addWidget(box)
    box.set_roster(roster())
    box.show()
    reported: list[str] = []
    box.sig_reported.connect(reported.append)
    box.set_selected(["Agent-8"])
    box.pick_field.setFocus()
    QTest.keyClicks(box.pick_field, "2,5-6")
    with qtbot.waitSignal(box.sig_selection_changed):
        QTest.keyClick(box.pick_field, Qt.Key.Key_Return)
    assert box.selected() == ["Agent-2", "Agent-5", "Agent-6"]
    assert box.pick_field.text() == "" and reported[-1] == "Recipients: Agent-2, Agent-5, Agent-6."
    QTest.keyClicks(box.pick_field, "@odd")
    QTest.keyClick(box.pick_field, Qt.Key.Key_Return)
    assert box.selected() == ["Agent-1", "Agent-5", "Agent-7"]
    # position 3 is the disabled Agent-3: it keeps its number, and is left out with a word
    QTest.keyClicks(box.pick_field, "3-4, 12")
    QTest.keyClick(box.pick_field, Qt.Key.Key_Return)
    assert box.selected() == ["Agent-4"]
    assert reported[-1] == ("Recipients: 12: no agent at position 12 (the fleet has 1-8); "
                            "Agent-3 disabled on the roster, left out.")
    assert box.pick_field.text() == "3-4, 12"  # kept, to fix the typo
    box.pick_field.clear()
    QTest.keyClicks(box.pick_field, "@nobody")
    QTest.keyClick(box.pick_field, Qt.Key.Key_Return)
    assert box.selected() == ["Agent-4"]  # a pick naming nobody changes nothing
    assert reported[-1].startswith("Recipients: @nobody: no such group (groups: @odd)")
