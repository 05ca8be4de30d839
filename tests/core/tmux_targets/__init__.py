"""Small programs run in real tmux panes by ``tests/core/test_transport_tmux.py``."""
