"""`quarterdeck metrics`, `health` and `serve` over a real SQLite history and inbox agents."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

import quarterdeck.cli.main
from quarterdeck.cli import monitor_cmd
from quarterdeck.core.models import Message
from quarterdeck.core.monitor.prometheus import CONTENT_TYPE
from quarterdeck.core.store import Store, default_db_path

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30.0


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    if monitor_cmd not in quarterdeck.cli.main.COMMAND_MODULES:
        monkeypatch.setattr(quarterdeck.cli.main, "COMMAND_MODULES",
                            (*quarterdeck.cli.main.COMMAND_MODULES, monitor_cmd))


def run(capsys, *argv):
    code = quarterdeck.cli.main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "agents.yaml"
    path.write_text(
        "agents:\n"
        f"  - {{id: Good, transport: inbox, path: {tmp_path / 'good'}}}\n"
        f"  - {{id: Bad, transport: inbox, path: {tmp_path / 'bad'}}}\n"
        f"  - {{id: Idle, transport: inbox, path: {tmp_path / 'idle'}}}\n"
        "  - {id: Parked, transport: dryrun, enabled: false}\n",
        encoding="utf-8")
    return path


def record(data_dir, outcomes):
    """Deliveries through the Store API: ``outcomes`` is a list of (agent, ok, seconds)."""
    with Store(default_db_path(data_dir)) as store:
        for agent, ok, seconds in outcomes:
            store.enqueue(Message(sender="Captain", content="go", recipients=[agent]), [(agent, "inbox")])
            task = store.claim_next()
            end = datetime.now(UTC)
            store.record_attempt(task.delivery_id, 1, ok, None if ok else "boom",
                                 end - timedelta(seconds=seconds), end)
            if ok:
                store.mark_delivered(task.delivery_id, seconds * 1000, verdict="submitted")
            else:
                store.mark_failed(task.delivery_id, "boom")


HISTORY = [("Good", True, 0.02), ("Good", True, 0.3), ("Good", True, 4.0)] + [("Bad", False, 0.6)] * 5


def test_metrics_prints_the_replayed_history_as_prometheus_text(data_dir, capsys):
    record(data_dir, HISTORY)
    code, out, _ = run(capsys, "metrics", "--data-dir", str(data_dir))
    assert code == 0 and out.endswith("\n")
    families = {f.name: f for f in text_string_to_metric_families(out)}
    totals = {(s.labels["agent"], s.labels["outcome"]): s.value
              for s in families["quarterdeck_deliveries"].samples if s.name.endswith("_total")}
    assert totals == {("Good", "ok"): 3, ("Good", "failed"): 0, ("Bad", "ok"): 0, ("Bad", "failed"): 5}
    hist = families["quarterdeck_delivery_seconds"]
    for agent, count in (("Good", 3), ("Bad", 5)):
        samples = [s for s in hist.samples if s.labels["agent"] == agent]
        by_name = {(s.name, s.labels.get("le")): s.value for s in samples}
        assert by_name[("quarterdeck_delivery_seconds_count", None)] == count
        assert by_name[("quarterdeck_delivery_seconds_bucket", "+Inf")] == count
    good = {s.labels.get("le"): s.value for s in hist.samples if s.labels["agent"] == "Good"}
    assert (good["0.025"], good["0.5"], good["2.5"], good["5.0"]) == (1, 2, 2, 3)
    assert out.count("# TYPE quarterdeck_delivery_seconds histogram") == 1


def test_metrics_json_is_the_snapshot(data_dir, capsys):
    record(data_dir, HISTORY)
    code, out, _ = run(capsys, "metrics", "--data-dir", str(data_dir), "--json")
    snap = json.loads(out)
    assert code == 0
    assert (snap["agents"]["Good"]["ok"], snap["agents"]["Bad"]["failed"]) == (3, 5)
    assert snap["agents"]["Good"]["p50"] == pytest.approx(0.3, abs=1e-6)
    assert snap["deliveries"]["failure_rate"] == pytest.approx(5 / 8)


def test_metrics_without_history_creates_nothing(data_dir, capsys):
    code, out, err = run(capsys, "metrics", "--data-dir", str(data_dir))
    assert code == 0 and "no delivery history" in err
    assert "quarterdeck_deliveries_total{" not in out
    assert not data_dir.exists()


def test_health_from_history_and_roster(data_dir, roster, capsys):
    record(data_dir, HISTORY)
    code, out, _ = run(capsys, "health", "--data-dir", str(data_dir), "--roster", str(roster), "--json")
    report = json.loads(out)
    agents = report["components"]["agents"]["components"]
    assert code == 0 and report["status"] == "DEGRADED"  # Good can be reached: the fleet is not down
    assert {name: part["status"] for name, part in agents.items()} == {
        "Good": "UP", "Bad": "DOWN", "Idle": "UNKNOWN"}
    assert agents["Bad"]["details"]["failure_rate"] == 1.0
    assert agents["Bad"]["details"]["breaker"] == "only known to a running dispatcher"
    assert report["disabled"] == ["Parked"] and report["score"] == 67
    assert report["headline"].startswith("2/3 reachable")

    code, out, _ = run(capsys, "health", "--data-dir", str(data_dir), "--roster", str(roster))
    assert code == 0
    assert out.splitlines()[0].startswith("DEGRADED  score 67/100  2/3 reachable")
    assert "breaker state: only known to a running dispatcher" in out
    assert "disabled on the roster, not judged: Parked" in out


def test_health_is_up_when_every_delivery_succeeded(data_dir, capsys):
    record(data_dir, HISTORY[:3])
    code, out, _ = run(capsys, "health", "--data-dir", str(data_dir))
    assert code == 0
    assert out.startswith("UP  score 100/100")
    assert "agents from the history" in out


def test_health_degraded_exits_zero_and_threshold_comes_from_config(data_dir, capsys, monkeypatch):
    record(data_dir, [("Bad", False, 0.1)] * 2)
    code, out, _ = run(capsys, "health", "--data-dir", str(data_dir), "--json")
    assert code == 0 and json.loads(out)["status"] == "DEGRADED"
    monkeypatch.setenv("COORDINATION_CIRCUIT_BREAKER_THRESHOLD", "2")
    code, out, _ = run(capsys, "health", "--data-dir", str(data_dir), "--json")
    assert code == 1 and json.loads(out)["status"] == "DOWN"


def test_health_usage_errors(data_dir, tmp_path, capsys):
    code, _, err = run(capsys, "health", "--data-dir", str(data_dir), "--roster", str(tmp_path / "none.yaml"))
    assert code == 2 and "no agent roster" in err
    code, _, err = run(capsys, "health", "--data-dir", str(data_dir), "--window", "0")
    assert code == 2 and "--window" in err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.com"])
def test_serve_refuses_non_loopback_hosts(host, data_dir, roster, capsys):
    code, _, err = run(capsys, "serve", "--host", host, "--port", "0", "--data-dir", str(data_dir),
                       "--roster", str(roster))
    assert code == 2 and "loopback address" in err
    assert not data_dir.exists()


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=WAIT) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["Content-Type"], error.read()


def queue(data_dir, agent, text):
    with Store(default_db_path(data_dir)) as store:
        store.enqueue(Message(sender="Captain", content=text, recipients=[agent]), [(agent, "inbox")])


def test_serve_delivers_queued_messages_and_serves_metrics_and_health(data_dir, roster, tmp_path):
    args = quarterdeck.cli.main.build_parser().parse_args(
        ["serve", "--port", "0", "--poll", "0.02", "--data-dir", str(data_dir), "--roster", str(roster)])
    service = monitor_cmd.start_service(args)
    from quarterdeck.core.activity.watch.service import WatchLock

    try:
        assert not WatchLock(data_dir).claim()  # serve watches the agents' panes and windows itself
        delivered = threading.Event()
        service.session.dispatcher.add_listener(
            lambda e: delivered.set() if e.state in ("delivered", "failed") else None)
        queue(data_dir, "Good", "queued by another process")
        assert delivered.wait(WAIT)
        (file,) = (tmp_path / "good").glob("*.md")
        assert file.read_text(encoding="utf-8").endswith("\nqueued by another process")
        from quarterdeck.core.activity.events import ActivityEvent
        from quarterdeck.core.activity.record import record
        record(data_dir, ActivityEvent("Good", "claude-code", "turn_ended", "Stop", time.time() - 10))

        code, content_type, body = get(service.url + "/metrics")
        assert code == 200 and content_type == CONTENT_TYPE
        assert b'quarterdeck_deliveries_total{agent="Good",outcome="ok"} 1.0' in body
        assert b'quarterdeck_breaker_state{agent="Good"} 0.0' in body
        assert b'quarterdeck_agent_state{agent="Good",state="idle"} 1.0' in body
        assert b'quarterdeck_agent_state{agent="Good",state="working"} 0.0' in body
        idle = re.search(rb'quarterdeck_agent_state_seconds\{agent="Good",state="idle",window="1h"\} ([0-9.]+)', body)
        assert idle and 9.0 <= float(idle.group(1)) <= 60.0
        code, content_type, body = get(service.url + "/health")
        report = json.loads(body)
        assert code == 200 and content_type.startswith("application/json")
        assert report["components"]["agents"]["components"]["Good"]["status"] == "UP"
        assert report["components"]["dispatcher"]["details"]["delivered"] == 1
        assert get(service.url + "/livez")[0] == 200
        service.worker.request_stop()
        assert service.worker.join(WAIT)
        queue(data_dir, "Good", "queued while stopping")
    finally:
        summary = service.close()
    assert summary == "stopped: 1 delivered, 0 failed by this process; 1 queued left in the outbox"
    lock = WatchLock(data_dir)
    assert lock.claim()  # and let go of the watching when it stopped
    lock.release()
    with Store(default_db_path(data_dir)) as store:
        counts = store.counts_by_state()
    assert (counts["delivered"], counts["queued"], counts["cancelled"]) == (1, 1, 0)


def test_serve_process_stops_on_sigterm_without_cancelling(data_dir, roster, tmp_path):
    if os.name != "posix":
        pytest.skip("SIGTERM is POSIX")
    driver = ("import sys; import quarterdeck.cli.main as m; from quarterdeck.cli import monitor_cmd; "
              "m.COMMAND_MODULES += (monitor_cmd,) * (monitor_cmd not in m.COMMAND_MODULES); "
              "sys.exit(m.main(sys.argv[1:]))")
    proc = subprocess.Popen(
        [sys.executable, "-c", driver, "serve", "--port", "0", "--poll", "0.05",
         "--data-dir", str(data_dir), "--roster", str(roster)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("serving http://127.0.0.1:"), first + proc.stderr.read()
        url = first.split()[1].removesuffix("/metrics")
        queue(data_dir, "Good", "for the headless process")
        deadline = time.monotonic() + WAIT
        while not list((tmp_path / "good").glob("*.md")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list((tmp_path / "good").glob("*.md"))
        assert get(url + "/livez")[0] == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "stopped: 1 delivered, 0 failed by this process; 0 queued left" in out
    with Store(default_db_path(data_dir)) as store:
        counts = store.counts_by_state()
    assert (counts["delivered"], counts["cancelled"], counts["sending"]) == (1, 0, 0)
