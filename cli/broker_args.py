"""The broker as a command finds it (``--broker URL``, else ``broker_url`` in the configuration),
and the stop-all / resume-all that commands pass on to the relays."""
from __future__ import annotations

import argparse
import sys


def broker_url(args: argparse.Namespace) -> str | None:
    """The broker's URL for this command, or None (no broker: this machine only); a malformed URL
    is a ``ConfigError`` (its line shows the URL without its password)."""
    from quarterdeck.core.config import load_config

    given = getattr(args, "broker", None)
    loaded = load_config(config_file=getattr(args, "config", None),
                         overrides={"broker_url": given} if given else None)
    return loaded.config.broker_url


def tell_relays(args: argparse.Namespace, kind: str, generation: int, *, quiet: bool) -> None:
    """XADD ``kind`` (stop | resume) to ``qd:control`` when a broker is configured; a broker that cannot
    be reached is logged as a warning (this machine's stop stands)."""
    url = broker_url(args)
    if url is None:
        return
    from quarterdeck.core.transports.broker import BrokerLink, publish_control

    link = BrokerLink(url)
    try:
        why = publish_control(link, kind, generation)
    finally:
        link.close()
    if why is None and not quiet:  # a failure is logged (one warning line on stderr) by publish_control
        print(f"{kind} sent to every relay through {link.where}")
    elif why is not None:
        print(f"quarterdeck: the relays keep {'delivering' if kind == 'stop' else 'halted'} until a panel or "
              f"`quarterdeck serve` on this outbox tells them once the broker answers, or you run "
              f"`quarterdeck {kind}` again then", file=sys.stderr)
