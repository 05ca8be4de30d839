"""``quarterdeck send``'s hand-off, once a running Quarterdeck took the message: print each step it streams
back as the in-process path prints it (:mod:`quarterdeck.cli.send_lines`) and end with the same exit code
(:mod:`quarterdeck.cli.handoff_client` finds the server and hands the message over)."""
from __future__ import annotations

import json
import signal
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any

from quarterdeck.cli.common import EXIT_FAIL, EXIT_OK, EXIT_STORAGE, EXIT_TIMEOUT
from quarterdeck.cli.send_lines import Deadline, event_dict, pending_line, print_pending, report_progress
from quarterdeck.core.handoff.wire import Lines

ACCEPT_WAIT_S = 60.0  # once the message is sent: queueing it may wait for a busy outbox
DRAIN_S, DRAIN_READ_S = 0.5, 0.05  # send --timeout: the steps on their way when it passes are read first


class Fallback(Exception):
    """The server passed the send back before queueing it (the reason is for the debug line): the command
    does the work itself."""


@dataclass(frozen=True)
class WireStep:
    """One step of one delivery as the server streamed it (the attributes ``send_lines`` prints)."""

    delivery_id: int
    agent_id: str
    state: str
    attempt: int
    detail: str
    latency: float | None
    verdict: str | None
    evidence: str
    outcome: str
    confirmed: bool

    @classmethod
    def of(cls, f: dict[str, Any]) -> WireStep:
        return cls(int(f["delivery_id"]), str(f["agent"]), str(f["state"]), int(f.get("attempt") or 0),
                   str(f.get("detail") or ""), f.get("latency"), f.get("verdict"), str(f.get("evidence") or ""),
                   str(f.get("outcome") or f["state"]), bool(f.get("confirmed")))


def follow(lines: Lines, sock: socket.socket, hello: dict[str, Any], *, quiet: bool,
           deadline: Deadline | None = None, first: str = "queued") -> int:
    """The send's exit code, once the server's answer and every step it streams are printed (or at
    ``deadline``: ``EXIT_TIMEOUT``, each delivery as its last step left it, or as it was queued:
    ``first``); ``Fallback`` when it passed the send back before queueing it."""
    who = f"{hello.get('who') or 'the Quarterdeck on this data folder'} (pid {hello.get('pid')})"
    sock.settimeout(ACCEPT_WAIT_S if deadline is None else max(0.001, min(ACCEPT_WAIT_S, deadline.left())))
    try:
        answer = lines.next()
    except TimeoutError as exc:
        answer = {"lost": str(exc)}
        if deadline is not None and deadline.reached():
            print(f"quarterdeck: {who} did not take the send within {deadline.said}; the message may be queued: "
                  "'quarterdeck status' shows each delivery", file=sys.stderr)
            if quiet:
                print(json.dumps({"message_id": None, "results": [], "timed_out": True}, indent=2))
            return EXIT_TIMEOUT
    except (OSError, ValueError) as exc:
        answer = {"lost": str(exc)}
    if answer is None or "lost" in answer:
        print(f"quarterdeck: {who} did not answer the send; the message may be queued: "
              "'quarterdeck status' shows each delivery", file=sys.stderr)
        return EXIT_FAIL
    if "fallback" in answer:
        raise Fallback(str(answer["fallback"]))
    if "error" in answer:
        error = answer["error"]
        for line in error.get("lines", []):
            print(line, file=sys.stderr)
        return EXIT_STORAGE.get(error.get("fault") or "", int(error.get("exit") or EXIT_FAIL))
    accepted = answer["accepted"]
    deliveries = [(int(i), str(agent)) for i, agent in accepted["deliveries"]]
    finals: dict[int, WireStep] = {}
    last: dict[int, WireStep] = {}  # each delivery's latest step
    sock.settimeout(None)
    ended = _steps(lines, sock, deliveries, finals, last, who, quiet=quiet, deadline=deadline)
    if ended is not None and ended != EXIT_TIMEOUT:
        return ended
    results = [finals.get(i) or last.get(i) or WireStep(i, agent, first, 0, "", None, None, "", first, False)
               for i, agent in deliveries]
    if quiet:
        print(json.dumps({"message_id": accepted["message_id"], "results": [event_dict(e) for e in results],
                          "timed_out": ended is not None}, indent=2))
    elif ended is not None:
        for result in results:
            if result.delivery_id not in finals:
                print_pending(result)
    if ended is not None:
        return ended
    return EXIT_OK if all(e.state == "delivered" for e in results) else EXIT_FAIL


def _steps(lines: Lines, sock: socket.socket, deliveries: list[tuple[int, str]], finals: dict[int, WireStep],
           last: dict[int, WireStep], who: str, *, quiet: bool, deadline: Deadline | None) -> int | None:
    """Print each step until every delivery has an outcome (None), or the exit code of an early end
    (``EXIT_TIMEOUT`` once ``deadline`` is reached)."""
    heard: list[str] = []

    def term(number: int, _frame: object) -> None:
        heard.append(signal.Signals(number).name)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, term) if hasattr(signal, "SIGTERM") else None
    try:
        while len(finals) < len(deliveries):
            try:
                if deadline is not None:  # once it passed, the steps already on their way, for at most DRAIN_S
                    if time.monotonic() > deadline.at + DRAIN_S:
                        raise TimeoutError
                    sock.settimeout(max(0.001, deadline.left()) if not deadline.reached() else DRAIN_READ_S)
                line = lines.next()
            except TimeoutError:
                if deadline is None:
                    raise
                deadline.hit = True
                _left(deliveries, finals, f"no outcome within {deadline.said}",
                      f"go on with {who}, which delivers them: `quarterdeck history` shows each outcome once "
                      "recorded")
                return EXIT_TIMEOUT
            if line is None or "closing" in line:
                why = (line or {}).get("closing") or "the connection ended"
                _left(deliveries, finals, f"{who} stopped before every outcome ({why})", "stay queued for the "
                      "panel, `quarterdeck serve` or the next send")
                return EXIT_FAIL
            if "event" in line:
                step = WireStep.of(line["event"])
                last[step.delivery_id] = step
                report_progress(step, finals, quiet=quiet)
    except KeyboardInterrupt:
        name = heard[0] if heard else "SIGINT"
        _left(deliveries, finals, f"{name}: stopped waiting", f"stay with {who}, which delivers them")
        raise
    except (OSError, ValueError) as exc:
        _left(deliveries, finals, f"lost {who} ({exc})", "stay queued for the panel, `quarterdeck serve` or "
              "the next send")
        return EXIT_FAIL
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return None


def _left(deliveries: list[tuple[int, str]], finals: dict[int, WireStep], what: str, where: str) -> None:
    print(pending_line(what, [agent for i, agent in deliveries if i not in finals], where), file=sys.stderr)
