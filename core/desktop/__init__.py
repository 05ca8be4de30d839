"""The desktop Quarterdeck works on, with no knowledge of deliveries: monitors, windows, focus,
accessibility read-back and the X11 clipboard.

``screens`` (monitors), ``window_match`` (which window is an agent's, without the X server),
``focus``, ``atspi`` (reads an input back over the accessibility bus), ``x11`` (one X connection
and the window list) and ``clipboard`` (the clipboard owner and its backends).
"""
