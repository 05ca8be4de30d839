"""The Dead letters panel: events the integration API could not handle, listed, replayed, purged."""
