"""Queue one message through a session and deliver until each of its recipients has an outcome.

The path every command that sends takes (``quarterdeck send``, ``quarterdeck contracts send``):
the session's rules refuse a bad message before it is stored, the outbox records it, and this
process's dispatcher delivers it while the progress of each recipient is printed. The dispatcher
claims only this command's own deliveries (and orphans of dead processes), and the wait ends
when the outbox records an outcome for each of them, whichever process typed it: the panel,
``quarterdeck serve`` or another command on the same outbox. A stop-all (from this process or
any other) ends the wait early; recipients left without an outcome event are reported as the
outbox records them (cancelled, normally). SIGTERM or Ctrl+C hands back what was claimed but
not typed and raises ``Interrupted`` naming what is left queued.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from quarterdeck.cli.common import CliError
from quarterdeck.cli.send_lines import ENDED, Deadline, event_dict, final_note, print_pending, report_progress
from quarterdeck.cli.send_lines import print_final as _print_final
from quarterdeck.core.dispatch.signals import Interrupted, Interruptible

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
    from quarterdeck.core.models import Message
    from quarterdeck.core.session import Session
    from quarterdeck.core.store import DeliveryRow

__all__ = ["ENDED", "as_recorded", "event_dict", "final_note", "report_progress", "submit_and_wait"]


def submit_and_wait(session: Session, message: Message, *, captain_last: bool = False, quiet: bool = False,
                    when_idle: float | None = None, deadline: Deadline | None = None) -> list[DeliveryEvent]:
    """The final DeliveryEvent of each recipient, in delivery order; a refusal is a CliError.

    ``quiet`` (for ``--json``) prints nothing; otherwise one line per outcome goes to stdout and
    each retry, and why a when-idle delivery (``when_idle``: seconds it may wait) waits, to stderr.
    At ``deadline`` the wait ends (``deadline.hit``) once this process is not typing (a delivery being
    typed, its retries too, is finished first): one without an outcome then is given as its row stands
    (queued, waiting, sending), and one line on stderr says what goes on without this command.
    """
    from quarterdeck.core.compose.submit import SubmitRefused, UnknownRecipient

    session.dispatcher.stop_watch.rebase()  # a stop recorded before this send does not concern it
    session.dispatcher.own_only = True  # another process's deliveries are its own business
    try:
        submission = session.submit(message, captain_last=captain_last, when_idle=when_idle)
    except SubmitRefused as exc:
        for v in exc.report.violations:
            print(f"  {v.severity:<7} {v.rule_id}: {v.message}", file=sys.stderr)
        raise CliError(str(exc)) from exc
    except UnknownRecipient as exc:
        raise CliError(str(exc)) from exc
    finals: dict[int, DeliveryEvent] = {}
    mine = set(submission.delivery_ids)

    def progress(event: DeliveryEvent) -> None:
        if event.delivery_id in mine:
            report_progress(event, finals, quiet=quiet)

    def done() -> bool:  # outcomes another process recorded count as much as our own events
        waiting = mine - set(finals)
        for delivery_id, state in session.store.states_of(waiting).items():
            if state in ENDED:
                report_progress(as_recorded(session.store.delivery(delivery_id)), finals, quiet=quiet)
        return len(finals) == len(mine)

    session.dispatcher.add_listener(progress)
    with Interruptible(session.dispatcher) as interrupted:
        session.dispatcher.run(until=lambda: done() or (deadline is not None and deadline.reached()), idle_wait=0.05)
    if deadline is not None and deadline.hit and not interrupted.signal:
        return _timed_out(session, submission.delivery_ids, finals, deadline, quiet=quiet)
    left = []
    for delivery_id in submission.delivery_ids:  # a stop-all or a signal ended the run early
        if delivery_id not in finals:
            row = session.store.delivery(delivery_id)
            if str(row.state) in ("queued", "waiting") and interrupted.signal:
                left.append(row)
                continue
            finals[delivery_id] = as_recorded(row)
            if not quiet:
                _print_final(finals[delivery_id])
    if interrupted.signal:
        if not quiet or left:
            names = ", ".join(row.agent_id for row in left)
            print(f"quarterdeck: {interrupted.signal}: stopped delivering; "
                  + (f"{len(left)} left queued ({names}) for the panel, `quarterdeck serve` or the next "
                     "send" if left else "nothing left queued"), file=sys.stderr)
        raise Interrupted(interrupted.signal, left)
    return [finals[i] for i in submission.delivery_ids]


def _timed_out(session: Session, ids: Sequence[int], finals: dict[int, DeliveryEvent], deadline: Deadline, *,
               quiet: bool) -> list[DeliveryEvent]:
    """What ``submit_and_wait`` gives when its time ran out: each delivery's outcome, or its row as it
    stands (one that ended meanwhile is an outcome: if every one did, the time did not run out)."""
    rows = {i: session.store.delivery(i) for i in ids if i not in finals}
    for row in [row for row in rows.values() if str(row.state) in ENDED]:
        report_progress(as_recorded(row), finals, quiet=quiet)
        del rows[row.id]
    deadline.hit = bool(rows)
    if rows:
        print(f"quarterdeck: no outcome within {deadline.said} for {len(rows)} of {len(ids)} deliveries "
              f"({'; '.join(_pending(row) for row in rows.values())}); they go on without this command: a queued "
              "one with the panel, `quarterdeck serve` or the next send, and a relayed one's outcome is recorded "
              "when one of those reads its receipt (`quarterdeck history` shows each once recorded)", file=sys.stderr)
    results = [finals[i] if i in finals else as_recorded(rows[i]) for i in ids]
    if not quiet:
        for result in results:
            if result.delivery_id in rows:
                print_pending(result)
    return results


def _pending(row: DeliveryRow) -> str:
    return f"{row.agent_id}: {row.state}" + (f" · {row.reason}" if row.reason else "")


def as_recorded(row: DeliveryRow) -> DeliveryEvent:
    """The final ``DeliveryEvent`` a delivery's stored row stands for (whoever recorded it)."""
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent

    return DeliveryEvent(row.id, row.message_id, row.agent_id, str(row.state), attempt=row.attempts,
                         detail=row.reason or "", verdict=row.verdict, evidence=row.evidence or "",
                         latency=None if row.latency_ms is None else row.latency_ms / 1000.0)
