"""Delivering to inbox agents in batches, beside the dispatcher (issue 14 "Speed")."""
from quarterdeck.core.batch.companion import InboxBatch, attach

__all__ = ["InboxBatch", "attach"]
