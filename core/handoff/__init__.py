"""The hand-off: a ``quarterdeck send`` gives its message to a Quarterdeck already running on the same data
folder (``quarterdeck serve``) over a Unix socket in that folder, instead of loading the whole delivery
machinery itself (issue 15: a send to a tmux agent within 250 ms end to end).

:mod:`.wire` is what both sides speak (stdlib only, so the sending command stays light); :mod:`.server`
is the running process's listener.
"""
