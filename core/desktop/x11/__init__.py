"""X11 without a toolkit: a private connection on its own thread, the window list (EWMH), XInput2
and text in window properties."""
