"""The Contracts panel: tasks the captain hands to agents (quarterdeck.core.contracts), in a table with actions."""
