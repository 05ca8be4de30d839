"""Transports: how a message reaches one agent, each ending in a verdict with its evidence.

``registry.transport_for`` builds the transport an agent's settings name: ``tmux`` (terminal
agents), ``gui`` (Chromium and Electron chat panes, by click and paste), ``inbox`` (a markdown file
in a folder) or ``dryrun`` (records, sends nothing).
"""
