"""Deliver into a tmux pane: paste the text once, see it in the input, press submit, see it leave.

The text goes through a uniquely named paste buffer (``load-buffer`` from stdin, then
``paste-buffer -d -p``), so nothing in it is read as a key name and newlines stay newlines. With
``-p`` tmux wraps the paste in bracketed-paste markers whenever the program in the pane asked for
them (bash/readline, prompt_toolkit, most agent TUIs), so embedded newlines are inserted as text
and only the separate submit key sends the message. A program that never asks for bracketed paste
(``cat``, a plain ``read`` loop) receives each newline as a line ending, as from a terminal paste.

In an agent's terminal UI the text shows in the pane as soon as it sits in the input box, whether
or not the submit key takes effect, so seeing it proves only that it was typed:

1. Typed: the message's last lines show in the pane (wrapped lines joined, the last 1000 lines of
   history) more often than before the paste, or end right at the cursor, or the agent's
   placeholder for a long paste appears. The window only moves forward, so an old copy can scroll
   out of it but never into it. Nothing within the profile's bound: ``uncertain`` (the submit key
   is not pressed, and the text, which may yet show up, is never pasted again). So is any failure
   after tmux took the paste (the pane killed, tmux gone): the text may have arrived.
2. Submitted: after the profile's pause the submit key is pressed on its own and the input is read
   back (:mod:`quarterdeck.core.transports.tmux.verdict`) until it no longer ends with the message. While the
   message stays there the key is pressed again, up to the profile's count; then
   ``TypedNotSubmitted`` (permanent: the text is never pasted a second time).
3. What tmux cannot tell ends in an ``unverified`` receipt saying why: the same text was already on
   screen, the terminal does not echo, the cursor is not at the message, stop-all.

How long to wait and how often to press is per agent kind (:mod:`quarterdeck.core.transports.tmux.profiles`).
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from typing import Any

from quarterdeck.core.delivery.contract import UNVERIFIED, DeliveryRequest, Receipt
from quarterdeck.core.delivery.errors import (
    Cancelled,
    DeliveryError,
    MayHaveArrived,
    NotTyped,
    PermanentError,
    RetryableError,
    TypedNotSubmitted,
)
from quarterdeck.core.transports.tmux.client import TmuxClient
from quarterdeck.core.transports.tmux.profiles import PLACEHOLDERS, SubmitProfile, detect_kind, profile_for
from quarterdeck.core.transports.tmux.submit import Typed, blind, submit
from quarterdeck.core.transports.tmux.tty import LineMode, line_mode, program_age
from quarterdeck.core.transports.tmux.verdict import compact, haystack, read_input, tail_needle

__all__ = ["TmuxDelivery", "tail_needle"]

_HISTORY_DEPTH = 1000
_POLL = 0.05


class TmuxDelivery:
    """Paste-and-submit into one tmux pane, judged by reading the pane back.

    ``target`` is any tmux target (``session``, ``session:window.pane``, ``%3``). ``socket`` selects
    the server: a bare name is passed as ``-L name``, anything containing ``/`` as ``-S path``.
    ``submit_key`` (and ``urgent_submit_key`` for urgent messages, defaulting to ``submit_key``) are
    tmux key names, space-separated for a sequence such as ``"Escape Enter"``. ``agent`` names the
    kind of program in the pane (a key of ``PROFILES``; None: told by the pane's command, else
    ``plain``) and ``submit`` overrides numbers of its profile (``{"pause": 0.8}``).
    """

    kind = "tmux"
    marks_typing = True  # request.typing() right before the paste

    def __init__(
        self,
        target: str,
        *,
        socket: str | None = None,
        submit_key: str = "Enter",
        urgent_submit_key: str | None = None,
        agent: str | None = None,
        submit: Mapping[str, Any] | None = None,
        tmux_binary: str = "tmux",
    ) -> None:
        if not target:
            raise ValueError("tmux target must not be empty")
        self.target = target
        self.socket = socket
        self.submit_keys = tuple(submit_key.split())
        self.urgent_submit_keys = tuple((urgent_submit_key or submit_key).split())
        if not self.submit_keys or not self.urgent_submit_keys:
            raise ValueError("a tmux submit key must not be empty")
        self.agent = agent
        self.submit = dict(submit or {})
        profile_for(agent, self.submit)  # reject unknown kinds and settings now, not mid-delivery
        self.tmux = TmuxClient(target, socket, tmux_binary)

    def __repr__(self) -> str:
        where = f", socket={self.socket!r}" if self.socket else ""
        agent = f", agent={self.agent!r}" if self.agent else ""
        return f"TmuxDelivery({self.target!r}{where}{agent})"

    def profile(self, command: str = "") -> SubmitProfile:
        """The submit profile for the pane: the configured kind, else the one its command names."""
        return profile_for(self.agent or detect_kind(command), self.submit)

    # -- Transport ---------------------------------------------------------------------------

    def check(self) -> str | None:
        try:
            pane = self.tmux.resolve()
        except (PermanentError, RetryableError) as exc:
            return str(exc)
        if pane.dead:
            return f"tmux pane {self.target!r} has exited"
        return None

    def deliver(self, request: DeliveryRequest, stop: threading.Event) -> Receipt:
        if not request.text.strip():
            raise PermanentError("refusing to deliver an empty message")
        if stop.is_set():
            raise Cancelled("stopped before sending")
        depth = _HISTORY_DEPTH + request.text.count("\n")
        pane, history, screen = self.tmux.resolve_and_screen(depth)
        if pane.dead:
            raise PermanentError(f"tmux pane {self.target!r} has exited")
        profile = self.profile(pane.command)
        where = f"tmux pane {self.target}" + (f" ({pane.id})" if pane.id != self.target else "")
        if pane.in_mode:
            raise NotTyped(f"{where} is in copy mode: keys would go to tmux, not the program; "
                           "nothing was pasted", evidence="pane in copy mode")
        if pane.input_off:
            raise NotTyped(f"input to {where} is turned off; nothing was pasted", evidence="pane input off")
        if profile.ready_after:
            age = program_age(pane.pid)
            if age is not None and age < profile.ready_after:
                if stop.wait(profile.ready_after - age):
                    raise Cancelled("stopped before sending (waiting for the pane's program to start)")
                history, screen = self.tmux.screen(pane.id, depth)  # as the program shows it now

        needle = tail_needle(request.text)
        marker = compact(needle)
        placeholders = [re.compile(p) for p in dict.fromkeys((*profile.placeholders, *PLACEHOLDERS))]
        mode = line_mode(pane.tty)
        canonical = bool(mode and mode.canonical)
        if read_input(screen, marker).right_at_cursor:
            raise TypedNotSubmitted(
                f"the same text already sits unsubmitted in the input of {where}; not pasting it a "
                "second time: submit or clear it by hand", evidence="same text already in the input")
        before = (haystack(history).count(needle), [len(p.findall(history)) for p in placeholders])
        keys = self.urgent_submit_keys if request.priority == "urgent" else self.submit_keys
        if request.typing is not None:
            request.typing()  # the delivery counts as started from here, not from the checks above
        started = time.monotonic()
        self.tmux.paste(pane.id, request.text)
        try:
            return self._after_paste(pane.id, where, request, keys, profile, mode, canonical, depth,
                                     needle, placeholders, before, started, stop)
        except (TypedNotSubmitted, MayHaveArrived):
            raise
        except DeliveryError as exc:  # the pane went away, or tmux failed, after it took the paste
            raise MayHaveArrived(
                f"pasted into {where}, then: {exc}; the text may have arrived, so it is not pasted "
                "again: look at the pane", evidence="tmux took the paste; the pane could not be read after") from exc

    def _after_paste(self, pane: str, where: str, request: DeliveryRequest, keys: tuple[str, ...],
                     profile: SubmitProfile, mode: LineMode | None, canonical: bool, depth: int, needle: str,
                     placeholders: list[re.Pattern[str]], before: tuple[int, list[int]], started: float,
                     stop: threading.Event) -> Receipt:
        """Steps 1 to 3 once tmux took the paste: every failure from here on may follow an arrival."""
        if canonical and mode and not mode.echo:
            return blind(self, pane, where, keys, profile, stop)
        typed = self._await_typed(pane, depth, needle, placeholders, before, profile, started, stop)
        if isinstance(typed, Receipt):
            return typed
        if typed is None:  # pasted, but never seen: it may still show up, so it is never pasted again
            raise MayHaveArrived(
                f"pasted into {where}, but nothing showed within {profile.typed_within:g} s "
                f"({profile.kind} profile); the submit key was not pressed and the text is not pasted "
                "again: look at the pane", evidence="pasted; nothing showed in the pane")
        seen = f"{typed.what} {typed.seconds:.2f} s after the paste"
        if (profile.pause and stop.wait(profile.pause)) or stop.is_set():
            raise TypedNotSubmitted(
                f"stopped after the text reached the input of {where}; the submit key was not "
                "pressed, so the message sits there unsubmitted", evidence="stopped before the submit key")
        return submit(self, pane, where, keys, profile, typed, seen, canonical, stop)

    # -- the steps ---------------------------------------------------------------------------

    def _await_typed(
        self, pane: str, depth: int, needle: str, placeholders: list[re.Pattern[str]],
        before: tuple[int, list[int]], profile: SubmitProfile, started: float, stop: threading.Event,
    ) -> Typed | Receipt | None:
        """How the pasted text showed up, an unverified receipt when that cannot be told, or None
        when nothing showed within the profile's bound."""
        marker = compact(needle)
        deadline = started + profile.typed_within
        while True:
            history, screen = self.tmux.screen(pane, depth)
            elapsed = time.monotonic() - started
            if haystack(history).count(needle) > before[0]:
                return Typed(marker, elapsed, "text seen in the pane")
            if read_input(screen, marker).right_at_cursor:
                return Typed(marker, elapsed, "text seen at the cursor")
            for pattern, count in zip(placeholders, before[1], strict=True):
                found = pattern.findall(history)
                if len(found) > count:
                    return Typed(compact(found[-1]), elapsed, "paste placeholder seen")
            if stop.is_set():
                return Receipt(self.kind, UNVERIFIED, "stopped before the text was seen",
                               "pasted; stop-all came before the text showed in the pane, so the "
                               "submit key was not pressed")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            stop.wait(min(_POLL, remaining))
        if before[0]:
            return Receipt(self.kind, UNVERIFIED, "the same text was already in the pane",
                           "pasted; the same text was already in the pane and no new copy showed, so "
                           "its arrival could not be told apart; the submit key was not pressed")
        return None
