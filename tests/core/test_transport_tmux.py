"""TmuxDelivery against a real tmux server on a private socket, with real programs in the panes."""
from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from core.delivery.base import Cancelled, DeliveryRequest, PermanentError
from core.delivery.tmux import TmuxDelivery, tail_needle

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

NASTY = (
    "Hello é 你好 🚀\n"
    "$HOME `whoami` $(id) \"double\" 'single' \\backslash ; | & > < * ? ~ #\n"
    "\n"
    "\ttabbed line and trailing spaces   \n"
    "last line: done.  "
)

# A stand-in for an agent TUI: asks for bracketed paste, records the raw bytes it receives up to
# the first byte after the paste, then shows the pasted text on screen the way a chat pane would.
RECORDER = r"""
import os, sys, tty
out, ready = sys.argv[1], sys.argv[2]
fd = sys.stdin.fileno()
tty.setraw(fd)
os.write(1, b"\x1b[?2004h")
open(ready, "w").close()
buf = b""
while not (b"\x1b[201~" in buf and not buf.endswith(b"\x1b[201~")):
    buf += os.read(fd, 4096)
with open(out, "wb") as f:
    f.write(buf)
body = buf[buf.index(b"\x1b[200~") + 6 : buf.index(b"\x1b[201~")]
os.write(1, b"\r\n" + body.replace(b"\r", b"\r\n") + b"\r\n")
os.read(fd, 1)
"""


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
        """Start ``command`` in a new pane and return the pane id."""
        if not self.started:
            self.started = True
            return self.tmux(
                "new-session", "-d", "-s", "swarm", "-x", str(width), "-y", "50",
                "-P", "-F", "#{pane_id}", command,
            )
        pane = self.tmux("split-window", "-v", "-t", "swarm", "-P", "-F", "#{pane_id}", command)
        self.tmux("select-layout", "-t", "swarm", "even-vertical")
        return pane

    def cat_pane(self, name: str) -> tuple[str, Path]:
        out = self.tmp / f"{name}.out"
        return self.pane(f"cat > {shlex.quote(str(out))}"), out

    def recorder_pane(self, name: str) -> tuple[str, Path]:
        script = self.tmp / "recorder.py"
        script.write_text(RECORDER, encoding="utf-8")
        out, ready = self.tmp / f"{name}.raw", self.tmp / f"{name}.ready"
        args = " ".join(shlex.quote(str(p)) for p in (sys.executable, script, out, ready))
        pane = self.pane(args)
        wait_until(ready.exists)
        return pane, out

    def kill(self) -> None:
        if not self.started:
            return
        sock = self.tmux("display-message", "-p", "#{socket_path}")
        subprocess.run(["tmux", "-L", self.name, "kill-server"], capture_output=True, timeout=10)
        Path(sock).unlink(missing_ok=True)


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def file_holds(path: Path, expected: bytes):
    def check() -> bool:
        return path.exists() and path.read_bytes() == expected

    return check


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path)
    yield srv
    srv.kill()


def request(text: str, **kw) -> DeliveryRequest:
    return DeliveryRequest(agent_id=kw.pop("agent_id", "Agent-1"), text=text, **kw)


def test_multiline_unicode_and_metacharacters_arrive_byte_for_byte(server):
    pane, out = server.cat_pane("agent1")
    receipt = TmuxDelivery(pane, socket=server.name).deliver(request(NASTY), threading.Event())
    assert receipt.transport == "tmux"
    assert receipt.confirmed, receipt.detail
    wait_until(file_holds(out, NASTY.encode("utf-8") + b"\n"))


def test_each_agent_pane_gets_only_its_own_message(server):
    panes = {f"Agent-{i}": server.cat_pane(f"agent{i}") for i in range(1, 4)}
    for agent, (pane, _) in panes.items():
        text = f"for {agent} only\nsecond line é"
        receipt = TmuxDelivery(pane, socket=server.name).deliver(
            request(text, agent_id=agent), threading.Event()
        )
        assert receipt.confirmed
    for agent, (_, out) in panes.items():
        wait_until(file_holds(out, f"for {agent} only\nsecond line é\n".encode()))


