"""`quarterdeck onboard`: wrap up agents' current chats and onboard them into new ones.

For each agent (captains last): the wrap-up template to its current chat, then its new-chat keys
and the onboarding template at its onboarding point. Everything is rendered and checked first
(an unknown placeholder names file:line:column and nothing is queued); then the command queues
the run in the outbox, delivers it in-process and waits for every outcome, like ``send``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quarterdeck.cli.agents_cmd import read_roster
from quarterdeck.cli.common import EXIT_FAIL, EXIT_OK, CliError, command_log, log_delivery
from quarterdeck.cli.submit_wait import ENDED, as_recorded, event_dict, final_note
from quarterdeck.core.onboarding import STEPS, STYLES

if TYPE_CHECKING:
    from quarterdeck.core.dispatch.dispatcher import DeliveryEvent
    from quarterdeck.core.onboarding import OnboardingProgress, Plan
    from quarterdeck.core.session import Session

DESCRIPTION = (
    "For each agent, in order: the wrap-up message to its current chat, then its new-chat keys, "
    "then the onboarding template at its onboarding point. Agents whose role is captain go last. "
    "Templates: wrap-up.md and onboarding-<style>.md in your templates folder, else the bundled "
    "ones; placeholders {agent_id}, {role}, {contract}.")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    onboard = sub.add_parser("onboard", help="wrap up agents' chats and onboard them into new chats",
                             description=DESCRIPTION)
    onboard.add_argument("agents", nargs="*", metavar="AGENT", help="agents to onboard (or --all)")
    onboard.add_argument("--all", action="store_true", help="every enabled agent on the roster")
    onboard.add_argument("--style", choices=STYLES, default="friendly",
                         help="which onboarding template (default friendly)")
    onboard.add_argument("--urgent", action="store_true",
                         help="send both messages urgent: the agents' urgent submit keys, ahead of normal mail")
    onboard.add_argument("--sender", default="Captain")
    onboard.add_argument("--templates", type=Path, metavar="DIR",
                         help="your templates folder (default: templates/ in the user config dir)")
    onboard.add_argument("--stagger", type=float, default=0.05,
                         help="at least this many seconds between the starts of two agents' deliveries (default 0.05)")
    onboard.add_argument("--dry-run", action="store_true", help="print each agent's two texts; send nothing")
    onboard.add_argument("--roster", type=Path, metavar="PATH", help="agents.yaml (default: user config dir)")
    onboard.add_argument("--data-dir", type=Path, metavar="DIR", help="where the outbox lives")
    onboard.add_argument("--json", action="store_true", help="machine-readable output")
    onboard.set_defaults(func=cmd_onboard)


def cmd_onboard(args: argparse.Namespace) -> int:
    from quarterdeck.core.onboarding import OnboardingError, build_plan, store_contracts
    from quarterdeck.core.session import Session
    from quarterdeck.core.store import default_db_path
    from quarterdeck.core.transports.dryrun import throwaway_outbox

    if bool(args.agents) == bool(args.all):
        raise CliError("name the agents to onboard, or give --all (not both)")
    _, roster = read_roster(args)
    # a dry run checks against the real rules but queues into a throw-away outbox
    with throwaway_outbox(args.dry_run, args.data_dir) as data_dir:
        session = Session.open(config_file=args.config, roster=roster, data_dir=data_dir, stagger=args.stagger)
        try:
            plan = build_plan(session.roster, None if args.all else args.agents, style=args.style,
                              urgent=args.urgent, sender=args.sender, validator=session.validator,
                              contract_for=store_contracts(default_db_path(args.data_dir)),
                              user_dir=args.templates)
        except OnboardingError as exc:
            session.close()
            raise CliError(f"{exc}\nNothing was queued.") from exc
        if args.dry_run:
            session.close()
            return _print_plan(plan, args.json)
        try:
            with command_log(args):  # quarterdeck.log: the run and each delivery's outcome
                session.dispatcher.add_listener(log_delivery)
                return _run(session, plan, args.json)
        finally:
            session.close()


def _print_plan(plan: Plan, as_json: bool) -> int:
    if as_json:
        print(json.dumps({**plan.to_json(), "dry_run": True}, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(f"Onboarding {', '.join(plan.agent_ids)} ({plan.style}, {plan.priority} priority; captains last)")
    print(f"templates: {plan.wrapup_template.path}, {plan.onboarding_template.path}")
    for note in plan.notes:
        print(f"note: {note}")
    for step in plan.steps:
        wrapup, onboarding = step.texts()
        print(f"\n=== {step.agent_id} ({step.role or 'no role'}, {step.transport}; not sent)")
        print(f"--- 1. wrap-up, to the current chat\n{wrapup}")
        print(f"--- 2. new chat, then the onboarding\n{onboarding}")
    return EXIT_OK


def _run(session: Session, plan: Plan, as_json: bool) -> int:
    from quarterdeck.core.dispatch.signals import Interrupted, Interruptible
    from quarterdeck.core.onboarding import OnboardingProgress, gate_for, queue_plan

    progress = OnboardingProgress()
    progress.start(plan)

    def heard(event: DeliveryEvent) -> None:
        if progress.event(event) is None or as_json:
            return
        agent_id, step = progress.where(event.message_id) or (event.agent_id, "?")
        if event.state == "retrying":
            print(f"{agent_id:<16} {step:<10} retrying   attempt {event.attempt} failed: {event.detail}",
                  file=sys.stderr)
        elif event.state in ("delivered", "failed", "cancelled", "uncertain", "paused"):
            took = f"{event.latency:.2f}s" if event.latency is not None else "-"
            print(f"{agent_id:<16} {step:<10} {event.outcome:<20} {took:>7}  {final_note(event)}".rstrip())

    session.dispatcher.add_listener(heard)  # before the gate's: a failed wrap-up prints before the cancel
    gate = gate_for(session.dispatcher, session.store)
    gate.add_listener(heard)
    session.dispatcher.stop_watch.rebase()  # a stop recorded before this run does not concern it
    session.dispatcher.own_only = True  # another process's deliveries are its own business
    queued = queue_plan(session, plan, gate)
    progress.queued(queued)
    if not as_json:
        for (agent_id, step), why in queued.not_queued.items():
            print(f"{agent_id:<16} {step:<10} {why}")
    ended: set[int] = set()
    session.dispatcher.add_listener(lambda e: ended.add(e.delivery_id) if e.state in ENDED else None)

    def done() -> bool:  # outcomes another process on the outbox recorded count too
        for delivery_id, state in session.store.states_of(set(queued.delivery_ids) - ended).items():
            if state in ENDED:
                ended.add(delivery_id)
                event = as_recorded(session.store.delivery(delivery_id))
                heard(event)
                gate(event)  # a wrap-up that did not land cancels its onboarding, as on this thread
        return progress.finished or progress.paused

    with Interruptible(session.dispatcher) as interrupted:
        session.dispatcher.run(until=done, idle_wait=0.05)
    if interrupted.signal:  # what was not typed is queued again; the gate queues no further step
        left = [row for row in (session.store.delivery(i) for i in queued.delivery_ids) if str(row.state) == "queued"]
        print(f"quarterdeck: {interrupted.signal}: stopped onboarding; {len(left)} left queued"
              + (f" ({', '.join(row.agent_id for row in left)})" if left else ""), file=sys.stderr)
        raise Interrupted(interrupted.signal, left)
    if session.dispatcher.stopped:
        progress.stopped()  # a stop-all (here or in another process) cancelled what was still queued
    if progress.paused and not as_json:
        print("GUI delivery paused: someone is using the mouse. The rest stays queued for the panel "
              "or the next command (see `quarterdeck status`).", file=sys.stderr)
    if as_json:
        print(json.dumps(_results(plan, progress), indent=2, ensure_ascii=False))
    else:
        print(progress.summary())
    return EXIT_OK if progress.succeeded else EXIT_FAIL


def _results(plan: Plan, progress: OnboardingProgress) -> dict[str, Any]:
    agents = []
    for step in plan.steps:
        entry: dict[str, Any] = {"agent": step.agent_id, "role": step.role}
        for name in STEPS:
            row = progress.row(step.agent_id, name)
            entry[name] = event_dict(row) if row is not None else {
                "agent": step.agent_id, "state": progress.state(step.agent_id, name),
                "detail": progress.text(step.agent_id, name)}
        agents.append(entry)
    return {"style": plan.style, "priority": plan.priority, "ok": progress.succeeded, "agents": agents}
