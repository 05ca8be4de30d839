"""TmuxDelivery against a real tmux server on a private socket, with real programs in the panes.

The programs in ``tmux_targets/`` stand in for agents: a prompt_toolkit chat prompt (with the
quirks agent CLIs have), a raw input box that records its bytes, a sink that shows nothing. Each
test checks the verdict and what the program really received: submitted exactly once, or not at all.
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
from pathlib import Path

import pytest
from polling import wait_until

from quarterdeck.core.delivery.contract import UNVERIFIED, DeliveryRequest
from quarterdeck.core.delivery.errors import (
    SUBMITTED,
    Cancelled,
    MayHaveArrived,
    NotTyped,
    PermanentError,
    TypedNotSubmitted,
)
from quarterdeck.core.transports.tmux.transport import TmuxDelivery
from quarterdeck.core.transports.tmux.verdict import tail_needle

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

TARGETS = Path(__file__).parent / "tmux_targets"
NASTY = (
    "Hello é 你好 🚀\n"
    "$HOME `whoami` $(id) \"double\" 'single' \\backslash ; | & > < * ? ~ #\n"
    "\n"
    "\ttabbed line and trailing spaces   \n"
    "last line: done.  "
)
MULTI = "please rebase on main é\nthen run the suite\n\nand report back"


class Server:
    """A private tmux server whose panes are the agents."""

    def __init__(self, tmp: Path) -> None:
        self.name = f"qd-test-{uuid.uuid4().hex[:12]}"
        self.tmp = tmp
        self.started = False

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.name, *args], capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout.strip()

    def pane(self, command: str, *, width: int = 200) -> str:
        """Start ``command`` in a new window and return the pane id."""
        if not self.started:
            self.started = True
            return self.tmux(
                "new-session", "-d", "-s", "swarm", "-x", str(width), "-y", "30",
                "-P", "-F", "#{pane_id}", command,
            )
        return self.tmux("new-window", "-t", "swarm", "-P", "-F", "#{pane_id}", command)

    def cat_pane(self, name: str) -> tuple[str, Path]:
        out = self.tmp / f"{name}.out"
        return self.pane(f"cat > {shlex.quote(str(out))}"), out

    def program(self, script: str, name: str, *args: str, wait: bool = True) -> tuple[str, Path]:
        """Run ``tmux_targets/script OUT READY *args`` with this Python; (pane, OUT)."""
        out, ready = self.tmp / f"{name}.out", self.tmp / f"{name}.ready"
        argv = [sys.executable, str(TARGETS / script), str(out), str(ready), *args]
        pane = self.pane(" ".join(shlex.quote(a) for a in argv))
        if wait:
            wait_until(ready.exists)
        return pane, out

    def chat_pane(self, name: str, *flags: str, wait: bool = True) -> tuple[str, Path]:
        return self.program("chat_prompt.py", name, *flags, wait=wait)

    def shows(self, pane: str) -> str:
        """The pane's visible rows (prompt_toolkit's redraws push stale copies into history)."""
        return self.tmux("capture-pane", "-p", "-J", "-t", pane)

    def prompt_shown(self, pane: str) -> bool:
        return any(row.strip() == ">" for row in self.shows(pane).splitlines())

    def kill(self) -> None:
        if not self.started:
            return
        sock = self.tmux("display-message", "-p", "#{socket_path}")
        subprocess.run(["tmux", "-L", self.name, "kill-server"], capture_output=True, timeout=10)
        Path(sock).unlink(missing_ok=True)


def file_holds(path: Path, expected: bytes):
    def check() -> bool:
        return path.exists() and path.read_bytes() == expected

    return check


MARK = "marker: nothing after this"


def submitted(out: Path) -> list[str]:
    """What a chat prompt has received so far, one entry per submission."""
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def submissions(out: Path, server: Server, pane: str) -> list[str]:
    """What the chat prompt in ``pane`` received, a late duplicate included: a marker typed and
    submitted now arrives after anything the delivery sent, so once it is in, the rest is final.
    (Markers typed earlier in the test are left out.)"""
    marks = submitted(out).count(MARK)
    server.tmux("send-keys", "-t", pane, "-l", MARK)
    server.tmux("send-keys", "-t", pane, "Enter")
    wait_until(lambda: submitted(out).count(MARK) > marks)
    return [entry for entry in submitted(out) if entry != MARK]


def never_submitted(out: Path, settle: float = 0.3) -> list[str]:
    """What a chat prompt whose Enter submits nothing received: no marker can come through there,
    so a late duplicate is given a bounded time to show up instead."""
    time.sleep(settle)
    return submitted(out)


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path)
    yield srv
    srv.kill()


def request(text: str, **kw) -> DeliveryRequest:
    return DeliveryRequest(agent_id=kw.pop("agent_id", "Agent-1"), text=text, **kw)


def deliver(pane: str, server: Server, text: str, stop: threading.Event | None = None, **kw):
    return TmuxDelivery(pane, socket=server.name, **kw).deliver(request(text), stop or threading.Event())


# -- plain programs: Enter ends the line, submitted on the first press ---------------------------


def test_multiline_unicode_and_metacharacters_arrive_byte_for_byte(server):
    pane, out = server.cat_pane("agent1")
    receipt = deliver(pane, server, NASTY)
    assert receipt.transport == "tmux"
    assert receipt.verdict == SUBMITTED, receipt.detail
    assert receipt.evidence == "new line after Enter"
    assert "press 2" not in receipt.detail
    wait_until(file_holds(out, NASTY.encode("utf-8") + b"\n"))


def test_each_agent_pane_gets_only_its_own_message(server):
    panes = {f"Agent-{i}": server.cat_pane(f"agent{i}") for i in range(1, 4)}
    for agent, (pane, _) in panes.items():
        text = f"for {agent} only\nsecond line é"
        receipt = TmuxDelivery(pane, socket=server.name).deliver(
            request(text, agent_id=agent), threading.Event()
        )
        assert receipt.verdict == SUBMITTED
    for agent, (_, out) in panes.items():
        wait_until(file_holds(out, f"for {agent} only\nsecond line é\n".encode()))


def test_a_shell_read_loop_with_a_prompt_is_submitted_once(server):
    out = server.tmp / "read.out"
    loop = f'while IFS= read -r -p "> " line; do printf "%s\\n" "$line" >> {shlex.quote(str(out))}; done'
    pane = server.pane(f"bash -c {shlex.quote(loop)}")
    wait_until(lambda: server.prompt_shown(pane))
    receipt = deliver(pane, server, MULTI)
    assert receipt.verdict == SUBMITTED, receipt.detail
    assert receipt.evidence == "new line after Enter"
    wait_until(file_holds(out, (MULTI + "\n").encode()))
    # a line typed after the delivery lands after anything the delivery sent, an extra Enter too
    server.tmux("send-keys", "-t", pane, "-l", "marker")
    server.tmux("send-keys", "-t", pane, "Enter")
    wait_until(lambda: out.read_bytes().endswith(b"marker\n"))
    assert out.read_bytes() == (MULTI + "\nmarker\n").encode(), "an extra Enter sent an extra line"


def test_the_same_text_twice_is_submitted_twice(server):
    pane, out = server.cat_pane("again")
    transport = TmuxDelivery(pane, socket=server.name)
    for _ in range(2):
        assert transport.deliver(request("continue"), threading.Event()).verdict == SUBMITTED
    wait_until(file_holds(out, b"continue\ncontinue\n"))


def test_long_lines_that_wrap_in_a_narrow_pane_are_still_found(server):
    pane = server.pane(f"cat > {shlex.quote(str(server.tmp / 'narrow.out'))}", width=30)
    text = "start " + "wrapped-words " * 20 + "end"
    receipt = deliver(pane, server, text)
    assert receipt.verdict == SUBMITTED, receipt.detail
    wait_until(file_holds(server.tmp / "narrow.out", text.encode() + b"\n"))


# -- a chat prompt (prompt_toolkit, bracketed paste): visible is not submitted -------------------


def test_chat_prompt_gets_the_message_submitted_exactly_once(server):
    pane, out = server.chat_pane("chat")
    receipt = deliver(pane, server, MULTI)
    assert receipt.verdict == SUBMITTED, receipt.detail
    assert receipt.evidence == "prompt returned empty"
    assert submissions(out, server, pane) == [MULTI]


def test_an_agent_answering_below_the_message_is_evidence(server):
    pane, out = server.chat_pane("reply", "--reply")
    receipt = deliver(pane, server, "run the tests")
    assert (receipt.verdict, receipt.evidence) == (SUBMITTED, "output below the message")
    assert submissions(out, server, pane) == ["run the tests"]


def test_enter_swallowed_right_after_the_paste_is_pressed_again_never_pasted_again(server):
    pane, out = server.chat_pane("codexish", "--enter-guard", "300")
    receipt = deliver(pane, server, MULTI, submit={"submitted_within": 0.5})
    assert receipt.verdict == SUBMITTED, receipt.detail
    assert "press 2 of 2" in receipt.detail
    assert submissions(out, server, pane) == [MULTI]
    assert server.shows(pane).count("and report back") == 1, "the text was pasted a second time"


def test_enter_taken_as_a_newline_in_the_input_is_not_mistaken_for_a_submit(server):
    pane, out = server.chat_pane("newline", "--enter-guard", "300", "--guard-newline")
    receipt = deliver(pane, server, MULTI, submit={"submitted_within": 0.5})
    assert receipt.verdict == SUBMITTED, receipt.detail
    assert "press 2 of 2" in receipt.detail
    assert submissions(out, server, pane) == [MULTI + "\n"]


def test_codex_profile_pauses_before_enter_so_the_first_press_counts(server):
    pane, out = server.chat_pane("codex", "--enter-guard", "300")
    receipt = deliver(pane, server, MULTI, agent="codex", submit={"ready_after": 0})
    assert receipt.verdict == SUBMITTED, receipt.detail
    assert "codex profile" in receipt.detail and "press 2" not in receipt.detail
    assert submissions(out, server, pane) == [MULTI]


def test_input_that_never_submits_is_typed_not_submitted_loudly_and_pasted_once(server):
    pane, out = server.chat_pane("stuck", "--never-submit")
    transport = TmuxDelivery(pane, socket=server.name, submit={"submitted_within": 0.3, "presses": 3})
    with pytest.raises(TypedNotSubmitted, match=f"TYPED, NOT SUBMITTED.*{pane}.*3 press") as raised:
        transport.deliver(request(MULTI), threading.Event())
    assert raised.value.verdict == "typed_not_submitted"
    assert "still in the input" in raised.value.evidence
    assert never_submitted(out) == []
    # A second attempt (a retry, a resend) finds the text still there and does not paste again.
    with pytest.raises(TypedNotSubmitted, match="already sits unsubmitted"):
        transport.deliver(request(MULTI), threading.Event())
    assert server.shows(pane).count("and report back") == 1


@pytest.mark.parametrize("agent", ["claude-code", None])
def test_a_long_paste_shown_as_a_placeholder_is_typed_and_submitted_once(server, agent):
    pane, out = server.chat_pane("claude", "--collapse", "3")
    receipt = deliver(pane, server, MULTI, agent=agent, submit={"ready_after": 0})
    assert receipt.verdict == SUBMITTED, receipt.detail
    assert "paste placeholder seen" in receipt.detail
    assert submissions(out, server, pane) == [MULTI]


def test_program_asking_for_bracketed_paste_gets_one_paste_then_one_submit_key(server):
    pane, raw = server.program("recorder.py", "tui")
    text = "line one\nline two é\n\nlast"
    receipt = deliver(pane, server, text)
    assert (receipt.verdict, receipt.evidence) == (SUBMITTED, "prompt returned empty"), receipt.detail
    wait_until(raw.exists)
    pasted = text.replace("\n", "\r").encode("utf-8")
    assert raw.read_bytes() == b"\x1b[200~" + pasted + b"\x1b[201~\r"


def test_urgent_messages_use_the_urgent_submit_key(server):
    pane, raw = server.program("recorder.py", "urgent")
    transport = TmuxDelivery(pane, socket=server.name, urgent_submit_key="C-j")
    receipt = transport.deliver(request("now please", priority="urgent"), threading.Event())
    assert receipt.verdict == SUBMITTED
    wait_until(raw.exists)
    assert raw.read_bytes() == b"\x1b[200~now please\x1b[201~\n"


# -- nothing reached the input: never submitted --------------------------------------------------


def test_a_paste_never_seen_is_not_retried_and_a_resend_by_hand_submits_once(server):
    pane, out = server.chat_pane("deaf", "--deaf", "2")
    with pytest.raises(PermanentError, match="not pasted again") as raised:
        deliver(pane, server, "hello agent", submit={"typed_within": 0.5})
    assert not raised.value.retryable  # it was pasted: it may still show up, so no automatic retry
    wait_until(lambda: server.prompt_shown(pane))
    assert submissions(out, server, pane) == []
    receipt = deliver(pane, server, "hello agent")  # the captain's own resend
    assert receipt.verdict == SUBMITTED, receipt.detail
    assert submissions(out, server, pane) == ["hello agent"]


def test_a_readiness_wait_lets_a_deaf_program_start_first(server):
    pane, out = server.chat_pane("patient", "--deaf", "1.5")
    receipt = deliver(pane, server, "hello agent", submit={"ready_after": 2.0})
    assert receipt.verdict == SUBMITTED, receipt.detail
    assert submissions(out, server, pane) == ["hello agent"]


def test_a_pane_that_shows_nothing_gets_no_submit_key_and_no_second_paste(server):
    pane, got = server.program("sink.py", "sink")
    with pytest.raises(PermanentError, match="not pasted again") as raised:
        deliver(pane, server, "anyone there?", submit={"typed_within": 0.4})
    assert not raised.value.retryable
    assert got.read_bytes().count(b"anyone there?") == 1  # it did arrive, unseen: a retry would double it
    assert not got.read_bytes().endswith(b"\r"), "the submit key was pressed for an unseen paste"


def test_text_already_on_screen_is_not_mistaken_for_arrival(server):
    pane, got = server.program("sink.py", "shown", "--show", "continue")
    wait_until(lambda: "continue" in server.shows(pane))
    receipt = deliver(pane, server, "continue", submit={"typed_within": 0.4})
    assert receipt.verdict == UNVERIFIED
    assert "already in the pane" in receipt.evidence
    assert b"\r" not in got.read_bytes(), "the submit key was pressed for an unseen paste"


def test_text_that_never_shows_up_is_sent_once_and_reported_unverified(server):
    out = server.tmp / "silent.out"
    pane = server.pane(f"sh -c 'stty -echo; exec cat > {shlex.quote(str(out))}'")
    wait_until(lambda: "-echo" in _stty(server, pane).split())  # the flag itself, not -echonl or -echoprt
    receipt = deliver(pane, server, "invisible", submit={"submitted_within": 0.2})
    assert receipt.verdict == UNVERIFIED
    assert "echo is off" in receipt.evidence or "no new line showed" in receipt.evidence, receipt.evidence
    wait_until(file_holds(out, b"invisible\n"))


def _stty(server: Server, pane: str) -> str:
    tty = server.tmux("display-message", "-p", "-t", pane, "#{pane_tty}")
    with open(tty) as handle:
        return subprocess.run(["stty", "-a"], stdin=handle, capture_output=True, text=True).stdout


# -- stop-all ------------------------------------------------------------------------------------


class StopOnFirstWait(threading.Event):
    """A stop event that is set the moment the transport first waits."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return True


