"""`quarterdeck relay`: one line for every way it cannot start (no broker, a wrong URL, a broker that
is down or refuses the password, never showing the password), and a clean exit 0 on Ctrl+C or SIGTERM."""
from __future__ import annotations

import signal
import sqlite3
import time

import pytest
import redis
from redis_server import RedisServer, redis_server  # noqa: F401
from relay_parts import Captain, RelayProcess, inbox_texts, write_roster

from quarterdeck.cli.main import main


@pytest.fixture
def roster(tmp_path):
    return write_roster(tmp_path / "agents.yaml", [{"id": "Agent-1", "transport": "inbox",
                                                    "path": str(tmp_path / "in")}])


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(["relay", *args])
    return code, capsys.readouterr().err


def test_without_a_broker_it_says_how_to_give_one(capsys, roster, tmp_path) -> None:
    code, err = run(capsys, "--name", "box-1", "--roster", str(roster), "--data-dir", str(tmp_path / "d"))
    assert code == 2
    assert err == ("quarterdeck: error: no broker: give --broker redis://HOST:PORT or set "
                   "COORDINATION_BROKER_URL\n")


@pytest.mark.parametrize(("url", "expected"), [
    ("http://127.0.0.1:6379", "broker URL http://127.0.0.1:6379 is not usable: the scheme must be redis:// or "
                              "rediss://, not http://"),
    ("redis://", "broker URL redis:// is not usable: no host"),
    ("redis://h:99999", "is not usable: not a URL"),
])
def test_a_wrong_broker_url_is_one_line(capsys, roster, tmp_path, url, expected) -> None:
    code, err = run(capsys, "--name", "box-1", "--roster", str(roster), "--broker", url,
                    "--data-dir", str(tmp_path / "d"))
    assert code == 2 and expected in err and err.count("\n") == 1, err


def test_a_broker_that_is_down_is_said_once_without_its_password_and_waited_for(
        tmp_path, roster, redis_server: RedisServer) -> None:
    """Started while the broker is down, the relay runs: one line (no password, no traceback), and
    it delivers once the broker answers, saying so."""
    redis_server.stop()
    url = f"redis://default:s3cret-pw@127.0.0.1:{redis_server.port}/0"  # the default user takes any password
    relay = RelayProcess("box-1", roster, "", tmp_path / "data", env={"COORDINATION_BROKER_URL": url})
    try:
        relay.start()
        time.sleep(2.5)  # several retries by every thread: still one line
        err = relay.err.read_text()
        assert err.splitlines() == [
            f"broker redis://127.0.0.1:{redis_server.port} unreachable: {err.split('unreachable: ')[1].split(';')[0]}; "
            "delivering nothing new until it answers, retrying"], err
        assert "Connection refused" in err or "connecting to" in err
        redis_server.start()
        captain = Captain(redis_server.url)
        delivery, _ = captain.send("box-1", "Agent-1", "Sent once the broker came.")
        assert captain.wait_final({delivery})[delivery].state == "delivered"
        assert [t.endswith("Sent once the broker came.") for t in inbox_texts(tmp_path / "in")] == [True]
        out = relay.stop()
        err = relay.err.read_text()
        assert len(err.splitlines()) == 2 and "broker answers again after" in err.splitlines()[1], err
        assert "s3cret" not in out + err and "Traceback" not in err
    finally:
        relay.close()


def test_a_wrong_password_is_named_as_such(capsys, roster, tmp_path, redis_server: RedisServer) -> None:
    admin = redis.Redis.from_url(redis_server.url)
    admin.acl_setuser("relay", enabled=True, passwords=["+right-one"], keys=["qd:*"], commands=["+@all"])
    wrong = f"redis://relay:wrong-one@127.0.0.1:{redis_server.port}/0"
    code, err = run(capsys, "--name", "box-1", "--roster", str(roster), "--broker", wrong,
                    "--data-dir", str(tmp_path / "d"))
    assert code == 2 and err.count("\n") == 1, err
    assert f"broker redis://relay:***@127.0.0.1:{redis_server.port}/0 refused the credentials" in err
    assert "wrong-one" not in err


def test_an_acl_that_denies_ping_is_refused_at_once(capsys, roster, tmp_path, redis_server: RedisServer) -> None:
    """What waiting will not mend ends the relay in one line, as a wrong password does."""
    admin = redis.Redis.from_url(redis_server.url)
    admin.acl_setuser("relay", enabled=True, passwords=["+pw"], keys=["qd:*"], commands=["-@all", "+@stream"])
    code, err = run(capsys, "--name", "box-1", "--roster", str(roster), "--data-dir", str(tmp_path / "d"),
                    "--broker", f"redis://relay:pw@127.0.0.1:{redis_server.port}/0")
    assert code == 2 and err.count("\n") == 1, err
    assert "denied a command (this user has no permissions to run the 'ping' command)" in err and "pw@" not in err


def test_a_bad_relay_name_is_refused(capsys, roster, tmp_path) -> None:
    code, err = run(capsys, "--name", "box:1", "--roster", str(roster), "--broker", "redis://127.0.0.1:1",
                    "--data-dir", str(tmp_path / "d"))
    assert code == 2 and "--name: 'box:1' is not a relay name" in err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_acl_user_limited_to_qd_keys_delivers_and_a_signal_ends_it_with_0(
        tmp_path, roster, redis_server: RedisServer, sig: signal.Signals) -> None:
    """The ACL the README recommends: the qd:* keys; the stream commands, HSET/HGET/HGETALL/HDEL, PING, TIME,
    MULTI and EXEC only (TIME: the heartbeat stamps seen_at in the broker's clock; MULTI: a batch wakes its
    reader once; HDEL: captains not seen for a week are struck from qd:captains)."""
    admin = redis.Redis.from_url(redis_server.url)
    admin.acl_setuser("relay", enabled=True, passwords=["+pw-for-relay"], keys=["qd:*"],
                      commands=["-@all", "+@stream", "+hset", "+hget", "+hgetall", "+hdel", "+ping", "+time",
                                "+multi", "+exec"])
    url = f"redis://relay:pw-for-relay@127.0.0.1:{redis_server.port}/0"
    relay = RelayProcess("box-1", roster, "", tmp_path / "data", env={"COORDINATION_BROKER_URL": url})
    try:
        relay.start()
        captain = Captain(redis_server.url)
        delivery, _ = captain.send("box-1", "Agent-1", "Through the ACL user.")
        assert captain.wait_final({delivery})[delivery].state == "delivered"
        assert len(inbox_texts(tmp_path / "in")) == 1
        assert relay.process is not None
        relay.process.send_signal(sig)
        assert relay.process.wait(timeout=30) == 0, relay.output()
        out = relay.out.read_text()
        assert "pw-for-relay" not in out + relay.err.read_text()
        assert "stopping after the delivery in flight" in out and "1 taken" in out
        outbox = sqlite3.connect(tmp_path / "data" / "quarterdeck.sqlite3")
        names = {row[0] for row in outbox.execute("SELECT name FROM sqlite_schema")}
        outbox.close()
        assert "messages_fts" not in names and "deliveries_message" in names  # a delivery queue's outbox
        relay.process = None
    finally:
        relay.close()
