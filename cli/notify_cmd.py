"""`quarterdeck notify`: the panel's desktop notifications, from the command line.

The same choices the panel's **Do not disturb** toggle and the roster's **Mute notifications**
make, kept in the panel's settings file (``quarterdeck-panel.conf``); a running panel reads them
within a few seconds. ``status`` also asks the session bus whether a notification service is
there; ``test`` shows one notification through it.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from quarterdeck.cli.common import EXIT_FAIL, EXIT_OK, CliError

ON_OFF = ("on", "off")
PROBE_S = 8.0  # at most this long for the bus to answer (the service may be started for us)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "desktop notifications: do not disturb, quiet hours, mute an agent, status"
    notify = sub.add_parser("notify", help=text, description=text)
    notify.set_defaults(func=cmd_status, json=False)
    notify_sub = notify.add_subparsers(dest="notify_command", metavar="COMMAND")

    status = notify_sub.add_parser("status", help="the choices, and whether a notification service answers")
    status.add_argument("--json", action="store_true", help="machine-readable")
    status.set_defaults(func=cmd_status)
    dnd = notify_sub.add_parser("dnd", help="do not disturb: no desktop notifications while on")
    dnd.add_argument("state", choices=(*ON_OFF, "status"), nargs="?", default="status")
    dnd.set_defaults(func=cmd_dnd)
    for name, func, help_text in (("mute", cmd_mute, "no desktop notifications from these agents"),
                                  ("unmute", cmd_unmute, "desktop notifications from these agents again")):
        parser = notify_sub.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("agents", nargs="+", metavar="AGENT")
        parser.add_argument("--roster", type=Path, metavar="PATH",
                            help="roster file the agents are checked against (default: agents.yaml in the "
                                 "user config dir)")
        parser.set_defaults(func=func)
    quiet = notify_sub.add_parser("quiet", help="quiet hours (local time): FROM-UNTIL, e.g. 22:00-07:00, or off")
    quiet.add_argument("span", metavar="FROM-UNTIL|off")
    quiet.set_defaults(func=cmd_quiet)
    for state, key in (("rate-limited", "NOTIFY_RATE_LIMITED"), ("stalled", "NOTIFY_STALLED")):
        parser = notify_sub.add_parser(state, help=f"whether a {state} agent is notified too (default off)")
        parser.add_argument("state", choices=ON_OFF)
        parser.set_defaults(func=cmd_switch, key=key)
    test = notify_sub.add_parser("test", help="show one notification now, through the session bus")
    test.set_defaults(func=cmd_test)


def _settings() -> Any:
    from quarterdeck.gui.settings import Settings

    return Settings()


def _prefs_dict(prefs: Any) -> dict[str, object]:
    return {"dnd": prefs.dnd, "quiet_hours": prefs.quiet_text(), "muted": sorted(prefs.muted),
            "rate_limited": prefs.rate_limited, "stalled": prefs.stalled}


@contextmanager
def _quiet_notifier() -> Iterator[None]:
    """The notifier's own log lines held back: the command prints the status itself."""
    logger = logging.getLogger("quarterdeck.core.activity.notify_dbus")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _probe() -> tuple[bool | None, str]:
    from quarterdeck.core.activity.notify_dbus import DesktopNotifications

    notifier = DesktopNotifications()
    try:
        notifier.probe()
        if not notifier.wait_idle(PROBE_S):
            return None, f"the session bus did not answer within {PROBE_S:g} s"
        return notifier.available, notifier.status
    finally:
        notifier.close(timeout=1.0)


def cmd_status(args: argparse.Namespace) -> int:
    settings = _settings()
    prefs = settings.notify_prefs()
    with _quiet_notifier():
        available, service = _probe()
    if args.json:
        print(json.dumps({**_prefs_dict(prefs), "service": service, "available": available,
                          "settings": settings.store.fileName()}, indent=2))
        return EXIT_OK
    print(f"do not disturb: {'on' if prefs.dnd else 'off'}")
    print(f"quiet hours:    {prefs.quiet_text()}")
    print(f"muted agents:   {', '.join(sorted(prefs.muted)) or 'none'}")
    also = [name for name, on in (("rate-limited", prefs.rate_limited), ("stalled", prefs.stalled)) if on]
    print(f"notified when:  {' or '.join(['needs you', *also])}")
    print(f"service:        {service}")
    return EXIT_OK


def cmd_dnd(args: argparse.Namespace) -> int:
    from quarterdeck.gui.settings import NOTIFY_DND

    settings = _settings()
    if args.state != "status":
        settings.set_notify(NOTIFY_DND, args.state == "on")
    print(f"do not disturb: {'on' if settings.notify_prefs().dnd else 'off'}")
    return EXIT_OK


def _check_agents(args: argparse.Namespace) -> None:
    """Refuse an id the roster does not have (when there is a roster to ask)."""
    from quarterdeck.cli.roster_args import read_roster, roster_if_any

    if roster_if_any(args) is None:
        return
    path, roster = read_roster(args)
    unknown = [a for a in args.agents if a not in roster]
    if unknown:
        known = ", ".join(roster.ids()) or "none"
        raise CliError(f"no agent {', '.join(unknown)} in the roster {path} (its agents: {known})")


def cmd_mute(args: argparse.Namespace) -> int:
    _check_agents(args)
    return _set_muted(args.agents, True)


def cmd_unmute(args: argparse.Namespace) -> int:
    return _set_muted(args.agents, False)


def _set_muted(agents: list[str], muted: bool) -> int:
    settings = _settings()
    for agent in agents:
        settings.set_muted(agent, muted)
    now = settings.notify_prefs().muted
    print(f"muted agents: {', '.join(sorted(now)) or 'none'}")
    return EXIT_OK


def cmd_quiet(args: argparse.Namespace) -> int:
    from quarterdeck.core.activity.notify_policy import parse_quiet_hours
    from quarterdeck.gui.settings import NOTIFY_QUIET

    span = args.span.strip()
    if span != "off":
        try:
            begin, until = parse_quiet_hours(span)
        except ValueError as exc:
            raise CliError(f"quiet hours: {exc}") from None
        span = f"{begin:%H:%M}-{until:%H:%M}"
    settings = _settings()
    settings.set_notify(NOTIFY_QUIET, "" if span == "off" else span)
    print(f"quiet hours: {settings.notify_prefs().quiet_text()}")
    return EXIT_OK


def cmd_switch(args: argparse.Namespace) -> int:
    from quarterdeck.gui import settings as panel_settings

    settings = _settings()
    settings.set_notify(getattr(panel_settings, args.key), args.state == "on")
    name = args.notify_command
    print(f"{name}: {'on' if getattr(settings.notify_prefs(), name.replace('-', '_')) else 'off'}")
    return EXIT_OK


def cmd_test(args: argparse.Namespace) -> int:
    from quarterdeck.core.activity.notify_dbus import DesktopNotifications

    with _quiet_notifier():
        notifier = DesktopNotifications()
        done = _show_test(notifier)
    if not done or not notifier.available:
        print(f"quarterdeck: {notifier.status if done else 'the session bus did not answer'}", file=sys.stderr)
        return EXIT_FAIL
    print(f"shown by {notifier.server}")
    return EXIT_OK


def _show_test(notifier: Any) -> bool:
    try:
        notifier.show("quarterdeck-test", "Quarterdeck", "Desktop notifications work: an agent that needs "
                      "you shows up like this.")
        return bool(notifier.wait_idle(PROBE_S))
    finally:
        notifier.close(timeout=1.0)