def test_stop_while_confirming_returns_an_unverified_receipt(server):
    pane = server.pane("sh -c 'stty -echo; exec cat > /dev/null'")
    wait_until(lambda: "-echo" in _stty(server, pane).split())  # the flag itself, not -echonl or -echoprt
    receipt = deliver(pane, server, "quiet", StopOnFirstWait(), submit={"submitted_within": 30})
    assert receipt.verdict == UNVERIFIED
    assert "stop" in receipt.evidence


def test_stop_while_waiting_for_the_program_to_start_sends_nothing(server):
    pane, out = server.chat_pane("starting")
    with pytest.raises(Cancelled, match="stopped"):
        deliver(pane, server, "never", StopOnFirstWait(), submit={"ready_after": 60})
    assert "never" not in server.shows(pane)
    assert submitted(out) == []


def test_stop_before_sending_sends_nothing(server):
    pane, _out = server.cat_pane("stopped")
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled, match="stopped"):
        TmuxDelivery(pane, socket=server.name).deliver(request("never"), stop)
    assert "never" not in server.tmux("capture-pane", "-p", "-t", pane)


# -- panes and servers that are not there --------------------------------------------------------


@pytest.mark.parametrize("target", ["nosuch", "swarm:9", "swarm:0.7", "%999"])
def test_missing_pane_or_session_is_permanent_with_tmux_message(server, target):
    server.cat_pane("present")
    transport = TmuxDelivery(target, socket=server.name)
    with pytest.raises(PermanentError, match="can't find"):
        transport.deliver(request("hello"), threading.Event())
    assert "can't find" in (transport.check() or "")


