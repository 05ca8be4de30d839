"""`quarterdeck send` beside a running `quarterdeck serve`: the message is handed to serve over
DATA_DIR/quarterdeck.sock (real serve process, real tmux panes on a private server, send as a
subprocess). It arrives once, prints what the in-process path prints, refuses with the same lines and
exit codes, falls back after a kill -9 left the socket behind, and loads no models, YAML or store."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import uuid

import pytest
from test_concurrent_send import AGENTS, QUARTERDECK, ROOT, Fleet, finish, free_port, wait_until

from quarterdeck.core.activity.events import CLAUDE_CODE, PROMPT_SUBMITTED, TURN_ENDED, ActivityEvent
from quarterdeck.core.activity.record import record
from quarterdeck.core.handoff.wire import connect, socket_path
from quarterdeck.core.store import Store, default_db_path, search

pytestmark = [pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
              pytest.mark.skipif(os.name != "posix", reason="Unix sockets, signals and tmux")]


@pytest.fixture
def fleet(tmp_path):
    f = Fleet(tmp_path)
    yield f
    f.close()


class Serve:
    def __init__(self, fleet: Fleet) -> None:
        self.proc = subprocess.Popen([str(QUARTERDECK), "serve", "--roster", str(fleet.roster), "--port",
                                      str(free_port()), "--poll", "5"], env=fleet.env, cwd=ROOT, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.sock = socket_path(fleet.data)
        wait_until(lambda: self.listening() or self.proc.poll() is not None, "serve to listen for senders")
        assert self.proc.poll() is None, self.proc.communicate()

    def listening(self) -> bool:
        try:
            connect(self.sock, 1.0).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def serve(fleet):
    s = Serve(fleet)
    yield s
    s.stop()


def run(fleet: Fleet, *args: str, handoff: bool = True, env: dict[str, str] | None = None):
    environ = {**fleet.env, **(env or {}), "QUARTERDECK_DEBUG": "1"}
    if not handoff:
        environ["QUARTERDECK_NO_HANDOFF"] = "1"
    return subprocess.run([str(QUARTERDECK), "send", "--roster", str(fleet.roster), *args], env=environ, cwd=ROOT,
                          text=True, capture_output=True, timeout=60)


SHAPE = re.compile(r"^(\S+)\s+(submitted|unverified)\s+\d+\.\d\ds  attempts 1  new line after Enter · tmux pane ")


def test_a_send_is_handed_to_serve_arrives_once_and_prints_what_the_in_process_path_prints(fleet, serve):
    assert stat.S_IMODE(serve.sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(serve.sock.parent.stat().st_mode) == 0o700
    token = f"handed-{uuid.uuid4().hex[:8]}"
    who = [p for a in AGENTS for p in ("-a", a)]
    handed = run(fleet, "-a", ",".join(AGENTS), "-m", f"Over the socket {token}.", "--stagger", "0")  # as -a twice
    assert handed.returncode == 0, handed.stdout + handed.stderr
    assert "does the work itself" not in handed.stderr, handed.stderr  # QUARTERDECK_DEBUG says when it falls back
    here = run(fleet, *who, "-m", f"In process {token}.", "--stagger", "0", handoff=False)
    assert here.returncode == 0, here.stdout + here.stderr
    for done in (handed, here):
        lines = done.stdout.splitlines()
        assert [SHAPE.match(line).group(1) for line in lines] == list(AGENTS), done.stdout
    wait_until(lambda: fleet.arrivals(token) == dict.fromkeys(AGENTS, 2), "each text once per send")
    time.sleep(0.3)
    assert fleet.arrivals(f"Over the socket {token}") == dict.fromkeys(AGENTS, 1)

    as_json = run(fleet, "-a", "Agent-2", "-m", f"As JSON {token}.", "--json")
    here_json = run(fleet, "-a", "Agent-2", "-m", f"As JSON here {token}.", "--json", handoff=False)
    a, b = json.loads(as_json.stdout), json.loads(here_json.stdout)
    assert a.keys() == b.keys() and [r.keys() for r in a["results"]] == [r.keys() for r in b["results"]]
    assert a["results"][0]["state"] == "delivered" and a["results"][0]["confirmed"] is True
    assert "does the work itself" not in as_json.stderr


@pytest.mark.parametrize("args", [["-a", "Nobody", "-m", "To no one."], ["-a", "Agent-1", "-m", "   "],
                                  ["-a", "Agent-1", "-m", "x", "--tag", "Not A Tag"]])
def test_a_refusal_reads_and_exits_the_same_through_serve(fleet, serve, args):
    handed, here = run(fleet, *args), run(fleet, *args, handoff=False)
    assert handed.returncode == here.returncode == 2
    assert handed.stdout == here.stdout == ""
    debug = "quarterdeck: debug: "
    assert [line for line in handed.stderr.splitlines() if not line.startswith(debug)] == \
        [line for line in here.stderr.splitlines() if not line.startswith(debug)]
    assert "Traceback" not in handed.stderr


def test_serve_killed_leaves_a_stale_socket_the_send_falls_back_and_the_next_serve_replaces_it(fleet):
    first = Serve(fleet)
    first.proc.kill()
    first.proc.communicate(timeout=10)
    assert first.sock.exists(), "kill -9 leaves the socket file behind"
    token = f"stale-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    done = run(fleet, "-a", "Agent-1", "-m", f"Nobody listens {token}.")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Connection refused" in done.stderr and "does the work itself" in done.stderr
    assert time.monotonic() - started < 30
    wait_until(lambda: fleet.arrivals(token)["Agent-1"] == 1, "the fallback's delivery")
    second = Serve(fleet)
    try:
        handed = run(fleet, "-a", "Agent-3", "-m", f"Listening again {token}.")
        assert handed.returncode == 0 and "does the work itself" not in handed.stderr, handed.stderr
        assert stat.S_IMODE(second.sock.stat().st_mode) == 0o600
    finally:
        second.stop()
    assert not second.sock.exists(), "a serve that stops removes its socket"


def test_a_send_with_another_roster_or_a_dry_run_does_the_work_itself(fleet, serve, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(fleet.roster.read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run([str(QUARTERDECK), "send", "--roster", str(other), "-a", "Agent-1", "-m", "Other roster."],
                          env={**fleet.env, "QUARTERDECK_DEBUG": "1"}, cwd=ROOT, text=True, capture_output=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "reads another roster" in done.stderr
    dry = run(fleet, "-a", "Agent-1", "-m", "Just looking.", "--dry-run")
    assert dry.returncode == 0 and "not sent" in dry.stdout


GUARD = """import sys
from quarterdeck.cli.main import main
code = main(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('msgspec', 'yaml', 're2')
               or m.startswith(('quarterdeck.core.store', 'quarterdeck.core.models', 'quarterdeck.core.session')))
