"""The Contracts panel: tasks the captain hands to agents (core.contracts), in a table with actions."""
