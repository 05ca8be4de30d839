"""The Roster panel: the agents, how each is reached, and what is happening to it right now."""