def test_dead_pane_is_permanent_and_the_server_survives(server):
    live, _ = server.cat_pane("live")
    server.tmux("set-option", "-g", "remain-on-exit", "on")
    dead = server.pane("true")
    wait_until(lambda: server.tmux("display-message", "-p", "-t", dead, "#{pane_dead}") == "1")
    transport = TmuxDelivery(dead, socket=server.name)
    assert "exited" in (transport.check() or "")
    with pytest.raises(PermanentError, match="exited"):
        transport.deliver(request("anyone there?"), threading.Event())
    assert live in server.tmux("list-panes", "-a", "-F", "#{pane_id}")
    assert "qd-" not in server.tmux("list-buffers", "-F", "#{buffer_name}")


def test_a_pane_in_copy_mode_is_not_typed_and_gets_nothing(server):
    pane, _out = server.chat_pane("scrolled")
    server.tmux("copy-mode", "-t", pane)
    with pytest.raises(NotTyped, match="copy mode"):
        deliver(pane, server, "hello")
    server.tmux("send-keys", "-t", pane, "-X", "cancel")
    assert "hello" not in server.shows(pane)


def test_no_server_on_the_socket_is_permanent(tmp_path):
    transport = TmuxDelivery("swarm", socket=f"qd-test-absent-{uuid.uuid4().hex[:8]}")
    assert transport.check() is not None
    with pytest.raises(PermanentError):
        transport.deliver(request("hello"), threading.Event())


