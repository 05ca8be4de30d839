"""The captain's view of the agents' activity: the live feed, its look in the roster, and the
Attention panel (who waits for the captain, and bringing that agent to the front)."""
