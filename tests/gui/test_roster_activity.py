"""The roster's Activity column and tiles: state and since-when, a colour per state, the reason on
hover, a brief pulse on the one row whose activity changed, and a hook event shown within 250 ms."""
from __future__ import annotations

import time

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from quarterdeck.core.activity.events import NEEDS_YOU, PROMPT_SUBMITTED, TURN_ENDED, ActivityEvent
from quarterdeck.core.activity.record import record
from quarterdeck.core.activity.tracks import reduce
from quarterdeck.core.models import Agent, DryRunTransport
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.roster.status import AgentLive
from quarterdeck.gui.activity import cells
from quarterdeck.gui.activity.flash import RowFlash
from quarterdeck.gui.roster.model import ACTIVITY, AGENT, STATUS, STATUS_KEY_ROLE, RosterModel
from quarterdeck.gui.roster.panel import RosterPanel

IDS = ("Agent-1", "Agent-2", "Agent-3")
BG = Qt.ItemDataRole.BackgroundRole


def roster() -> Roster:
    return Roster(tuple(Agent(id=i, transport=DryRunTransport()) for i in IDS))


def hook(agent: str, kind: str, name: str, at: float, **fields) -> ActivityEvent:
    return ActivityEvent(agent_id=agent, source="claude-code", kind=kind, name=name, at=at, **fields)


def model_of(qtmodeltester=None) -> RosterModel:
    model = RosterModel(roster(), lambda _id: AgentLive(), lambda _id: {"ok": 0, "failed": 0})
    if qtmodeltester is not None:
        qtmodeltester.check(model)
    return model


def cell(model: RosterModel, agent: str, role=Qt.ItemDataRole.DisplayRole, column: int = ACTIVITY):
    return model.index(model.row_of(agent), column).data(role)


def test_the_column_shows_the_state_since_when_its_colour_and_why(qtmodeltester):
    model = model_of(qtmodeltester)
    now = time.time()
    events = [hook("Agent-1", NEEDS_YOU, "Notification", now - 125, waits_for="permission", detail="Bash",
                   text="Claude needs your permission to use Bash"),
              hook("Agent-1", NEEDS_YOU, "Notification", now - 12, waits_for="permission", detail="Bash"),
              hook("Agent-2", PROMPT_SUBMITTED, "UserPromptSubmit", now - 40)]
    assert [cell(model, a) for a in IDS] == ["unknown"] * 3  # before the feed has said anything
    model.set_activities(reduce(events, IDS, now=now), now)
    qtmodeltester.check(model)
    assert model.headerData(ACTIVITY, Qt.Orientation.Horizontal) == "Activity" and ACTIVITY == AGENT + 1
    assert [cell(model, a) for a in IDS] == ["needs-you · 2 min", "working · 40 s", "unknown"]
    assert cell(model, "Agent-1", Qt.ItemDataRole.ToolTipRole) == (
        "it waits for permission (Bash) · Notification hook 12 s ago\n“Claude needs your permission to use Bash”")
    assert cell(model, "Agent-2", Qt.ItemDataRole.ToolTipRole) == (
        "a prompt was submitted · UserPromptSubmit hook 40 s ago")
    assert [cell(model, a, STATUS_KEY_ROLE) for a in IDS] == ["needs-you", "working", "unknown"]
    colours = [cell(model, a, Qt.ItemDataRole.ForegroundRole).color().name() for a in IDS]
    assert len(set(colours)) == 3  # a colour per state
    assert colours[0] == cells.colour("needs-you").darker(110).name()
    assert all(cell(model, a, Qt.ItemDataRole.DecorationRole) is not None for a in IDS)
    assert cell(model, "Agent-1", BG).color() == QColor(cells.TINTS["needs-you"])  # wants the captain's eye
    assert cell(model, "Agent-2", BG) is None
    assert cell(model, "Agent-1", column=STATUS) == "idle"  # the delivery status is its own column


def test_a_row_whose_activity_changes_pulses_for_a_second_and_no_other_row_repaints(qtbot):
    model = model_of()
    now = time.time()
    first = reduce([hook(a, TURN_ENDED, "Stop", now - 5) for a in IDS], IDS, now=now)
    assert model.set_activities(first, now) == set()  # from nothing known: no pulse
    assert model.flash.active() == set()
    painted: list[tuple[int, int, list]] = []
    model.dataChanged.connect(lambda top, bottom, roles=(): painted.append((top.row(), bottom.row(), list(roles))))
    events = [*(hook(a, TURN_ENDED, "Stop", now - 5) for a in IDS),
              hook("Agent-2", PROMPT_SUBMITTED, "UserPromptSubmit", now)]
    started = time.monotonic()
    assert model.set_activities(reduce(events, IDS, now=now), now) == {"Agent-2"}
    row = model.row_of("Agent-2")
    assert model.flash.active() == {"Agent-2"}
    assert all(model.index(row, c).data(BG) is not None for c in range(model.columnCount()))
    assert cell(model, "Agent-1", BG, AGENT) is None and cell(model, "Agent-3", BG, AGENT) is None
    qtbot.waitUntil(lambda: model.flash.active() == set(), timeout=3000)
    lasted = time.monotonic() - started
    assert 0.9 <= lasted < 1.5, lasted
    assert model.index(row, AGENT).data(BG) is None
    assert painted and {(top, bottom) for top, bottom, _ in painted} == {(row, row)}
    assert len(painted) >= 10  # it pulsed: repainted over and over (every 40 ms), that row only


