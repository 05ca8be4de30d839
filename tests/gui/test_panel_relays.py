"""The panel with a broker (issue 14): its session has the relays' agents to deliver to, its Stop all
and Resume reach every relay through qd:control, and the roster it edits stays this machine's."""
from __future__ import annotations

import argparse
import itertools
import time

import pytest
import redis
from gui_fixtures import dry_roster
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from redis_server import RedisServer, redis_server  # noqa: F401
from test_fleet_tile_text import tile_texts

from quarterdeck.core.models import Message
from quarterdeck.core.relay.protocol import KEYS, AnnouncedAgent, Announcement, ControlEntry
from quarterdeck.core.roster.remote import this_machine
from quarterdeck.gui.app import open_session
from quarterdeck.gui.composer.panel import ComposerPanel
from quarterdeck.gui.roster.model import ACTIVITY, AGENT, MACHINE, STATUS_KEY_ROLE, TARGET, TRANSPORT
from quarterdeck.gui.roster.panel import RosterPanel


def test_the_panels_session_reaches_the_relays(tmp_path, redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    now = time.time()
    client.hset(KEYS.relays, "M2", Announcement("M2", "m2.lan", 1, now, now, [
        AnnouncedAgent("Agent-9", "Agent-9", "", "inbox", "/srv/in9")]).to_json())
    roster = tmp_path / "agents.yaml"
    roster.write_text(f"agents:\n  - {{id: Agent-1, transport: inbox, path: {tmp_path / 'in1'}}}\n")
    args = argparse.Namespace(roster=roster, demo=None, data_dir=tmp_path / "data", config=None,
                              broker=redis_server.url)
    session, path, problem = open_session(args)
    try:
        assert problem is None and path == roster
        assert session.delivering.ids() == ["Agent-1"]  # the broker is read after the first paint...
        session.refresh_relays()  # ...by the panel's relay reader (gui.relays), off the UI thread
        assert session.roster.ids() == ["Agent-1"]  # what the roster panel edits and saves
        assert session.delivering.ids() == ["Agent-1", "Agent-9"]  # what the composer's messages can reach
        assert session.dispatcher.roster.get("Agent-9").transport.kind == "relay"
        session.dispatcher.stop_all()  # the panel's Stop all (Escape) and Resume
        session.dispatcher.resume_everywhere()
    finally:
        session.close()
    entries = [ControlEntry.from_fields(f) for _, f in client.xrange(KEYS.control)]
    client.close()
    assert [(e.kind, e.generation) for e in entries] == [("stop", 1), ("resume", 1)]


def test_the_demo_panel_stays_on_this_machine(tmp_path, redis_server: RedisServer) -> None:
    args = argparse.Namespace(roster=None, demo=2, data_dir=tmp_path / "data", config=None,
                              broker=redis_server.url)
    session, _, _ = open_session(args)
    try:
        assert session.machines is None and session.broker is None
    finally:
        session.close()


# -- the panel shows every machine (issue 14) ----------------------------------------------------------------------

def announce(client: redis.Redis, name: str, *agents: str, age: float = 0.0, paused: str = "") -> None:
    """``name`` announces ``agents`` (inbox agents) as last seen ``age`` seconds ago (``paused``: why its
    GUI delivery is paused)."""
    seen = time.time() - age
    client.hset(KEYS.relays, name, Announcement(name, f"{name.lower()}.lan", 1, seen - 60, seen, [
        AnnouncedAgent(a, a, "", "inbox", f"/srv/{a}") for a in agents], paused).to_json())


@pytest.fixture
def relays_ctx(make_ctx, redis_server: RedisServer, qtbot):
    """``relays_ctx(*local_ids)``: a started context whose session merges the relays on ``redis_server``,
    once the read its start began is done."""
    def make(*ids: str, **kw):
        ctx = make_ctx(roster=dry_roster(*ids), broker_url=redis_server.url, relays=True, **kw)
        qtbot.waitUntil(lambda: not ctx.relays.under_way, timeout=5000)
        return ctx
    return make


@pytest.fixture
def broker(redis_server: RedisServer):
    client = redis.Redis.from_url(redis_server.url)
    yield client
    client.close()


def fleet_changed(ctx, qtbot) -> None:
    """Read the relays now (off the UI thread) and wait until the panel heard of it (a read the panel's
    own timer began may have started before what the test just wrote: it ends first)."""
    qtbot.waitUntil(lambda: not ctx.relays.under_way, timeout=5000)
    with qtbot.waitSignal(ctx.sig_fleet_changed, timeout=5000):
        assert ctx.relays.refresh()


def cell(panel: RosterPanel, agent_id: str, column: int, role=Qt.ItemDataRole.DisplayRole):
    return panel.model.index(panel.model.row_of(agent_id), column).data(role)


def test_the_roster_has_a_machine_column_and_a_silent_relays_agents_go_offline(relays_ctx, broker, qtbot) -> None:
    announce(broker, "M2", "Agent-9")
    announce(broker, "M3", "Agent-7", age=30)
    ctx = relays_ctx("Agent-1")
    panel = RosterPanel(ctx)
    qtbot.addWidget(panel)
    panel.show_table(True)
    assert panel.model.ids() == ["Agent-1", "Agent-9", "Agent-7"]
    assert not panel.table.isColumnHidden(MACHINE) and panel.model.headerData(MACHINE, Qt.Orientation.Horizontal) \
        == "Machine"
    assert [cell(panel, a, MACHINE) for a in panel.model.ids()] == [this_machine(), "M2", "M3 · last seen 30 s ago"]
    assert [cell(panel, a, ACTIVITY, STATUS_KEY_ROLE) for a in panel.model.ids()] == ["unknown", "unknown", "offline"]
    assert "its relay M3 on m3.lan last seen 30 s ago" in cell(panel, "Agent-7", ACTIVITY, Qt.ItemDataRole.ToolTipRole)
    # a tile names the silent relay alone (its pill says "offline"): "last seen" pushed the name out
    assert "M3 · inbox" in tile_texts(panel, "Agent-7") and "M2 · inbox" in tile_texts(panel, "Agent-9")
    assert cell(panel, "Agent-9", TRANSPORT) == "inbox" and cell(panel, "Agent-9", TARGET) == "/srv/Agent-9"
    assert panel.machines_bar.isVisibleTo(panel)
    assert panel.machines_bar.label.text() == "Other machines: 2 relays · M3 last seen 30 s ago"  # one line
    assert "relay M3 last seen 30 s ago: its agents are offline" in panel.machines_bar.label.toolTip()
    announce(broker, "M2", "Agent-9", age=12)  # M2 stops answering; M3 is back
    announce(broker, "M3", "Agent-7")
    fleet_changed(ctx, qtbot)
    assert cell(panel, "Agent-9", MACHINE) == "M2 · last seen 12 s ago"
    assert cell(panel, "Agent-9", ACTIVITY, STATUS_KEY_ROLE) == "offline"
    assert cell(panel, "Agent-7", ACTIVITY, STATUS_KEY_ROLE) == "unknown" and cell(panel, "Agent-7", MACHINE) == "M3"
    composer = ComposerPanel(ctx)
    qtbot.addWidget(composer)
    recipients = composer.recipients.list
    assert [recipients.item(i).text() for i in range(recipients.count())] == \
        ["Agent-1", "Agent-9  ·  M2 · offline", "Agent-7  ·  M3"]
    recipients.item(1).setData(Qt.ItemDataRole.UserRole + 7, "mark")
    announce(broker, "M2", "Agent-9", age=14)  # still silent, older: the list is not rebuilt (its scroll stays)
    fleet_changed(ctx, qtbot)
    assert cell(panel, "Agent-9", MACHINE) == "M2 · last seen 14 s ago"
    assert recipients.item(1).data(Qt.ItemDataRole.UserRole + 7) == "mark"
    announce(broker, "M4", "Agent-4")  # a relay started after the panel joins at the next read
    fleet_changed(ctx, qtbot)
    assert panel.model.ids() == ["Agent-1", "Agent-9", "Agent-7", "Agent-4"]
    assert ctx.dispatcher.roster.get("Agent-4").transport.kind == "relay"


def test_a_relays_agent_is_read_only_here_but_its_breaker_is_the_captains(relays_ctx, broker, qtbot) -> None:
    announce(broker, "M2", "Agent-9")
    panel = RosterPanel(relays_ctx("Agent-1"))
    qtbot.addWidget(panel)
    panel.show_table(True)
    assert panel.select_agent("Agent-9")
    act = panel.actions_by_name
    assert not act["edit"].isEnabled() and not act["remove"].isEnabled() and not act["capture_chat"].isEnabled()
    assert "Agent-9 runs on M2: change it in that machine's agents.yaml" in act["edit"].toolTip()
    assert act["force_open"].isEnabled() and act["reset"].isEnabled()
    assert panel.select_agent("Agent-1") and act["edit"].isEnabled() and act["remove"].isEnabled()
    assert "agents.yaml" not in act["edit"].toolTip()
    panel.editor.remove_now("Agent-1")  # the roster saved is this machine's alone
    qtbot.waitUntil(lambda: panel.model.ids() == ["Agent-9"], timeout=5000)
    assert panel.ctx.roster.ids() == [] and panel.ctx.fleet.ids() == ["Agent-9"]


def test_an_id_on_two_machines_is_marked_and_a_send_to_it_refused_with_both_named(relays_ctx, broker, qtbot,
                                                                                  transports) -> None:
    announce(broker, "M2", "Agent-1", "Agent-9")
    ctx = relays_ctx("Agent-1", "Agent-2")
    roster, composer = RosterPanel(ctx), ComposerPanel(ctx)
    qtbot.addWidget(roster)
    qtbot.addWidget(composer)
    here = this_machine()
    assert cell(roster, "Agent-1", AGENT) == "⚠ Agent-1"
    assert cell(roster, "Agent-1", MACHINE) == f"{here} + M2"
    assert cell(roster, "Agent-1", MACHINE, STATUS_KEY_ROLE) == "conflict"
    tip = cell(roster, "Agent-1", AGENT, Qt.ItemDataRole.ToolTipRole)
    assert f"Agent-1 is on 2 machines ({here}, M2)" in tip and "refused" in tip
    assert cell(roster, "Agent-1", AGENT, Qt.ItemDataRole.BackgroundRole) is not None  # the row is marked
    assert roster.machines_bar.label.text() == \
        "Other machines: 1 relay up · ⚠ Agent-1 on two machines (sends refused)"
    assert f"agent id Agent-1 is on 2 machines ({here}, M2)" in roster.machines_bar.label.toolTip()
    labels = [composer.recipients.list.item(i).text() for i in range(composer.recipients.list.count())]
    assert labels == ["Agent-2", "Agent-9  ·  M2", f"⚠ Agent-1  ·  {here} + M2"]
    composer.recipients.all_box.click()  # everyone: never the id on two machines
    assert composer.recipients.selected() == ["Agent-2", "Agent-9"]
    composer.recipients.pick_field.setText("Agent-1")
    QTest.keyClick(composer.recipients.pick_field, Qt.Key.Key_Return)
    assert composer.recipients.selected() == ["Agent-1"]
    QTest.keyClicks(composer.editor, "Who owns the deploy?")
    assert not composer.send()
    assert composer.notice.text() == (f"Not sent: Agent-1 is on more than one machine ({here} and M2): not sent; "
                                      "give one of them another id")
    assert not composer.send_button.isEnabled() and "more than one machine" in composer.send_button.toolTip()
    assert transports.sent_to("Agent-1") == []


def test_the_relays_are_read_off_the_ui_thread_even_when_the_broker_hangs(relays_ctx, broker, redis_server,
                                                                         qtbot) -> None:
    announce(broker, "M2", "Agent-9")
    ctx = relays_ctx("Agent-1")
    panel = RosterPanel(ctx)
    qtbot.addWidget(panel)
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(50)
    redis_server.pause()  # SIGSTOP: a read now waits for the client's timeout (3 s)
    try:
        started = time.monotonic()
        assert ctx.relays.refresh() and not ctx.relays.refresh()  # under way: not asked twice
        assert time.monotonic() - started < 0.1
        qtbot.wait(1500)
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        assert len(ticks) >= 20 and max(gaps) < 0.5, gaps  # the UI thread kept turning
    finally:
        redis_server.unpause()
        timer.stop()
    qtbot.waitUntil(lambda: ctx.relays.refresh(), timeout=10_000)  # the hung read ended; reads go on
    assert panel.model.ids() == ["Agent-1", "Agent-9"]


def test_the_health_line_and_panel_count_the_relays(relays_ctx, broker, qtbot) -> None:
    from quarterdeck.gui.charts.health import HealthPanel

    announce(broker, "M2", "Agent-9")
    announce(broker, "M3", "Agent-7", age=40)
    ctx = relays_ctx("Agent-1")
    health = HealthPanel(ctx)
    qtbot.addWidget(health)
    assert "Relays: 2 relays · M3 last seen 40 s ago" in health.summary_label.text()
    assert sorted(health.tree_data["components"]["agents"]["components"]) == ["Agent-1", "Agent-7", "Agent-9"]
    from quarterdeck.gui.charts.panel import ChartsPanel

    charts = ChartsPanel(ctx)
    qtbot.addWidget(charts)
    assert all(charts.agent_box.findData(a) >= 0 for a in ("Agent-1", "Agent-9", "Agent-7"))
    announce(broker, "M3", "Agent-7")
    announce(broker, "M4", "Agent-4")
    fleet_changed(ctx, qtbot)
    assert "Relays: 3 relays up" in health.summary_label.text()
    assert "Agent-4" in health.tree_data["components"]["agents"]["components"]
    assert charts.agent_box.findData("Agent-4") >= 0  # a relay that joined: its agents are charted too


def test_placement_without_a_broker_is_the_roster_alone() -> None:
    from quarterdeck.core.roster.remote import RelaySeen
    from quarterdeck.gui.roster.placement import relays_text, shown

    local = dry_roster("Agent-1")
    assert shown(local, None).roster is local and shown(local, None).where == {}
    assert relays_text([]) == "no relay has announced itself"
    up, silent = RelaySeen("M2", "h", 0.0, 1.0, ()), RelaySeen("M3", "h", 0.0, 75.0, ())
    assert relays_text([up]) == "1 relay up"
    assert relays_text([up, silent, RelaySeen("M4", "h", 0.0, 12.0, ())]) == \
        "3 relays · 2 not answering (oldest last seen 75 s ago)"


def test_an_id_on_two_relays_is_one_read_only_row_naming_both() -> None:
    from quarterdeck.core.roster.remote import merge
    from quarterdeck.gui.roster.placement import shown

    now = time.time()
    relays = [Announcement(name, "h", 1, now, now - age, [AnnouncedAgent("Agent-5", "Agent-5", "", "inbox", "/x")])
              for name, age in (("M2", 0.0), ("M3", 40.0))]
    seen = shown(dry_roster("Agent-1"), merge(dry_roster("Agent-1"), relays, now=now, machine="here"))
    assert seen.roster.ids() == ["Agent-1", "Agent-5"]
    assert (seen.machine("Agent-5"), seen.where["Agent-5"].key, seen.remote("Agent-5")) == ("M2 + M3", "conflict", True)
    assert seen.where["Agent-5"].tip.startswith("Agent-5 is on 2 machines (M2, M3)")
    assert seen.where["Agent-1"].key == "here" and not seen.remote("Agent-1")


@pytest.fixture
def relay_m2(tmp_path, redis_server: RedisServer):
    """``quarterdeck relay --name M2`` as a separate process, with one inbox agent, Agent-9."""
    from relay_parts import RelayProcess, write_roster

    roster = write_roster(tmp_path / "m2.yaml", [{"id": "Agent-9", "transport": "inbox",
                                                  "path": str(tmp_path / "in9")}])
    process = RelayProcess("M2", roster, redis_server.url, tmp_path / "m2-data", extra=("--stagger", "0")).start()
    yield process
    process.close()


def test_the_composer_sends_to_a_relays_agent_and_the_history_says_which_machine_typed_it(
        tmp_path, qtbot, redis_server: RedisServer, relay_m2) -> None:
    from relay_parts import inbox_texts

    from quarterdeck.core.models import Agent, InboxTransport
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.session import Session
    from quarterdeck.gui.context import AppContext
    from quarterdeck.gui.history.columns import COLUMNS, MACHINE_COLUMN
    from quarterdeck.gui.history.panel import HistoryPanel

    local = Roster((Agent(id="Agent-1", transport=InboxTransport(path=tmp_path / "in1")),))
    session = Session.open(roster=local, data_dir=tmp_path / "data", broker_url=redis_server.url, relays=True,
                           stagger=0.0)
    ctx = AppContext(session, roster_path=None)
    ctx.start()
    try:
        composer, history = ComposerPanel(ctx), HistoryPanel(ctx)
        qtbot.addWidget(composer)
        qtbot.addWidget(history)
        composer.resize(520, 900)
        composer.show()
        qtbot.waitExposed(composer)
        qtbot.waitUntil(lambda: "Agent-9" in composer.recipients.ids(), timeout=10_000)
        composer.recipients.pick_field.setText("Agent-9")
        QTest.keyClick(composer.recipients.pick_field, Qt.Key.Key_Return)
        QTest.keyClicks(composer.editor, "Rebase M2's branch, please.")
        composer.run_check()
        assert composer.recipients.selected() == ["Agent-9"], composer.notice.text()
        assert composer.send_button.isEnabled(), composer.send_button.toolTip()
        submitted = []
        ctx.sig_submitted.connect(submitted.append)
        qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(submitted), timeout=10_000)
        assert submitted, composer.notice.text()
        rows = composer.progress.progress.rows
        qtbot.waitUntil(lambda: bool(rows) and all(r.finished for r in rows), timeout=20_000)
        assert [r.agent_id for r in rows] == ["Agent-9"]
        assert composer.chips.chips[0].text().startswith("Agent-9 · ") and \
            composer.chips.chips[0].property("state") not in ("failed", "uncertain")
        assert any("Rebase M2's branch, please." in text for text in inbox_texts(tmp_path / "in9"))
        assert inbox_texts(tmp_path / "in1") == []
        assert COLUMNS[MACHINE_COLUMN].title == "Machine" and not history.view.isColumnHidden(MACHINE_COLUMN)
        qtbot.waitUntil(lambda: history.model.rowCount() == 1
                        and history.model.index(0, MACHINE_COLUMN).data() == "M2", timeout=10_000)
        assert history.model.index(0, MACHINE_COLUMN).data(Qt.ItemDataRole.ToolTipRole) == \
            "Typed on relay M2's machine"
        history.view.selectRow(0)  # the detail names the machine beside the recipient
        tree = history.detail.tree
        qtbot.waitUntil(lambda: tree.topLevelItemCount() == 1 and tree.topLevelItem(0).text(0) == "Agent-9 · M2",
                        timeout=5000)
    finally:
        ctx.shutdown()


