"""What the agents are doing, from their own hooks: working, idle, needs-you, unknown.

``events`` is the normalized event, ``parse`` reads each tool's hook JSON into one, ``record``
stores it from inside the hook (quickly, never failing: a spool file when the database is busy
or missing), ``journal`` reads them back (taking in the spool), ``state`` reduces them to each
agent's activity and ``hook`` is one hook call from input to reply.

Importing this package stays cheap (standard library only): the hook process pays for it.
``journal`` imports the store and is imported on its own.
"""
from quarterdeck.core.activity.events import KINDS, SOURCES, ActivityEvent
from quarterdeck.core.activity.state import STATES, Activity, waiting
from quarterdeck.core.activity.tracks import reduce

__all__ = ["KINDS", "SOURCES", "STATES", "Activity", "ActivityEvent", "reduce", "waiting"]
