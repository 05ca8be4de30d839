"""A long-running captain's stop-all and resume-all reach the relays once the broker is back
(``ControlOut``): posted without waiting (the panel's UI thread posts), sent by a thread of its own,
a word the broker did not take sent again until it does, only the latest; one line when it is not
sent, one when it is sent after all. Real redis-server, stopped and started."""
from __future__ import annotations

import logging
import time

import polling
import redis
from redis_server import RedisServer
from workers import delivering

from quarterdeck.core.relay.protocol import KEYS, ControlEntry
from quarterdeck.core.transports.broker import BrokerLink, ControlOut


def _words(server: RedisServer) -> list[tuple[str, int]]:
    with redis.Redis(port=server.port) as admin:
        return [(e.kind, e.generation) for e in (ControlEntry.from_fields(f) for _, f in admin.xrange(KEYS.control))]


def _until(server: RedisServer, words: list[tuple[str, int]]) -> None:
    polling.wait_until(lambda: _words(server) == words, f"the control stream to hold {words}", timeout=20)


def test_a_word_the_broker_did_not_take_is_sent_once_it_is_back_the_latest_only(tmp_path, caplog) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    link = BrokerLink(server.url, timeout=0.5)
    out = ControlOut(link)
    out.RETRY_S = (0.1, 0.2)
    try:
        out.post("stop", lambda: 1)
        _until(server, [("stop", 1)])
        server.stop()
        with caplog.at_level(logging.WARNING, logger="quarterdeck.core.transports.broker"):
            out.post("resume", lambda: 1)
            out.post("stop", lambda: 2)  # replaces the resume: the relays must end halted
            time.sleep(0.8)  # tried again meanwhile, in silence
            server.start()
            _until(server, [("stop", 1), ("stop", 2)])
            time.sleep(0.5)  # nothing more comes
        assert _words(server) == [("stop", 1), ("stop", 2)]
        lines = [r.getMessage() for r in caplog.records]
        assert len(lines) == 2, lines  # not sent (said once), then sent now
        assert "not sent to the relays: broker" in lines[0]
        assert lines[1] == f"stop sent to the relays after all (broker {link.where})"
    finally:
        out.close()
        link.close()
        server.stop()


def test_a_captains_stop_and_resume_reach_the_relays_and_never_wait_for_the_broker(tmp_path) -> None:
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.session import Session

    server = RedisServer(tmp_path / "redis")
    server.start()
    session = Session.open(roster=Roster(()), data_dir=tmp_path / "captain", broker_url=server.url, relays=True)
    assert session.control_out is not None
    session.control_out.RETRY_S = (0.1, 0.2)
    try:
        session.dispatcher.stop_all()  # the panel's Stop all: every relay halts
        _until(server, [("stop", 1)])
        session.dispatcher.resume()  # a send lifts it in this process only: the relays wait for Resume
        session.dispatcher.resume_everywhere()  # Resume: recorded (resume-all #1) and told
        _until(server, [("stop", 1), ("resume", 1)])
        server.stop()  # the broker gone: stop all does not wait for it, and it goes once it is back
        began = time.monotonic()
        session.dispatcher.stop_all()
        assert time.monotonic() - began < 0.5  # the connect timeout alone is 2 s
        server.start()
        _until(server, [("stop", 1), ("resume", 1), ("stop", 2)])
    finally:
        session.close()
        server.stop()


def test_a_stop_and_resume_that_could_not_reach_the_broker_are_passed_on_by_a_running_captain(tmp_path, capsys,
                                                                                            caplog) -> None:
    """``quarterdeck stop`` given a broker it cannot reach halts this outbox and says the relays were not
    told; a captain delivering on the same outbox (the panel, ``serve``) hears it and tells them."""
    from redis_server import free_port

    from quarterdeck.cli.main import main
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.session import Session

    server = RedisServer(tmp_path / "redis")
    server.start()
    data = tmp_path / "captain"
    session = Session.open(roster=Roster(()), data_dir=data, broker_url=server.url, relays=True)
    gone = f"redis://127.0.0.1:{free_port()}/0"
    try:
        with delivering(session, close=True):  # the panel's worker: its watch hears other processes' stops
            with caplog.at_level(logging.WARNING, logger="quarterdeck.core.transports.broker"):
                assert main(["--data-dir", str(data), "--broker", gone, "stop"]) == 0
            assert any("stop not sent to the relays" in r.getMessage() for r in caplog.records)
            err = capsys.readouterr().err
            assert "the relays keep delivering until a panel or `quarterdeck serve` on this outbox tells them" in err
            _until(server, [("stop", 1)])
            polling.wait_until(lambda: session.dispatcher.stopped, "the captain to halt", timeout=10)
            assert main(["--data-dir", str(data), "--broker", gone, "resume"]) == 0
            assert "the relays keep halted until" in capsys.readouterr().err
            _until(server, [("stop", 1), ("resume", 1)])
    finally:
        server.stop()


def test_a_word_passed_on_from_another_process_is_not_said_again(tmp_path) -> None:
    """A relay that shares the captain's outbox records each stop it applies: the captain hears it and
    must not say it again (else the two would echo a stop between them for ever)."""
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.session import Session
    from quarterdeck.core.store.outbox import Store

    server = RedisServer(tmp_path / "redis")
    server.start()
    data = tmp_path / "shared"
    session = Session.open(roster=Roster(()), data_dir=data, broker_url=server.url, relays=True)
    other = Store(data / "quarterdeck.sqlite3")
    try:
        with delivering(session, close=True):
            session.dispatcher.stop_all()  # the panel's own: said
            _until(server, [("stop", 1)])
            other.request_stop()  # the relay on this outbox applying it: recorded here, heard by the panel
            polling.wait_until(lambda: session.dispatcher.stop_watch.seen == 2, "the panel to hear it", timeout=10)
            time.sleep(1.0)  # what it would post goes within milliseconds
            assert _words(server) == [("stop", 1)]
            other.request_resume()  # not said yet: passed on
            _until(server, [("stop", 1), ("resume", 1)])
    finally:
        other.close()
        server.stop()