def test_one_machine_shows_no_machine_column(make_ctx, qtbot) -> None:
    from quarterdeck.gui.history.columns import MACHINE_COLUMN
    from quarterdeck.gui.history.panel import HistoryPanel

    ctx = make_ctx()
    roster, history = RosterPanel(ctx), HistoryPanel(ctx)
    qtbot.addWidget(roster)
    qtbot.addWidget(history)
    assert roster.table.isColumnHidden(MACHINE) and history.view.isColumnHidden(MACHINE_COLUMN)
    assert roster.machines_bar.isHidden() and cell(roster, "Agent-1", MACHINE) == ""
    with qtbot.waitSignal(ctx.sig_submitted):
        ctx.submit(Message(sender="Captain", recipients=["Agent-1"], content="hello"))
    qtbot.waitUntil(lambda: history.model.rowCount() == 1, timeout=5000)
    assert history.model.index(0, MACHINE_COLUMN).data() == this_machine()  # NULL: this machine


def test_a_broker_that_cannot_be_reached_is_said_and_the_relays_stay_as_last_seen(relays_ctx, broker, redis_server,
                                                                                  qtbot) -> None:
    announce(broker, "M2", "Agent-9")
    ctx = relays_ctx("Agent-1")
    panel = RosterPanel(ctx)
    qtbot.addWidget(panel)
    redis_server.stop()
    fleet_changed(ctx, qtbot)
    assert panel.model.ids() == ["Agent-1", "Agent-9"] and cell(panel, "Agent-9", MACHINE) == "M2"
    first, second = panel.machines_bar.label.text().splitlines()
    assert first == "Other machines: 1 relay as last seen"  # not "up": nobody can tell
    assert second.startswith("⚠ broker ") and f"{redis_server.port} unreachable" in second, second
    assert second.endswith(": relays as last seen") and "Traceback" not in second
    from PySide6.QtWidgets import QMainWindow

    from quarterdeck.gui.window_status import WindowStatus

    window = QMainWindow()
    qtbot.addWidget(window)
    status = WindowStatus(window, ctx)
    status.build_status_bar()  # the status bar's health line says the same, not "1 relay up"
    assert "broker not read: 1 relay as last seen" in status.health_label.text()
    status.shutdown()


