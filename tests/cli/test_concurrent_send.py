"""Many `quarterdeck send` at once on one outbox, with real tmux panes: every send returns with its
own recipients' outcomes, whichever process typed them, and every message arrives exactly once.
Also: a send beside `quarterdeck serve`, SIGTERM to a send mid-broadcast, kill -9 during the
stagger, a pane killed after the paste (uncertain, never failed), and dry runs that leave nothing
in the temp folder."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path

import polling
import pytest
import yaml

from quarterdeck.core.store import Store, default_db_path, search
from quarterdeck.core.transports.registry import transport_for

# a fleet's processes start slowly; test_send_handoff, test_send_when_idle and test_panel_handoff wait with it too
wait_until = partial(polling.wait_until, timeout=20.0, every=0.02)

ROOT = Path(__file__).resolve().parents[2]
QUARTERDECK = Path(sys.executable).with_name("quarterdeck")  # the command installed beside this Python
AGENTS = ("Agent-1", "Agent-2", "Agent-3")
BOUND = 60.0  # generous, for a loaded machine

pytestmark = [pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
              pytest.mark.skipif(os.name != "posix", reason="signals and tmux")]


class Fleet:
    """Tmux panes on a private server, each running ``cat >> FILE`` (echo on): what a pane is sent
    ends up in its file, so what arrived can be counted."""

    def __init__(self, tmp_path: Path, agents=AGENTS, program: str = "exec cat >> {out}") -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="qd-tmux-"))
        self.env = {key: value for key, value in os.environ.items() if key != "TMUX"}
        self.env["TMUX_TMPDIR"] = str(self.folder)
        self.files: dict[str, Path] = {}
        roster = []
        for agent in agents:
            out = tmp_path / f"{agent}.txt"
            out.touch()
            target = self.tmux("new-session", "-d", "-s", f"qd-{agent}-{uuid.uuid4().hex[:6]}", "-x", "150",
                               "-y", "40", "-P", "-F", "#{session_name}:#{window_index}.#{pane_index}",
                               program.format(out=shlex.quote(str(out))))
            self.files[agent] = out
            roster.append({"id": agent, "transport": "tmux", "target": target})
        self.targets = {entry["id"]: entry["target"] for entry in roster}
        self.roster = tmp_path / "agents.yaml"
        self.roster.write_text(yaml.safe_dump({"agents": roster}), encoding="utf-8")
        self.data = tmp_path / "data"
        self.env.update(QUARTERDECK_DATA_DIR=str(self.data), QUARTERDECK_CONFIG_DIR=str(tmp_path / "config"))

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-f", "/dev/null", *args], env=self.env, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()

    def send(self, text: str, *args: str, agents=AGENTS) -> subprocess.Popen[str]:
        who = [part for agent in agents for part in ("-a", agent)]
        return subprocess.Popen([str(QUARTERDECK), "send", "--roster", str(self.roster), *who, "-m", text, *args],
                                env=self.env, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def arrivals(self, token: str) -> dict[str, int]:
        return {agent: out.read_text(encoding="utf-8", errors="replace").count(token)
                for agent, out in self.files.items()}

    def close(self) -> None:
        subprocess.run(["tmux", "kill-server"], env=self.env, capture_output=True, timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def fleet(tmp_path):
    f = Fleet(tmp_path)
    yield f
    f.close()


def finish(proc: subprocess.Popen[str], timeout: float = BOUND) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the send never returned:\n{out}\n{err}")
    return proc.returncode, out, err


@pytest.mark.parametrize("senders", [2, 6])
def test_parallel_sends_to_three_panes_all_return_each_with_its_own_outcomes(fleet, senders):
    tokens = [f"note-{n}-{uuid.uuid4().hex[:8]}" for n in range(senders)]
    procs = [fleet.send(f"Parallel {token}: rebase on main.", "--json", "--stagger", "0") for token in tokens]
    ends = [finish(proc) for proc in procs]

    seen_ids: set[int] = set()
    for token, (code, out, err) in zip(tokens, ends, strict=True):
        assert code == 0, out + err
        results = json.loads(out)["results"]
        assert [r["agent"] for r in results] == list(AGENTS)
        assert {r["state"] for r in results} == {"delivered"}, results
        ids = {r["delivery_id"] for r in results}
        assert not ids & seen_ids, "two sends reported the same delivery"
        seen_ids |= ids
        assert fleet.arrivals(token) == dict.fromkeys(AGENTS, 1), f"{token} did not arrive exactly once"
    with Store(default_db_path(fleet.data)) as store:
        assert store.counts_by_state()["delivered"] == senders * len(AGENTS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_send_returns_with_outcomes_typed_by_a_serve_process_on_the_same_outbox(fleet):
    serve = subprocess.Popen([str(QUARTERDECK), "serve", "--roster", str(fleet.roster), "--port", str(free_port()),
                              "--poll", "0.05"], env=fleet.env, cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(default_db_path(fleet.data).exists, "serve to open the outbox")
        tokens = [f"beside-serve-{n}-{uuid.uuid4().hex[:8]}" for n in range(3)]
        procs = [fleet.send(f"While serve runs {token}.", "--json", "--stagger", "0") for token in tokens]
        for token, proc in zip(tokens, procs, strict=True):
            code, out, err = finish(proc)
            assert code == 0, out + err
            assert [r["state"] for r in json.loads(out)["results"]] == ["delivered"] * 3
            assert fleet.arrivals(token) == dict.fromkeys(AGENTS, 1)
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.communicate()


def rows(data: Path) -> dict[str, str]:
    with Store(default_db_path(data)) as store:
        return {row.agent_id: str(row.state) for row in search(store, limit=50)}


def test_sigterm_mid_broadcast_releases_what_was_not_typed_and_says_what_is_left(fleet):
    token = f"term-{uuid.uuid4().hex[:8]}"
    proc = fleet.send(f"Stop me {token}.", "--stagger", "30")  # a long wait between two agents' starts
    wait_until(lambda: fleet.arrivals(token)["Agent-1"] == 1, "Agent-1's delivery")
    wait_until(lambda: default_db_path(fleet.data).exists() and rows(fleet.data).get("Agent-1") == "delivered",
               "Agent-1 recorded delivered")
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code, out, err = finish(proc, timeout=10)
    took = time.monotonic() - started
    assert took < 5, f"the send took {took:.1f} s to end after SIGTERM"
    assert code == 130, out + err
    assert "Traceback" not in err
    assert "SIGTERM" in err and "2 left queued (Agent-2, Agent-3)" in err, err
    assert out.split()[0] == "Agent-1"
    assert rows(fleet.data) == {"Agent-1": "delivered", "Agent-2": "queued", "Agent-3": "queued"}

    after = fleet.send("The next send.", "--stagger", "0", agents=("Agent-1",))
    code, out, err = finish(after)
    assert code == 0, out + err
    assert set(rows(fleet.data).values()) == {"delivered"}, "the next send finishes what was left queued"
    assert fleet.arrivals(token) == dict.fromkeys(AGENTS, 1)


def test_kill_9_during_the_stagger_leaves_the_next_delivery_queued_not_uncertain(fleet):
    token = f"nine-{uuid.uuid4().hex[:8]}"
    proc = fleet.send(f"Crash in the wait {token}.", "--stagger", "30", agents=("Agent-1", "Agent-2"))
    wait_until(lambda: default_db_path(fleet.data).exists() and rows(fleet.data).get("Agent-1") == "delivered",
               "Agent-1 recorded delivered")
    # the send now waits out its 30 s stagger before Agent-2; no event marks the wait itself, so a
    # bounded pause puts the kill inside it, past whatever follows Agent-1's record
    time.sleep(0.3)
    proc.kill()
    finish(proc, timeout=10)
    assert rows(fleet.data)["Agent-2"] == "queued", "nothing was typed for Agent-2, so nothing is in flight"
    status = subprocess.run([str(QUARTERDECK), "status", "--roster", str(fleet.roster)], env=fleet.env,
                            cwd=ROOT, text=True, capture_output=True, timeout=BOUND)
    assert "uncertain" not in status.stdout, status.stdout
    code, out, err = finish(fleet.send("Next.", "--stagger", "0", agents=("Agent-3",)))
    assert code == 0, out + err
    assert fleet.arrivals(token) == {"Agent-1": 1, "Agent-2": 1, "Agent-3": 0}


def test_a_pane_killed_after_the_paste_is_uncertain_never_failed(tmp_path):
    # raw mode, no echo: the pane's program gets every byte but shows none, so the transport is
    # still looking for the text when the pane is killed under it
    program = (f"exec {shlex.quote(sys.executable)} -c \"import sys, tty; tty.setraw(0); "
               "out = open(sys.argv[1], 'ab', buffering=0)\n"
               "while True: out.write(sys.stdin.buffer.read1(4096))\" {out}")
    fleet = Fleet(tmp_path, agents=("Agent-1",), program=program)
    try:
        token = f"killed-{uuid.uuid4().hex[:8]}"
        proc = fleet.send(f"Into a dying pane {token}.", "--json", agents=("Agent-1",))
        try:
            wait_until(lambda: fleet.arrivals(token)["Agent-1"] == 1, "the text to reach the pane's program")
            fleet.tmux("kill-pane", "-t", fleet.targets["Agent-1"])
        finally:
            code, out, _err = finish(proc)
        [result] = json.loads(out)["results"]
        assert code == 1
        assert result["state"] == "uncertain", result
        assert "may have arrived" in result["detail"] or "may have happened" in result["detail"], result
        assert rows(fleet.data) == {"Agent-1": "uncertain"}
        assert fleet.arrivals(token) == {"Agent-1": 1}
    finally:
        fleet.close()


def test_dry_runs_leave_no_outbox_in_the_temp_folder(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    roster = tmp_path / "agents.yaml"
    agent = {"id": "Agent-1", "transport": "inbox", "path": str(tmp_path / "in")}
    roster.write_text(yaml.safe_dump({"agents": [agent]}), encoding="utf-8")
    env = {**os.environ, "TMPDIR": str(temp), "QUARTERDECK_DATA_DIR": str(tmp_path / "data"),
           "QUARTERDECK_CONFIG_DIR": str(tmp_path / "config")}
    for args in (["send", "-a", "Agent-1", "-m", "Just looking.", "--dry-run"],
                 ["onboard", "Agent-1", "--dry-run"], ["onboard", "--all", "--dry-run", "--json"]):
        done = subprocess.run([str(QUARTERDECK), *args, "--roster", str(roster)], env=env, cwd=ROOT, text=True,
                              capture_output=True, timeout=BOUND)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "not sent" in done.stdout or "dry_run" in done.stdout
        assert list(temp.iterdir()) == [], f"{args[0]} --dry-run left {list(temp.iterdir())}"
    assert not (tmp_path / "in").exists() or not list((tmp_path / "in").iterdir()), "a dry run sent something"


def test_stop_all_ends_every_parallel_send_each_reporting_its_own_recipients(fleet):
    tokens = [f"stopped-{n}-{uuid.uuid4().hex[:8]}" for n in range(2)]
    procs = [fleet.send(f"Soon stopped {token}.", "--json", "--stagger", "30") for token in tokens]
    wait_until(lambda: sum(sum(fleet.arrivals(t).values()) for t in tokens) >= 2, "each send's first delivery")
    stop = subprocess.run([str(QUARTERDECK), "stop"], env=fleet.env, cwd=ROOT, text=True, capture_output=True,
                          timeout=BOUND)
    assert stop.returncode == 0, stop.stderr
    started = time.monotonic()
    ends = [finish(proc, timeout=15) for proc in procs]
    assert time.monotonic() - started < 10
    for token, (code, out, err) in zip(tokens, ends, strict=True):
        assert code == 1, out + err
        results = json.loads(out)["results"]
        assert [r["agent"] for r in results] == list(AGENTS)
        states = [r["state"] for r in results]
        assert states.count("delivered") >= 1 and set(states) <= {"delivered", "cancelled"}, states
        arrived = fleet.arrivals(token)
        assert arrived == {r["agent"]: int(r["state"] == "delivered") for r in results}, (arrived, results)


def test_sigint_to_an_onboarding_run_mid_way_leaves_the_rest_queued_and_exits_promptly(fleet):
    proc = subprocess.Popen([str(QUARTERDECK), "onboard", *AGENTS, "--roster", str(fleet.roster), "--stagger", "30"],
                            env=fleet.env, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until(lambda: default_db_path(fleet.data).exists() and "delivered" in rows(fleet.data).values(),
               "the first delivery recorded")
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    code, out, err = finish(proc, timeout=10)
    assert time.monotonic() - started < 5
    assert code == 130 and "Traceback" not in err, out + err
    assert "SIGINT: stopped onboarding" in err and "left queued" in err, err
    with Store(default_db_path(fleet.data)) as store:
        counts = store.counts_by_state()
    assert counts["sending"] == 0 and counts["uncertain"] == 0 and counts["cancelled"] == 0, counts
    assert counts["queued"] >= 1, counts
    assert fleet.files["Agent-1"].stat().st_size > 0 and fleet.files["Agent-3"].stat().st_size == 0


@pytest.fixture
def beside_a_panel(tmp_path):
    """An inbox roster, and the panel's dispatcher (a claim-all worker on its own Store, as in the
    GUI) running on the outbox; yields (roster path, data dir, ids the panel delivered)."""
    import threading

    from quarterdeck.core.dispatch.dispatcher import Dispatcher
    from quarterdeck.core.roster.roster import load_roster

    roster_path = tmp_path / "agents.yaml"
    roster_path.write_text(yaml.safe_dump({"agents": [{"id": a, "transport": "inbox", "path": str(tmp_path / a)}
                                                      for a in AGENTS]}), encoding="utf-8")
    data = tmp_path / "data"
    panel_store = Store(default_db_path(data))
    panel = Dispatcher(panel_store, load_roster(roster_path), stagger=0, transport_factory=transport_for)
    typed_by_panel: list[int] = []
    panel.add_listener(lambda e: typed_by_panel.append(e.delivery_id) if e.state == "delivered" else None)
    worker = threading.Thread(target=panel.run, kwargs={"idle_wait": 0.01}, daemon=True)
    worker.start()
    yield roster_path, data, typed_by_panel
    panel.halt()
    worker.join(10)
    panel_store.close()


def run_main(argv: list[str]) -> int:
    """``quarterdeck ARGV`` in this process, failing the test if it never returns."""
    import threading

    from quarterdeck.cli.main import main

    ended: list[int] = []
    runner = threading.Thread(target=lambda: ended.append(main(argv)), daemon=True)
    runner.start()
    runner.join(BOUND)
    assert ended, f"quarterdeck {argv[0]} never returned beside the panel's dispatcher"
    return ended[0]


def test_sends_beside_a_panel_s_dispatcher_return_whoever_typed_their_messages(tmp_path, capsys, beside_a_panel):
    roster_path, data, typed_by_panel = beside_a_panel
    sent = 0
    while sent < 5 or (not typed_by_panel and sent < 40):  # a send claims its own at once: the panel wins some
        code = run_main(["send", "--roster", str(roster_path), "--data-dir", str(data), "--json", "--stagger", "0",
                         *[part for a in AGENTS for part in ("-a", a)], "-m", f"Beside the panel, note {sent}."])
        results = json.loads(capsys.readouterr().out)["results"]
        assert code == 0 and [r["state"] for r in results] == ["delivered"] * 3, results
        sent += 1
    for agent in AGENTS:
        texts = [p.read_text(encoding="utf-8") for p in (tmp_path / agent).glob("*.md")]
        assert sorted(n for n in range(sent) for t in texts if f"note {n}." in t) == list(range(sent)), agent
    assert typed_by_panel, "the panel's dispatcher took none: the test did not put the two side by side"


def test_an_onboarding_run_beside_a_panel_s_dispatcher_returns_with_every_step(tmp_path, capsys, beside_a_panel):
    roster_path, data, typed_by_panel = beside_a_panel
    runs = 0
    while runs < 3 or (not typed_by_panel and runs < 20):  # each run claims its own at once: the panel wins some
        code = run_main(["onboard", "--all", "--roster", str(roster_path), "--data-dir", str(data), "--json",
                         "--stagger", "0"])
        agents = json.loads(capsys.readouterr().out)["agents"]
        assert code == 0, agents
        assert {a["agent"]: (a["wrap-up"]["state"], a["onboarding"]["state"]) for a in agents} == dict.fromkeys(
            AGENTS, ("delivered", "delivered"))
        runs += 1
    for agent in AGENTS:
        assert len(list((tmp_path / agent).glob("*.md"))) == 2 * runs, "each step arrived once"
    assert typed_by_panel, "the panel's dispatcher took none: the test did not put the two side by side"
