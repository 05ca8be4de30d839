"""How many tmux commands a delivery runs, and what a merged one means when it fails
(core/transports/tmux/client.py).

The buffer is loaded and pasted in one tmux command, and the pane is read right before the first submit
key in the same command as the key. A real tmux server (its own socket) is watched through a wrapper
binary that logs each command before running it; the failure cases use a stand-in ``tmux`` that answers
as a failing server would.
"""
from __future__ import annotations

import shlex
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
from polling import wait_until

from quarterdeck.core.delivery.contract import DeliveryRequest
from quarterdeck.core.delivery.errors import SUBMITTED, MayHaveArrived, PermanentError, RetryableError
from quarterdeck.core.transports.tmux.client import TmuxClient
from quarterdeck.core.transports.tmux.transport import TmuxDelivery

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def server(tmp_path):
    """(socket name, pane running ``cat > OUT``, OUT, the logging tmux binary, its log)."""
    name = f"qd-cmds-{uuid.uuid4().hex[:12]}"
    out, log = tmp_path / "pane.out", tmp_path / "tmux.log"
    pane = subprocess.run(["tmux", "-L", name, "new-session", "-d", "-s", "s", "-x", "120", "-y", "20", "-P", "-F",
                           "#{pane_id}", f"cat > {shlex.quote(str(out))}"],
                          capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    logging_tmux = tmp_path / "tmux"
    logging_tmux.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> {shlex.quote(str(log))}\n"
                            f"exec {shlex.quote(shutil.which('tmux') or 'tmux')} \"$@\"\n", encoding="utf-8")
    logging_tmux.chmod(0o755)
    yield name, pane, out, logging_tmux, log
    subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, timeout=10, check=False)


def test_a_delivery_loads_and_pastes_in_one_command_and_reads_the_pane_with_the_key(server):
    name, pane, out, binary, log = server
    receipt = TmuxDelivery(pane, socket=name, tmux_binary=str(binary)).deliver(
        DeliveryRequest(agent_id="A", text="one command less"), threading.Event())
    assert receipt.verdict == SUBMITTED
    wait_until(lambda: out.exists() and out.read_bytes() == b"one command less\n")
    commands = log.read_text(encoding="utf-8").splitlines()
    loads = [c for c in commands if "load-buffer" in c]
    assert len(loads) == 1 and "paste-buffer" in loads[0]  # loaded and pasted in one tmux command
    keys = [c for c in commands if "send-keys" in c]
    assert len(keys) == 1 and keys[0].index("capture-pane") < keys[0].index("send-keys")
    assert not any("delete-buffer" in c for c in commands)
    # then: resolve and screen; load and paste; looks until the text shows; read and key; two looks at least
    key_at = commands.index(keys[0])
    assert commands.index(loads[0]) == 1 and key_at >= 3 and len(commands) >= key_at + 3


def test_the_screen_read_with_the_key_is_the_pane_right_before_it(server):
    name, pane, out, _binary, _log = server
    subprocess.run(["tmux", "-L", name, "send-keys", "-t", pane, "-l", "typed, not sent"], check=True, timeout=10)
    client = TmuxClient(pane, name)
    wait_until(lambda: "typed, not sent" in client.screen(pane)[1].rows[0])
    before = client.screen_and_press(pane, ("Enter",))
    assert before.rows[0] == "typed, not sent" and (before.cursor_x, before.cursor_y) == (15, 0)
    wait_until(lambda: client.screen(pane)[1].cursor_y == 1)  # the key ended the line
    wait_until(lambda: out.exists() and out.read_bytes() == b"typed, not sent\n")


def stand_in(tmp_path: Path, script: str) -> str:
    """A ``tmux`` that runs ``script`` (sh) for every command; each command line is logged to tmux.log."""
    path = tmp_path / "fake-tmux"
    path.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> {shlex.quote(str(tmp_path / 'tmux.log'))}\n{script}\n",
                    encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def test_a_buffer_that_was_not_loaded_is_a_plain_failure_nothing_was_pasted(tmp_path):
    # the list failed without the load's mark, and the server still answers: it stopped before the paste
    binary = stand_in(tmp_path, 'case "$1" in\n  display-message) echo qd; exit 0;;\nesac\n'
                                'cat > /dev/null; echo "out of memory" >&2; exit 1')
    with pytest.raises(RetryableError, match="tmux load-buffer on 'swarm': out of memory") as caught:
        TmuxClient("swarm", binary=binary).paste("%1", "hello")
    assert not isinstance(caught.value, MayHaveArrived)  # retried: the paste never ran


