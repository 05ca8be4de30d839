"""Deliveries into a pane whose screen is full (core/transports/tmux/verdict.py, ``line_ended``): the output
has reached the bottom row, so every new line scrolls the screen and the cursor stays where it was.

A real tmux server on a private socket; the panes are filled with output before the first send. In line
mode the new line after Enter is then told by tmux's count of the rows scrolled into history; a message
left in the input stays unsubmitted however alike the rows around it look.
"""
from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from polling import wait_until

from quarterdeck.core.delivery.contract import UNVERIFIED, DeliveryRequest, Receipt
from quarterdeck.core.delivery.errors import SUBMITTED, TypedNotSubmitted
from quarterdeck.core.transports.tmux.transport import TmuxDelivery

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

CHAT = Path(__file__).parent / "tmux_targets" / "chat_prompt.py"
ROWS = 20


class Server:
    """A private tmux server; each pane first fills its screen, then runs its program."""

    def __init__(self) -> None:
        self.name = f"qd-full-{uuid.uuid4().hex[:12]}"
        self.started = False

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.name, *args], capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()

    def pane(self, command: str, history_limit: int | None = None) -> str:
        if not self.started:  # a first window to hold the server and its options
            self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "s", "-x", "100", "-y", str(ROWS), "sleep 600")
            self.started = True
        if history_limit is not None:  # taken by panes created from now on
            self.tmux("set-option", "-g", "history-limit", str(history_limit))
        pane = self.tmux("new-window", "-t", "s:", "-P", "-F", "#{pane_id}", command)
        wait_until(lambda: self.tmux("display-message", "-p", "-t", pane, "#{cursor_y}") == str(ROWS - 1))
        return pane

    def deliver(self, pane: str, text: str, **kw: object) -> Receipt:
        return TmuxDelivery(pane, socket=self.name, **kw).deliver(  # type: ignore[arg-type]
            DeliveryRequest(agent_id="A", text=text), threading.Event())

    def history(self, pane: str) -> int:
        return int(self.tmux("display-message", "-p", "-t", pane, "#{history_size}"))


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    subprocess.run(["tmux", "-L", srv.name, "kill-server"], capture_output=True, timeout=10, check=False)


def filled(program: str, lines: str = "seq 60") -> str:
    return f"{lines}; exec {program}"


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_every_send_to_cat_in_a_full_pane_is_submitted(server, tmp_path):
    out = tmp_path / "cat.out"
    pane = server.pane(filled(f"tee {shlex.quote(str(out))}"))  # tee echoes each line back, as cat does
    grown = server.history(pane)
    for n in range(1, 17):
        receipt = server.deliver(pane, f"[C2A] Captain -> A\nmsg {n}")
        assert (receipt.verdict, receipt.evidence) == (SUBMITTED, "new line after Enter"), (n, receipt.detail)
    wait_until(lambda: len(lines_of(out)) == 32)
    assert lines_of(out)[1::2] == [f"msg {n}" for n in range(1, 17)]
    assert server.history(pane) >= grown + 16 * 3  # the screen scrolled with each send


def test_sends_into_a_full_pane_whose_history_is_full_are_submitted(server, tmp_path):
    # a history of 40 lines: full from the start, it drops 4 lines at a time as the screen scrolls
    out = tmp_path / "cat.out"
    pane = server.pane(filled(f"tee {shlex.quote(str(out))}", "seq 200"), history_limit=40)
    for n in range(1, 16):
        receipt = server.deliver(pane, f"msg {n}")
        assert (receipt.verdict, receipt.evidence) == (SUBMITTED, "new line after Enter"), (n, receipt.detail)
        assert 36 <= server.history(pane) <= 40
    wait_until(lambda: lines_of(out) == [f"msg {n}" for n in range(1, 16)])


def test_the_same_line_again_and_again_in_a_full_pane_is_submitted_each_time(server, tmp_path):
    out = tmp_path / "cat.out"
    pane = server.pane(filled(f"tee {shlex.quote(str(out))}", "yes hi | head -60"))
    for n in range(15):
        receipt = server.deliver(pane, "hi")
        assert (receipt.verdict, receipt.evidence) == (SUBMITTED, "new line after Enter"), (n, receipt.detail)
    wait_until(lambda: lines_of(out) == ["hi"] * 15)


def test_a_key_that_does_not_end_the_line_leaves_the_message_unsubmitted_among_rows_just_like_it(server, tmp_path):
    # every row reads "hi", so the screen looks scrolled by a row whether it moved or not: the history
    # count says it did not
    out = tmp_path / "cat.out"
    pane = server.pane(filled(f"tee {shlex.quote(str(out))}", "yes hi | head -60"))
    receipt = server.deliver(pane, "hi", submit_key="Space", submit={"submitted_within": 0.3})
    assert (receipt.verdict, receipt.evidence) == (UNVERIFIED, "no new line showed after Enter"), receipt.detail
    time.sleep(0.2)
    assert lines_of(out) == []  # the line never ended: tee got nothing


def test_a_chat_prompt_in_a_full_pane_gets_each_message_once(server, tmp_path):
    out, ready = tmp_path / "chat.out", tmp_path / "chat.ready"
    argv = " ".join(shlex.quote(a) for a in (sys.executable, str(CHAT), str(out), str(ready), "--reply"))
    pane = server.pane(filled(argv))
    wait_until(ready.exists)
    for n in range(1, 16):
        receipt = server.deliver(pane, f"please look at item {n}")
        assert receipt.verdict == SUBMITTED, (n, receipt.detail)
    wait_until(lambda: len(lines_of(out)) == 15)
    assert [json.loads(line) for line in lines_of(out)] == [f"please look at item {n}" for n in range(1, 16)]


def test_a_chat_prompt_that_never_submits_in_a_full_pane_keeps_the_message_typed_not_submitted(server, tmp_path):
    out, ready = tmp_path / "stuck.out", tmp_path / "stuck.ready"
    argv = " ".join(shlex.quote(a) for a in (sys.executable, str(CHAT), str(out), str(ready), "--never-submit"))
    pane = server.pane(filled(argv))
    wait_until(ready.exists)
    with pytest.raises(TypedNotSubmitted, match="TYPED, NOT SUBMITTED"):
        server.deliver(pane, "please look at item 1", submit={"submitted_within": 0.3})
    time.sleep(0.2)
    assert lines_of(out) == []
