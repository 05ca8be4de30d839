"""Fixtures for the panel's tests: isolated QSettings, a live app context over a real SQLite
outbox and dry-run agents, and guards that fail a test leaving a thread running."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from gui_fixtures import dry_roster
from msgspec.structs import replace
from PySide6.QtCore import QSettings, QThread

from quarterdeck.core.models import Agent
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.session import Session
from quarterdeck.core.transports.dryrun import DryRunDelivery


@pytest.fixture(autouse=True)
def _isolated_qsettings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture(autouse=True)
def _no_dangling_threads(qapp):
    """Every QThread a test started has ended by its teardown (napari's guard, simplified)."""
    started: list[QThread] = []
    original = QThread.start

    def tracking_start(self, *args):
        started.append(self)
        return original(self, *args)

    QThread.start = tracking_start
    try:
        yield
    finally:
        QThread.start = original
    alive = [t.objectName() or repr(t) for t in started if _running(t)]
    assert not alive, f"threads still running after the test: {alive}"


def _running(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # already deleted by Qt: it ended
        return False


class Transports:
    """The dry-run transport of each agent, made on first use; ``faulty`` agents fail."""

    def __init__(self) -> None:
        self.by_agent: dict[str, DryRunDelivery] = {}
        self.fail_times: dict[str, int] = {}

    def __call__(self, agent: Agent) -> DryRunDelivery:
        transport = DryRunDelivery(fail_times=self.fail_times.get(agent.id, 0))
        self.by_agent[agent.id] = transport
        return transport

    def sent_to(self, agent_id: str) -> list[str]:
        transport = self.by_agent.get(agent_id)
        return [] if transport is None else [r.text for r in transport.sent]


@pytest.fixture
def transports() -> Transports:
    return Transports()


@pytest.fixture
def make_ctx(tmp_path, qapp, transports) -> Iterator[Callable[..., object]]:
    """``make_ctx(roster=..., start=True)``: an AppContext on a real outbox in ``tmp_path``.

    Deliveries go to dry-run transports (``transports.sent_to(agent)`` reads them); the context
    is shut down at teardown (delivery thread and background runner ended, store closed).
    """
    from quarterdeck.gui.context import AppContext

    made: list[AppContext] = []

    def make(roster: Roster | None = None, *, start: bool = True, roster_path=None, **session_kw):
        session = Session.open(roster=roster if roster is not None else dry_roster("Agent-1", "Agent-2"),
                               data_dir=tmp_path / "data", transport_factory=transports, stagger=0.0,
                               **session_kw)
        session.dispatcher.policy = replace(session.dispatcher.policy, base_delay=0.01, jitter=0.0)
        ctx = AppContext(session, roster_path=roster_path)
        made.append(ctx)
        if start:
            ctx.start()
        return ctx

    yield make
    for ctx in made:
        ctx.shutdown()