print(json.dumps({'code': code, 'heavy': heavy}) if (json := __import__('json')) else '')
"""


def test_the_hand_off_path_loads_no_models_yaml_or_store(fleet, serve):
    def loaded(*extra: str, **env: str):
        done = subprocess.run([sys.executable, "-c", GUARD, "send", "--roster", str(fleet.roster), "-a", "Agent-1",
                               "-m", "Light.", *extra], env={**fleet.env, **env}, cwd=ROOT, text=True,
                              capture_output=True, timeout=60)
        return json.loads(done.stdout.splitlines()[-1])

    handed = loaded()
    assert handed == {"code": 0, "heavy": []}
    here = loaded(QUARTERDECK_NO_HANDOFF="1")  # the guard itself: the in-process path loads them
    assert here["code"] == 0 and "yaml" in here["heavy"] and "quarterdeck.core.store" in here["heavy"]


def test_ctrl_c_of_a_handed_off_send_leaves_its_delivery_with_serve_which_delivers_it(fleet, serve):
    hook(fleet, PROMPT_SUBMITTED)  # Agent-1 is working: a --when idle message waits for its turn to end
    token = f"sigint-{uuid.uuid4().hex[:8]}"
    proc = fleet.send(f"Once you are free {token}.", "--when", "idle", "--ttl", "60s", agents=("Agent-1",))
    # serve's idle gate notes why it waits (it looks at most every 5 s here: --poll 5), and tells the send
    wait_until(lambda: (_state(fleet, "Agent-1") or "").startswith("waiting: "), "serve to say why it waits")
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    code, out, err = finish(proc, timeout=10)
    assert code == 130, out + err
    assert "Traceback" not in err
    assert "Agent-1          waiting: " in err, err  # the server's waiting step, printed as the send prints it
    assert "SIGINT: stopped waiting; 1 without an outcome yet (Agent-1) stay with quarterdeck serve (pid " \
           f"{serve.proc.pid}), which delivers them" in err, err
    assert _state(fleet, "Agent-1").startswith("waiting: "), "the message stays with serve"
    hook(fleet, TURN_ENDED)
    wait_until(lambda: fleet.arrivals(token)["Agent-1"] == 1, "serve to deliver it once Agent-1 is idle", timeout=40)
    wait_until(lambda: _state(fleet, "Agent-1") == "delivered", "serve to record it delivered")


def test_a_handed_off_send_with_a_timeout_stops_waiting_and_leaves_its_delivery_with_serve(fleet, serve):
    hook(fleet, PROMPT_SUBMITTED)  # Agent-1 is working: a --when idle message waits for its turn to end
    token = f"timeout-{uuid.uuid4().hex[:8]}"
    began = time.monotonic()
    proc = fleet.send(f"When you are free {token}.", "--when", "idle", "--ttl", "60s", "--timeout", "2s", "--json",
                      agents=("Agent-1",))
    code, out, err = finish(proc, timeout=30)
    assert code == 124 and 2 <= time.monotonic() - began < 15, out + err
    assert "Traceback" not in err and "debug: send does the work itself" not in err, err  # serve took it
    assert "no outcome within 2s; 1 without an outcome yet (Agent-1) go on with quarterdeck serve (pid " \
           f"{serve.proc.pid}), which delivers them" in err, err
    [result] = json.loads(out)["results"]
    assert result["agent"] == "Agent-1" and result["state"] == "waiting" and json.loads(out)["timed_out"], result
    hook(fleet, TURN_ENDED)
    wait_until(lambda: fleet.arrivals(token)["Agent-1"] == 1, "serve to deliver it once Agent-1 is idle", timeout=40)


def test_a_stop_all_during_a_send_with_a_timeout_is_a_stop_not_a_timeout(fleet):
    hook(fleet, PROMPT_SUBMITTED)  # Agent-1 is working: the --when idle message waits (no serve: this send does)
    proc = fleet.send("Not now after all.", "--when", "idle", "--ttl", "60s", "--timeout", "10m", agents=("Agent-1",))
    wait_until(lambda: (_state(fleet, "Agent-1") or "").startswith("waiting: "), "the send to say why it waits")
    stop = subprocess.run([str(QUARTERDECK), "stop"], env=fleet.env, cwd=ROOT, text=True, capture_output=True,
                          timeout=60)
    assert stop.returncode == 0, stop.stderr
    code, out, err = finish(proc, timeout=30)
    assert code == 1 and "cancelled" in out, out + err
    assert "no outcome within" not in err and "no outcome yet" not in out, out + err


def hook(fleet: Fleet, kind: str) -> None:
    name = {PROMPT_SUBMITTED: "UserPromptSubmit", TURN_ENDED: "Stop"}[kind]
    record(fleet.data, ActivityEvent(agent_id="Agent-1", source=CLAUDE_CODE, kind=kind, name=name, at=time.time()))


def _state(fleet: Fleet, agent: str) -> str | None:
    """The agent's last delivery's state, or what it waits for (``waiting: ...``)."""
    with Store(default_db_path(fleet.data)) as store:
        found = search(store, agent=agent, limit=1)
    if not found:
        return None
    return found[0].reason if str(found[0].state) == "waiting" and found[0].reason else str(found[0].state)


def test_serve_stopping_while_a_send_waits_tells_the_send_and_leaves_the_delivery_queued(fleet, serve):
    hook(fleet, PROMPT_SUBMITTED)
    token = f"closing-{uuid.uuid4().hex[:8]}"
    proc = fleet.send(f"Still waiting {token}.", "--when", "idle", "--ttl", "60s", agents=("Agent-1",))
    wait_until(lambda: (_state(fleet, "Agent-1") or "").startswith("waiting: "), "serve to say why it waits")
    serve.stop()
    code, out, err = finish(proc, timeout=30)
    assert code == 1, out + err
    assert "Traceback" not in err
    assert f"quarterdeck serve (pid {serve.proc.pid}) stopped before every outcome" in err, err
    assert "1 without an outcome yet (Agent-1) stay queued for the panel, `quarterdeck serve` or the next send" in err
    assert (_state(fleet, "Agent-1") or "").startswith("waiting: "), "nothing was cancelled"
    assert fleet.arrivals(token)["Agent-1"] == 0


def test_a_send_serve_passes_back_before_queueing_is_done_by_the_command_itself(fleet, serve):
    done = run(fleet, "-a", "Agent-1", "-m", "Tagged.", "--tag", "not a tag!")
    assert "does the work itself: the message is not valid here" in done.stderr, done.stderr
    assert done.returncode == 2 and "--tag: 'not a tag!' is not a tag" in done.stderr  # its own path's error