def test_program_asking_for_bracketed_paste_gets_one_paste_then_the_submit_key(server):
    pane, raw = server.recorder_pane("tui")
    text = "line one\nline two é\n\nlast"
    receipt = TmuxDelivery(pane, socket=server.name).deliver(request(text), threading.Event())
    assert receipt.confirmed, receipt.detail
    wait_until(raw.exists)
    pasted = text.replace("\n", "\r").encode("utf-8")
    assert raw.read_bytes() == b"\x1b[200~" + pasted + b"\x1b[201~\r"


def test_urgent_messages_use_the_urgent_submit_key(server):
    pane, raw = server.recorder_pane("urgent")
    transport = TmuxDelivery(pane, socket=server.name, urgent_submit_key="C-j")
    receipt = transport.deliver(request("now please", priority="urgent"), threading.Event())
    assert receipt.confirmed
    wait_until(raw.exists)
    assert raw.read_bytes() == b"\x1b[200~now please\x1b[201~\n"


def test_the_same_text_twice_is_confirmed_twice(server):
    pane, out = server.cat_pane("again")
    transport = TmuxDelivery(pane, socket=server.name)
    for _ in range(2):
        assert transport.deliver(request("continue"), threading.Event()).confirmed
    wait_until(file_holds(out, b"continue\ncontinue\n"))


def test_text_already_on_screen_is_not_mistaken_for_arrival(server):
    pane = server.pane("sh -c 'echo continue; stty -echo; exec cat > /dev/null'")
    wait_until(lambda: "-echo" in _stty(server, pane))
    wait_until(lambda: "continue" in server.tmux("capture-pane", "-p", "-t", pane))
    transport = TmuxDelivery(pane, socket=server.name, confirm_timeout=0.3)
    receipt = transport.deliver(request("continue"), threading.Event())
    assert not receipt.confirmed
    assert "already in the pane" in receipt.detail


def test_long_lines_that_wrap_in_a_narrow_pane_are_still_found(server):
    pane = server.pane(f"cat > {shlex.quote(str(server.tmp / 'narrow.out'))}", width=30)
    text = "start " + "wrapped-words " * 20 + "end"
    receipt = TmuxDelivery(pane, socket=server.name).deliver(request(text), threading.Event())
    assert receipt.confirmed, receipt.detail
    wait_until(file_holds(server.tmp / "narrow.out", text.encode() + b"\n"))


def test_text_that_never_shows_up_is_sent_once_and_reported_unconfirmed(server):
    out = server.tmp / "silent.out"
    pane = server.pane(f"sh -c 'stty -echo; exec cat > {shlex.quote(str(out))}'")
    transport = TmuxDelivery(pane, socket=server.name, confirm_timeout=0.3)
    wait_until(lambda: "-echo" in _stty(server, pane))
    receipt = transport.deliver(request("invisible"), threading.Event())
    assert not receipt.confirmed
    assert "not seen in pane" in receipt.detail
    wait_until(file_holds(out, b"invisible\n"))


def _stty(server: Server, pane: str) -> str:
    tty = server.tmux("display-message", "-p", "-t", pane, "#{pane_tty}")
    with open(tty) as handle:
        return subprocess.run(["stty", "-a"], stdin=handle, capture_output=True, text=True).stdout


class StopOnFirstWait(threading.Event):
    """A stop event that is set the moment the transport starts waiting for confirmation."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return True


def test_stop_while_confirming_returns_an_unconfirmed_receipt(server):
    pane = server.pane("sh -c 'stty -echo; exec cat > /dev/null'")
    wait_until(lambda: "-echo" in _stty(server, pane))
    receipt = TmuxDelivery(pane, socket=server.name, confirm_timeout=30).deliver(
        request("quiet"), StopOnFirstWait()
    )
    assert not receipt.confirmed
    assert "stopped" in receipt.detail


def test_stop_before_sending_sends_nothing(server):
    pane, out = server.cat_pane("stopped")
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled, match="stopped"):
        TmuxDelivery(pane, socket=server.name).deliver(request("never"), stop)
    assert "never" not in server.tmux("capture-pane", "-p", "-t", pane)


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
        assert transport.deliver(request("via -S"), threading.Event()).confirmed
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
