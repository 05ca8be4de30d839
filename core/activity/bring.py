"""Bringing an agent to the front, for the captain: its window raised and focused, or its tmux
pane selected and shown.

``bring_forward(agent)`` does it and returns one line saying what was done; it raises
:class:`BringError` with one clear line when it cannot (no window bound, the window or pane is
gone, an agent reached through an inbox). :func:`bring` is the same with the parts a panel shows
apart (the ``tmux attach`` command to copy when no client shows the pane).

- A GUI agent: its window (``window:`` in the roster) is found, activated through the window
  manager (``_NET_ACTIVE_WINDOW``, a restack when that is ignored), and given the keyboard focus.
- A tmux agent: its window and pane are selected (``select-window``, ``select-pane``). When a tmux
  client is attached, the one used last is switched to the agent's session (``switch-client``)
  and the terminal window it runs in, when one is found by its process, is raised too. With no
  client attached the pane waits for one: the answer says so and gives ``tmux attach -t SESSION``.

Blocking (tmux commands, X requests): call it off the UI thread.
"""
from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from quarterdeck.core.delivery.errors import DeliveryError
from quarterdeck.core.desktop.window_match import Window, WindowError
from quarterdeck.core.models import Agent, GuiTransport, TmuxTransport
from quarterdeck.core.transports.gui.shared import find, raise_and_wait, shared_desk
from quarterdeck.core.transports.tmux.client import TmuxClient

if TYPE_CHECKING:
    from quarterdeck.core.desktop.x11.desk import Desk

__all__ = ["BringError", "Brought", "bring", "bring_forward"]

RAISE_WITHIN_S = 1.0
_PANE = "#{session_name}\t#{window_id}\t#{pane_id}\t#{window_index}\t#{pane_index}"
_CLIENT = "#{client_name}\t#{client_session}\t#{client_activity}\t#{client_pid}"
_KINDS = {"inbox": "an inbox folder", "dryrun": "a dry run"}


class BringError(Exception):
    """The agent could not be brought forward; the message is the one line to show."""


@dataclass(frozen=True)
class Brought:
    """What :func:`bring` did: ``text``, one line; ``attach``, the command that shows a tmux pane
    no client shows (None when a client shows it, and for windows)."""

    text: str
    attach: str | None = None


def bring_forward(agent: Agent, *, desk: Desk | None = None, tmux_binary: str = "tmux",
                  timeout: float = RAISE_WITHIN_S) -> str:
    """Bring ``agent`` to the front; one line saying what was done (see the module docstring)."""
    return bring(agent, desk=desk, tmux_binary=tmux_binary, timeout=timeout).text


def bring(agent: Agent, *, desk: Desk | None = None, tmux_binary: str = "tmux",
          timeout: float = RAISE_WITHIN_S) -> Brought:
    """:func:`bring_forward` with the ``tmux attach`` command apart."""
    transport = agent.transport
    if isinstance(transport, TmuxTransport):
        return _bring_pane(agent.id, transport.target, tmux_binary, desk)
    if isinstance(transport, GuiTransport):
        return Brought(_bring_window(agent.id, transport, desk, timeout))
    how = _KINDS.get(transport.kind, transport.kind)
    raise BringError(f"{agent.id} is reached through {how}: it has no window or pane to bring forward")


# -- windows -----------------------------------------------------------------------------------

def _bring_window(agent_id: str, transport: GuiTransport, desk: Desk | None, timeout: float) -> str:
    if transport.window is None:
        raise BringError(f"{agent_id} has a screen point but no window bound to it: bind its window "
                         "(Roster → Edit → Window) to bring it forward")
    try:
        desk = desk or shared_desk()
        window = find(transport.window, agent_id, desk)
        raised = raise_and_wait(window, timeout=timeout, desk=desk)
    except WindowError as exc:
        raise BringError(f"{agent_id}: {exc}") from exc
    if raised is None:
        raise BringError(f"{agent_id}'s window {window.describe()} did not come to the front "
                         f"within {timeout:g} s (closed, or kept below by the window manager)")
    _give_focus(desk, raised)
    return f"{agent_id}: window {raised.describe()} raised and focused"