def test_socket_path_selects_the_server(tmp_path):
    sock = tmp_path / "tmux.sock"
    out = tmp_path / "bypath.out"
    subprocess.run(
        ["tmux", "-S", str(sock), "new-session", "-d", "-s", "s", f"cat > {shlex.quote(str(out))}"],
        check=True, timeout=10,
    )
    try:
        transport = TmuxDelivery("s", socket=str(sock))
        assert transport.check() is None
        assert transport.deliver(request("via -S"), threading.Event()).verdict == SUBMITTED
        wait_until(file_holds(out, b"via -S\n"))
    finally:
        subprocess.run(["tmux", "-S", str(sock), "kill-server"], capture_output=True, timeout=10)


def test_missing_tmux_binary_is_permanent():
    transport = TmuxDelivery("swarm", tmux_binary=f"tmux-missing-{uuid.uuid4().hex[:8]}")
    with pytest.raises(PermanentError, match="not installed"):
        transport.deliver(request("hello"), threading.Event())
    assert "not installed" in (transport.check() or "")


def test_empty_message_is_refused(server):
    pane, _ = server.cat_pane("empty")
    with pytest.raises(PermanentError, match="empty"):
        TmuxDelivery(pane, socket=server.name).deliver(request(" \n\t"), threading.Event())