def test_a_server_that_went_away_during_the_list_may_have_pasted(tmp_path):
    # a crash loses the list's output, the load's mark with it: the paste may have run before it
    binary = stand_in(tmp_path, 'case "$1" in\n  display-message|delete-buffer) echo "no server running" >&2;'
                                ' exit 1;;\nesac\ncat > /dev/null; echo "server exited unexpectedly" >&2; exit 1')
    with pytest.raises(MayHaveArrived, match="may have happened"):
        TmuxClient("swarm", binary=binary).paste("%1", "hello")


def test_a_server_that_was_not_there_is_a_permanent_failure_nothing_was_pasted(tmp_path):
    binary = stand_in(tmp_path, 'cat > /dev/null; echo "no server running on /tmp/x" >&2; exit 1')
    with pytest.raises(PermanentError, match="no tmux server is running at /tmp/x") as caught:
        TmuxClient("swarm", binary=binary).paste("%1", "hello")
    assert not isinstance(caught.value, MayHaveArrived)


@pytest.mark.parametrize("said", ["error connecting to /tmp/tmux-0/default (No such file or directory)",
                                  "error connecting to /tmp/tmux-0/default (Connection refused)",
                                  "no server running on /tmp/tmux-0/default"])
def test_no_server_at_the_socket_is_said_in_a_line_with_what_to_do(tmp_path, said):
    binary = stand_in(tmp_path, f'echo "{said}" >&2; exit 1')
    with pytest.raises(PermanentError) as caught:
        TmuxClient("swarm:0.1", binary=binary).resolve()
    assert str(caught.value) == ("tmux on 'swarm:0.1': no tmux server is running at /tmp/tmux-0/default: start the "
                                 "agent's tmux session, or give the roster the socket it runs on")


def test_a_socket_it_may_not_open_is_said_as_tmux_says_it(tmp_path):
    binary = stand_in(tmp_path, 'echo "error connecting to /tmp/tmux-0/default (Permission denied)" >&2; exit 1')
    with pytest.raises(PermanentError) as caught:
        TmuxClient("swarm:0.1", binary=binary).resolve()
    assert str(caught.value) == ("tmux capture-pane on 'swarm:0.1': error connecting to /tmp/tmux-0/default "
                                 "(Permission denied)")


def test_a_paste_that_failed_after_the_load_with_the_buffer_gone_may_have_arrived(tmp_path):
    # the load's mark printed (the command's 8th argument), then the paste failed; delete-buffer finds nothing
    binary = stand_in(tmp_path, 'case "$1" in\n  delete-buffer) echo "no buffer" >&2; exit 1;;\nesac\n'
                                'cat > /dev/null; echo "$8"; echo "lost server" >&2; exit 1')
    with pytest.raises(MayHaveArrived, match="may have happened"):
        TmuxClient("swarm", binary=binary).paste("%1", "hello")


def test_a_paste_that_failed_with_its_buffer_still_there_typed_nothing(tmp_path):
    binary = stand_in(tmp_path, 'case "$1" in\n  delete-buffer) exit 0;;\nesac\n'
                                'cat > /dev/null; echo "$8"; echo "lost server" >&2; exit 1')
    with pytest.raises(RetryableError, match="tmux paste-buffer on 'swarm': lost server") as caught:
        TmuxClient("swarm", binary=binary).paste("%1", "hello")
    assert not isinstance(caught.value, MayHaveArrived)
    assert "delete-buffer" in (tmp_path / "tmux.log").read_text(encoding="utf-8")


def test_a_failed_read_and_key_is_permanent_the_text_is_in_the_input(tmp_path):
    binary = stand_in(tmp_path, 'echo "server busy" >&2; exit 1')
    with pytest.raises(PermanentError, match=r"pasted into tmux pane 'swarm' but not submitted: .*server busy"):
        TmuxClient("swarm", binary=binary).screen_and_press("%1", ("Enter",))


def test_a_pane_dead_before_the_key_is_permanent(tmp_path):
    binary = stand_in(tmp_path, 'for a in "$@"; do case "$a" in qd-*" #{cursor_x}"*) '
                                'mark="${a%% *}";; esac; done\nprintf "row\\n%s 3 0\\nqd-pane-dead\\n" "$mark"')
    with pytest.raises(PermanentError, match="exited after the paste, before the submit key"):
        TmuxClient("swarm", binary=binary).screen_and_press("%1", ("Enter",))
