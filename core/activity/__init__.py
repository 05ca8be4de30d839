"""What the agents are doing (working, idle, needs-you, rate-limited, stalled, offline, unknown),
from their own hooks and from watching their panes and windows.

``events`` is the normalized event, ``parse`` reads each tool's hook JSON into one, ``record``
stores it from inside the hook (quickly, never failing: a spool file when the database is busy
or missing), ``journal`` reads them back (taking in the spool), ``state`` / ``seen`` /
``combine`` / ``tracks`` reduce them to each agent's activity and ``hook`` is one hook call from
input to reply. ``watch`` holds the pane and window watchers and the service that runs them;
``install`` writes the hook into each tool's settings, ``confirm`` upgrades deliveries the hooks
confirm, ``bring`` brings an agent forward, ``notify_*`` puts up desktop notifications.

Importing this package stays cheap (standard library only): the hook process pays for it.
``journal`` imports the store and is imported on its own.
"""
from quarterdeck.core.activity.events import KINDS, SOURCES, ActivityEvent
from quarterdeck.core.activity.state import STATES, Activity, waiting
from quarterdeck.core.activity.tracks import reduce

__all__ = ["KINDS", "SOURCES", "STATES", "Activity", "ActivityEvent", "reduce", "waiting"]