def test_a_broadcast_asks_first_when_a_relay_is_silent_and_can_leave_its_agents_out(relays_ctx, broker, qtbot,
                                                                                    transports) -> None:
    announce(broker, "M2", "Agent-9", age=25)
    ctx = relays_ctx("Agent-1", "Agent-2")
    composer = ComposerPanel(ctx)
    qtbot.addWidget(composer)
    asked: list[str] = []
    composer.sending.confirm = lambda _title, text: asked.append(text) or "leave out"
    QTest.keyClicks(composer.editor, "Wrap up for today.")
    composer.run_check()
    with qtbot.waitSignal(ctx.sig_submitted, timeout=5000) as sent:
        assert composer.broadcast()
    assert "Agent-9: its relay M2 last seen 25 s ago" in asked[0] and "2/3 reachable" in asked[0]
    assert sorted(sent.args[0].recipients) == ["Agent-1", "Agent-2"]
    qtbot.waitUntil(lambda: bool(transports.sent_to("Agent-1") and transports.sent_to("Agent-2")), timeout=5000)
    assert transports.sent_to("Agent-9") == []


def test_adding_an_agent_whose_id_a_relay_has_says_so_at_once(relays_ctx, broker, qtbot, tmp_path) -> None:
    announce(broker, "M2", "Agent-9")
    panel = RosterPanel(relays_ctx("Agent-1", roster_path=tmp_path / "agents.yaml"))
    qtbot.addWidget(panel)
    panel.show()
    panel.actions_by_name["add"].trigger()
    dialog = panel.editor.dialog
    dialog.fields["id"].setText("Agent-9")
    dialog.fields["kind"].setCurrentIndex(dialog.fields["kind"].findData("tmux"))
    dialog.fields["target"].setText("swarm:0.9")
    with qtbot.waitSignal(dialog.finished, timeout=5000):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: panel.message_bar.isVisible(), timeout=5000)
    assert panel.message_bar.label.text() == (f"Agent-9 added. It is on {this_machine()} + M2 now: sends to it are "
                                              "refused until one is renamed.")
    assert cell(panel, "Agent-9", AGENT) == "⚠ Agent-9" and panel.ctx.fleet.ids() == ["Agent-1"]