def test_the_pulse_rises_and_falls_over_its_second():
    clock = [100.0]
    repainted: list[set[str]] = []
    flash = RowFlash(repainted.append, clock=lambda: clock[0])
    flash.start("Agent-1", QColor("#e65100"))
    levels = []
    for t in (0.0, 0.25, 0.5, 0.75, 0.99, 1.2):
        clock[0] = 100.0 + t
        levels.append(round(flash.level("Agent-1"), 2))
    assert levels == [0.0, 0.71, 1.0, 0.71, 0.03, 0.0]
    assert flash.level("Agent-2") == 0.0 and flash.brush("Agent-2") is None
    clock[0] = 100.5
    assert flash.brush("Agent-1").color().alpha() > 100
    flash._on_timer_timeout()
    clock[0] = 101.1
    flash._on_timer_timeout()  # over: repainted once more without the pulse, then quiet
    assert repainted[-1] == {"Agent-1"} and flash.active() == set() and not flash._timer.isActive()


def test_a_hook_event_reaches_the_roster_within_250_ms(make_ctx, qtbot):
    ctx = make_ctx(roster=roster())
    panel = RosterPanel(ctx)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.live.feed.latest_at is not None, timeout=3000)
    with qtbot.waitSignal(panel.live.feed.sig_activities, timeout=3000):
        pass  # just after a look: the worst time for the next event
    started = time.monotonic()
    record(ctx.store.path.parent, hook("Agent-3", NEEDS_YOU, "Notification", time.time(), waits_for="question",
                                       text="Which database should I use?"))
    qtbot.waitUntil(lambda: cell(panel.model, "Agent-3").startswith("needs-you"), timeout=3000)
    took = time.monotonic() - started
    print(f"hook event to roster: {took * 1000:.0f} ms")
    assert took < 0.25, took
    assert "Which database should I use?" in cell(panel.model, "Agent-3", Qt.ItemDataRole.ToolTipRole)
    assert "Activity: needs-you" in panel.fleet.tooltip_for(panel.model.index(panel.model.row_of("Agent-3"), 0))


def test_tiles_show_the_activity_as_a_pill_in_its_colour(make_ctx, qtbot):
    ctx = make_ctx(roster=roster())
    panel = RosterPanel(ctx)
    qtbot.addWidget(panel)
    quiet_feed(panel, qtbot)
    panel.show_table(False)
    panel.resize(660, 260)
    panel.show()
    qtbot.waitExposed(panel)
    now = time.time()
    events = [hook("Agent-1", NEEDS_YOU, "Notification", now - 60, waits_for="permission"),
              hook("Agent-2", PROMPT_SUBMITTED, "UserPromptSubmit", now - 60)]
    panel.model.set_activities(reduce(events, IDS, now=now), now)
    panel.model.flash.stop()  # the pulse aside: the tile as it stays
    image = panel.fleet.viewport().grab().toImage()

    def orange_pixels(agent: str) -> int:
        tile = panel.fleet.visualRect(panel.model.index(panel.model.row_of(agent), 0))
        wanted = QColor(cells.COLOURS["needs-you"])
        return sum(1 for x in range(tile.left(), tile.right(), 2) for y in range(tile.top(), tile.bottom(), 2)
                   if _near(image.pixelColor(QPoint(x, y)), wanted))

    assert orange_pixels("Agent-1") > 40  # the filled needs-you pill
    assert orange_pixels("Agent-2") == 0 and orange_pixels("Agent-3") == 0


def quiet_feed(panel: RosterPanel, qtbot) -> None:
    """The live feed stopped (its look done): the test says what the agents do."""
    panel.live.feed.stop()
    qtbot.waitUntil(lambda: panel.ctx.jobs.pending == 0)


def _near(a: QColor, b: QColor, tolerance: int = 24) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) <= tolerance


def test_in_the_table_the_activity_column_is_in_view_at_the_roster_s_default_width(make_ctx, qtbot):
    ctx = make_ctx(roster=roster())
    panel = RosterPanel(ctx)
    qtbot.addWidget(panel)
    quiet_feed(panel, qtbot)
    panel.show_table(True)
    panel.resize(660, 260)  # the roster's width in the default layout of a 1366x768 screen
    panel.show()
    qtbot.waitExposed(panel)
    now = time.time()
    panel.model.set_activities(reduce([hook("Agent-1", NEEDS_YOU, "Notification", now - 7200,
                                            waits_for="permission")], IDS, now=now), now)
    table = panel.table
    qtbot.waitUntil(lambda: table.columnWidth(ACTIVITY) >= table.fontMetrics().horizontalAdvance("needs-you · 2 h"))
    right = table.columnViewportPosition(ACTIVITY) + table.columnWidth(ACTIVITY)
    assert table.horizontalScrollBar().value() == 0 and right <= table.viewport().width()
    # its text changes every second, its width does not: the columns right of it stay put
    status_at = table.columnViewportPosition(ACTIVITY + 1)
    panel.model.set_activities(reduce([hook("Agent-1", NEEDS_YOU, "Notification", now - 5, waits_for="permission")],
                                      IDS, now=now), now)
    qtbot.wait(50)
    assert cell(panel.model, "Agent-1") == "needs-you · 5 s"
    assert table.columnViewportPosition(ACTIVITY + 1) == status_at