def test_healthy_pane_checks_clean(server):
    pane, _ = server.cat_pane("healthy")
    assert TmuxDelivery(pane, socket=server.name).check() is None
    assert TmuxDelivery("swarm", socket=server.name).check() is None


def test_needle_is_the_last_lines_with_whitespace_collapsed():
    assert tail_needle("a\nb\n\n  c\td  \ne   \n\n") == "b c d e"
    assert tail_needle("x" * 500) == "x" * 300


# -- when typing begins, and what a pane lost after the paste means -------------------------------


def test_typing_is_marked_right_before_the_paste_and_never_when_nothing_is_typed(server):
    pane, out = server.cat_pane("marked")
    marks: list[bytes | None] = []

    def typing() -> None:  # what the pane's program had received when typing was declared begun
        marks.append(out.read_bytes() if out.exists() else None)

    transport = TmuxDelivery(pane, socket=server.name)
    assert transport.marks_typing
    transport.deliver(request("first line\nsecond line", typing=typing), threading.Event())
    assert marks == [b""] or marks == [None], marks
    wait_until(file_holds(out, b"first line\nsecond line\n"))

    scrolled, _ = server.chat_pane("scrolled-mark")
    server.tmux("copy-mode", "-t", scrolled)
    with pytest.raises(NotTyped):
        TmuxDelivery(scrolled, socket=server.name).deliver(request("hello", typing=typing), threading.Event())
    assert len(marks) == 1, "nothing was typed into a pane in copy mode: the delivery never began"