def test_a_broker_down_from_the_start_claims_no_relays(make_ctx, qtbot) -> None:
    ctx = make_ctx(roster=dry_roster("Agent-1"), broker_url="redis://:pw@127.0.0.1:1/0", relays=True)
    panel = RosterPanel(ctx)
    qtbot.addWidget(panel)
    head, why = panel.machines_bar.label.text().splitlines()
    assert head == "Other machines: none known" and "unreachable" in why and "pw" not in why


def test_a_relays_agents_activity_shows_in_the_roster(relays_ctx, broker, qtbot) -> None:
    from quarterdeck.core.relay.event_entry import EventEntry

    announce(broker, "M2", "Agent-9")
    ctx = relays_ctx("Agent-1")
    panel = RosterPanel(ctx)
    qtbot.addWidget(panel)
    assert cell(panel, "Agent-9", ACTIVITY, STATUS_KEY_ROLE) == "unknown"
    seconds, micros = broker.time()
    broker.xadd(KEYS.events, EventEntry("M2", "m2-1", "Agent-9", "claude-code", "prompt_submitted", "UserPromptSubmit",
                                        seconds + micros / 1e6 - 5).to_fields())
    qtbot.waitUntil(lambda: cell(panel, "Agent-9", ACTIVITY, STATUS_KEY_ROLE) == "working", timeout=10_000)
    assert cell(panel, "Agent-9", ACTIVITY).startswith("working · ")
    assert cell(panel, "Agent-1", ACTIVITY, STATUS_KEY_ROLE) == "unknown"


