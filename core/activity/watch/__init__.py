"""Watching agents where their own hooks are silent: tmux panes and GUI windows.

Each watcher's ``sample(now)`` returns the ``seen_*`` events of the agents whose seen state
changed since its previous sample; :mod:`quarterdeck.core.activity.watch.service` runs them on
a schedule and records what they return.
"""
