"""Onboarding, History, Contracts and Rules on a real display, driven the way a person does: the
panel runs in its own process (tests/x11/panel_harness.py) and xdotool moves the pointer, clicks,
drags and types.

- Onboarding starts with nobody ticked: Start does nothing until the captain ticks an agent, and
  then only that agent is wrapped up and onboarded.
- History dragged sideways keeps Time and Agent in view, and a click on a frozen Time cell selects
  that delivery.
- A token typed into a new contract is stored redacted, and the Contracts panel says so.
- Rules in a narrow dock gives the editor its share; an error typed and saved as a draft, then
  commented out, turns the draft warning into "errors fixed", whose Save activates the rules."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from probed_panel import needs, shot, window_of
from xterm_desk import wait_until

from quarterdeck.core.models import Message
from quarterdeck.core.store import Store, default_db_path

pytestmark = pytest.mark.x11
HARNESS = Path(__file__).with_name("panel_harness.py")
ROOT = Path(__file__).resolve().parents[2]


def xdotool(*args: object) -> None:
    subprocess.run(["xdotool", *map(str, args)], check=True, timeout=10)


def click(point) -> None:
    xdotool("mousemove", point[0], point[1])
    time.sleep(0.15)
    xdotool("click", 1)
    time.sleep(0.3)


class Harness:
    def __init__(self, kind: str, tmp_path: Path, roster: Path, size=(620, 420)) -> None:
        if shutil.which("xdotool") is None:
            pytest.skip("missing tools: xdotool")
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env["PYTHONPATH"] = str(ROOT)
        self.proc = subprocess.Popen([sys.executable, str(HARNESS), kind, str(tmp_path / "data"), str(roster),
                                      str(size[0]), str(size[1])], cwd=ROOT, env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read()
        self.where = json.loads(line)

    def state(self) -> dict:
        self.proc.stdin.write("state\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.communicate(timeout=20)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            self.proc.kill()
            self.proc.communicate()


def inbox_roster(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "agents.yaml"
    path.write_text("agents:\n" + "".join(
        f"  - {{id: Agent-{n}, role: dev, transport: inbox, path: {tmp_path / f'in{n}'}}}\n"
        for n in range(1, count + 1)), encoding="utf-8")
    return path


def files(folder: Path) -> list[str]:
    return sorted(p.read_text(encoding="utf-8") for p in folder.glob("*.md")) if folder.is_dir() else []


def test_onboarding_starts_with_nobody_ticked_and_onboards_only_whom_the_captain_ticks(tmp_path):
    harness = Harness("onboarding", tmp_path, inbox_roster(tmp_path, 3))
    try:
        state = harness.state()
        assert state["checked"] == [] and not state["start_enabled"]
        click(harness.where["start"])  # a disabled Start: nothing happens...
        click(harness.where["boxes"]["Agent-2"])
        # ...as the next click shows: it reached the panel's table, no confirmation came in between
        state = wait_until(lambda: (s := harness.state())["checked"] and s, "Agent-2 ticked")
        assert state["checked"] == ["Agent-2"] and state["start_enabled"] and state["modal"] is None
        assert all(files(tmp_path / f"in{n}") == [] for n in (1, 2, 3))
        click(harness.where["start"])
        wait_until(lambda: harness.state()["modal"], 'the confirmation ("Onboard 1 agent?")')
        xdotool("key", "alt+y")  # the captain answers Yes
        wait_until(lambda: len(files(tmp_path / "in2")) == 2, "Agent-2's wrap-up and onboarding", timeout=20)
        wrapup, onboarding = sorted(files(tmp_path / "in2"), key=lambda text: "ONBOARDING" in text)
        assert "Time to wrap up, Agent-2." in wrapup and "| ONBOARDING\n" in onboarding
        assert files(tmp_path / "in1") == [] and files(tmp_path / "in3") == []
    finally:
        harness.close()


@needs("import")
def test_history_dragged_sideways_keeps_time_and_agent_and_a_click_on_them_selects(tmp_path):
    roster = inbox_roster(tmp_path, 3)
    with Store(default_db_path(tmp_path / "data")) as store:
        for n in range(12):
            agent = f"Agent-{n % 3 + 1}"
            store.enqueue(Message(sender="Captain", recipients=[agent], content=f"task {n}: " + "long text " * 20),
                          [(agent, "inbox")])
    harness = Harness("history", tmp_path, roster, size=(640, 420))
    try:
        wait_until(lambda: harness.state()["max"] > 0, "a table wider than its dock", timeout=20)
        before = harness.state()
        assert before["scroll"] == 0 and before["table_time_x"] == 0
        xdotool("mousemove", *harness.where["hbar_left"])
        xdotool("mousedown", 1)
        for step in range(1, 11):  # a person drags the scroll bar to the right, in steps
            left, right = harness.where["hbar_left"][0], harness.where["hbar_right"][0]
            xdotool("mousemove", left + (right - left) * step // 10, harness.where["hbar_left"][1])
            time.sleep(0.03)
        xdotool("mouseup", 1)
        time.sleep(0.3)
        after = harness.state()
        assert after["scroll"] == after["max"] > 0
        assert after["table_time_x"] < 0  # the table's own Time column scrolled away...
        assert after["frozen_visible"] and after["frozen_x"] <= 2  # ...the frozen Time and Agent did not
        assert after["frozen_width"] == after["time_and_agent_width"]
        click(after["rows"]["2"]["time_cell"])  # the captain clicks a Time cell on the frozen part
        wait_until(lambda: harness.state()["selected"] == [2], "row 2 selected", timeout=5)
        wait_until(lambda: harness.state()["detail_to"].startswith("Agent-"), "its detail", timeout=5)
        shot(tmp_path / "history.png", {"panel": window_of(harness.proc.pid)})
    finally:
        harness.close()


def test_rules_editor_has_its_share_and_the_draft_warning_goes_when_the_typed_error_is_fixed(tmp_path):
    from quarterdeck.core.paths import user_config_dir
    from quarterdeck.core.validation import bundled_rules_dir

    rules = tmp_path / "team-rules"
    shutil.copytree(bundled_rules_dir(), rules)
    user_config_dir().mkdir(parents=True, exist_ok=True)
    (user_config_dir() / "coordination.yaml").write_text(f"validation_rules_path: {rules}\n", encoding="utf-8")
    harness = Harness("rules", tmp_path, inbox_roster(tmp_path, 1), size=(660, 460))
    try:
        wait_until(lambda: harness.state()["tabs"] == 3, "the rule files open", timeout=20)
        state = harness.state()
        assert state["editor"] >= 0.55 * (state["editor"] + state["bench"])  # not a sliver beside the bench
        click(harness.where["editor"])
        xdotool("key", "ctrl+End")
        xdotool("type", "--delay", "40", "bogus: [")  # a broken line at the end of message.yaml
        wait_until(lambda: harness.state()["errors"], "the error found")
        xdotool("key", "ctrl+s")
        wait_until(lambda: harness.state()["notice_kind"] == "draft", "the draft warning")
        assert "Draft saved; active rules unchanged (1 error)." in harness.state()["notice"]
        generation = harness.state()["generation"]
        xdotool("key", "Home")  # the captain comments the broken line out
        xdotool("type", "--delay", "40", "# ")
        wait_until(lambda: harness.state()["notice_kind"] == "draft-fixed", "the warning gone")
        state = harness.state()
        assert state["errors"] == 0 and "Draft saved" not in state["notice"]
        assert state["notice"] == "The errors are fixed: save (Ctrl+S) to make these rules active."
        click(state["action"])  # the notice's Save rules
        wait_until(lambda: harness.state()["notice_kind"] == "saved", "the rules saved")
        assert harness.state()["generation"] == generation + 1
    finally:
        harness.close()


def test_a_token_typed_into_a_new_contract_is_stored_redacted_and_the_panel_says_so(tmp_path):
    token = "ghp_" + "Zq7Lm2Xv9Tb4Nc8Rw1Ks5Hd3Jf6Gp0Ya2Ue4"  # 36 characters after the prefix
    harness = Harness("contracts", tmp_path, inbox_roster(tmp_path, 2), size=(900, 420))
    try:
        click(harness.where["create"])
        wait_until(lambda: harness.state()["dialog"], "the new-contract dialog")
        dialog = harness.state()["dialog"]
        click(dialog["title"])
        xdotool("type", "--delay", "20", "Rotate the deploy token")
        click(dialog["description"])
        xdotool("type", "--delay", "20", f"old one {token}")
        click(dialog["ok"])
        wait_until(lambda: harness.state()["rows"], "the contract created")
        state = harness.state()
        assert state["rows"] == ["old one [REDACTED:github_token]"]
        assert "stored redacted: github_token in the description" in state["outcome"]
        assert token not in state["outcome"]
    finally:
        harness.close()
    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("quarterdeck.sqlite3*") if p.is_file())
    assert b"old one" in stored and token.encode() not in stored