def test_gui_delivery_paused_on_a_relay_is_shown_and_the_panels_resume_reaches_the_relays(
        relays_ctx, broker, qtbot) -> None:
    from quarterdeck.gui.mainwindow import MainWindow

    announce(broker, "M2", "Agent-9")
    ctx = relays_ctx("Agent-1")
    window, roster = MainWindow(ctx, []), RosterPanel(ctx)
    qtbot.addWidget(window)
    qtbot.addWidget(roster)
    window.show()
    qtbot.waitExposed(window)
    assert not window.resume_action.isEnabled() and window.stop_label.text() == ""
    draft = "Agent-9's input holds a draft (“half”, 4 characters), nothing typed"
    announce(broker, "M2", "Agent-9", paused=draft)  # a person at M2's screen: its GUI delivery paused
    fleet_changed(ctx, qtbot)
    assert window.resume_action.isEnabled() and "GUI PAUSED ON M2" in window.stop_label.text()
    assert window.stop_label.toolTip().startswith(f"Relay M2: {draft}")
    assert "M2" in window.resume_action.toolTip()
    assert roster.machines_bar.label.text() == "Other machines: 1 relay up · GUI paused on M2 (Resume goes on there)"
    assert f"relay M2: GUI delivery paused: {draft}" in roster.machines_bar.label.toolTip()
    window.resume_action.trigger()  # the relays are told to go on
    qtbot.waitUntil(lambda: any(ControlEntry.from_fields(f).kind == "resume"
                                for _, f in broker.xrange(KEYS.control)), timeout=10_000)
    assert "GUI PAUSED ON M2" in window.stop_label.text()  # until M2 says it went on
    announce(broker, "M2", "Agent-9")
    fleet_changed(ctx, qtbot)
    assert window.stop_label.text() == "" and not window.resume_action.isEnabled()
    assert roster.machines_bar.label.text() == "Other machines: 1 relay up"
    announce(broker, "M2", "Agent-9", paused=draft)  # paused again, then a Stop all here: STOPPED stays shown
    fleet_changed(ctx, qtbot)
    window.stop_action.trigger()
    qtbot.waitUntil(lambda: "STOPPED" in window.stop_label.text(), timeout=5000)
    fleet_changed(ctx, qtbot)
    assert "STOPPED" in window.stop_label.text() and window.resume_action.isEnabled()