def test_a_pane_killed_after_the_paste_may_have_received_it(server):
    server.cat_pane("keeps-the-server")
    out = server.tmp / "raw.out"
    script = ("import sys, tty; tty.setraw(0); out = open(sys.argv[1], 'ab', buffering=0)\n"
              "while True: out.write(sys.stdin.buffer.read1(4096))")
    pane = server.pane(" ".join(shlex.quote(a) for a in (sys.executable, "-c", script, str(out))))
    wait_until(out.exists)
    killer = threading.Thread(target=lambda: (wait_until(lambda: b"arrived" in out.read_bytes()),
                                              server.tmux("kill-pane", "-t", pane)))
    killer.start()
    with pytest.raises(MayHaveArrived, match=r"may have arrived|may have happened") as caught:
        TmuxDelivery(pane, socket=server.name).deliver(request("arrived, then the pane died"), threading.Event())
    killer.join(10)
    assert caught.value.uncertain and b"arrived, then the pane died" in out.read_bytes()


def test_the_pane_and_its_screen_read_in_one_command_are_what_two_reads_give(server):
    from quarterdeck.core.transports.tmux.client import TmuxClient

    pane, _ = server.cat_pane("one-read")
    server.tmux("send-keys", "-t", pane, "-l", "first row")
    server.tmux("send-keys", "-t", pane, "Enter")
    server.tmux("send-keys", "-t", pane, "-l", "typed, not sent")
    wait_until(lambda: "typed, not sent" in server.shows(pane))
    client = TmuxClient("swarm", server.name)  # a session name: tmux picks the pane
    info, history, screen = client.resolve_and_screen(50)
    assert info == client.resolve() and info.id == pane
    assert (history, screen) == client.screen(pane, 50)
    assert screen.rows[:2] == ("first row", "typed, not sent") and screen.cursor_y == 1