def _give_focus(desk: Desk, window: Window) -> None:
    """Put the keyboard focus in ``window`` unless the window manager already did."""
    from Xlib import X

    with desk.lock:
        focus = desk.display.get_input_focus().focus
        current = getattr(focus, "id", focus)
        if current == window.id or _inside(desk, current, window.id):
            return
        desk.display.set_input_focus(desk.display.create_resource_object("window", window.id),
                                     X.RevertToParent, X.CurrentTime)
        desk.display.sync()


def _inside(desk: Desk, wid: int, ancestor: int) -> bool:
    window = desk.display.create_resource_object("window", wid) if wid else None
    for _ in range(16):
        if window is None or window.id in (0, desk.root.id):
            return False
        if window.id == ancestor:
            return True
        window = window.query_tree().parent
    return False


# -- tmux panes --------------------------------------------------------------------------------

def _bring_pane(agent_id: str, target: str, binary: str, desk: Desk | None) -> Brought:
    tmux = TmuxClient(target, binary=binary)
    try:
        # capture-pane refuses a target that does not exist (display-message would fall back)
        out = tmux.run("capture-pane", "-p", "-t", target, "-S", "0", "-E", "0", ";",
                       "display-message", "-p", "-t", target, _PANE)
        fields = out.rstrip("\n").rsplit("\n", 1)[-1].split("\t")
        if len(fields) != 5:
            raise BringError(f"{agent_id}: tmux did not describe the pane {target!r}: {fields!r}")
        session, window, pane, window_index, pane_index = fields
        tmux.run("select-window", "-t", window)
        tmux.run("select-pane", "-t", pane)
        clients = [line.split("\t") for line in tmux.run("list-clients", "-F", _CLIENT).splitlines() if line]
    except DeliveryError as exc:
        raise BringError(f"{agent_id}'s tmux pane {target} cannot be selected: {exc}") from exc
    where = f"tmux pane {pane} ({session}:{window_index}.{pane_index})"
    clients = [c for c in clients if len(c) == 4]
    if not clients:
        attach = f"tmux attach -t {shlex.quote(session)}"
        return Brought(f"{agent_id}: {where} selected; no tmux client is attached: run {attach}", attach)
    showing = [c for c in clients if c[1] == session]
    name, _session, _activity, pid = max(showing or clients, key=lambda c: int(c[2]) if c[2].isdigit() else 0)
    try:
        if not showing:
            tmux.run("switch-client", "-c", name, "-t", pane)
    except DeliveryError as exc:
        raise BringError(f"{agent_id}: {where} selected, but the client {name} did not switch to it: {exc}") from exc
    raised = _raise_terminal(int(pid) if pid.isdigit() else 0, desk)
    shown = f"shown in the client {name}" + (f" ({raised})" if raised else "")
    return Brought(f"{agent_id}: {where} selected, {shown}")


def _ancestors(pid: int, depth: int = 12) -> list[int]:
    """``pid`` and its parents, from /proc (empty where there is no /proc)."""
    found = []
    for _ in range(depth):
        if pid <= 1:
            break
        found.append(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def _raise_terminal(client_pid: int, desk: Desk | None) -> str:
    """Raise the terminal window the tmux client runs in; what was raised, or '' (best effort:
    no display, no window found, or one the window manager keeps below)."""
    pids = _ancestors(client_pid)
    if not pids or not os.environ.get("DISPLAY"):
        return ""
    try:
        desk = desk or shared_desk()
        for pid in pids:
            windows = [w for w in desk.windows() if w.pid == pid]
            if windows:
                raised = raise_and_wait(windows[-1], timeout=RAISE_WITHIN_S, desk=desk)
                if raised is None:
                    return ""
                _give_focus(desk, raised)
                return f"its terminal {raised.describe()} raised"
    except WindowError:
        return ""
    return ""
