"""A relay's control follower on a real redis-server: a stop whose local recording fails (the outbox
locked, the disk full) is read and applied again when the follower restarts, not skipped, so what
it should cancel is cancelled and not typed after the next resume."""
from __future__ import annotations

import threading

import polling
from redis_server import RedisServer, redis_server  # noqa: F401

from quarterdeck.core.broker_client import open_client
from quarterdeck.core.relay.control import Control
from quarterdeck.core.relay.protocol import KEYS, ControlEntry
from quarterdeck.core.roster.roster import Roster
from quarterdeck.core.session import Session
from quarterdeck.core.store.faults import StorageFault


class Health:
    def ok(self) -> None:
        pass


def test_a_stop_that_failed_to_be_recorded_is_applied_again(tmp_path, redis_server: RedisServer) -> None:
    session = Session.open(roster=Roster(()), data_dir=tmp_path / "relay")
    client = open_client(redis_server.url, connect_timeout=2.0, read_timeout=5.0)
    dispatcher = session.dispatcher
    real, calls = dispatcher.stop_everywhere, []

    def locked_once() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise StorageFault("locked", session.store.path, "SQLite: database is locked")
        return real()

    dispatcher.stop_everywhere = locked_once  # type: ignore[method-assign]
    control = Control(dispatcher, client, KEYS.control, Health())
    control.prime()
    end = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:  # as the relay's guarded thread runs it: restarted after a failure
        while not end.is_set():
            try:
                control.follow_until(end)()
            except StorageFault as exc:
                failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        client.xadd(KEYS.control, ControlEntry("stop", 1, 0.0).to_fields())
        polling.wait_until(lambda: session.store.stop_mark().generation == 1, "the stop recorded", timeout=10)
    finally:
        end.set()
        thread.join(5)
        client.close()
        session.close()
    assert len(failures) == 1 and len(calls) == 2 and dispatcher.stopped


def test_a_resume_that_failed_to_be_recorded_is_recorded_when_read_again(tmp_path,
                                                                         redis_server: RedisServer) -> None:
    session = Session.open(roster=Roster(()), data_dir=tmp_path / "relay")
    client = open_client(redis_server.url, connect_timeout=2.0, read_timeout=5.0)
    dispatcher = session.dispatcher
    dispatcher.stop_all()  # the relay halted and recorded stopped
    real, calls = dispatcher.resume_everywhere, []

    def locked_once() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise StorageFault("locked", session.store.path, "SQLite: database is locked")
        real()

    dispatcher.resume_everywhere = locked_once  # type: ignore[method-assign]
    control = Control(dispatcher, client, KEYS.control, Health())
    fields = ControlEntry("resume", 1, 0.0).to_fields()
    try:
        try:
            control.apply(fields)
        except StorageFault:
            pass
        assert not dispatcher.stopped and len(calls) == 1  # lifted here, not recorded
        control.apply(fields)  # read again after the restart of the follower
        mark = session.store.stop_mark()
    finally:
        client.close()
        session.close()
    assert len(calls) == 2 and mark.resumed_after == mark.generation == 1  # other processes are lifted too
