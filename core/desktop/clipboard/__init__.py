"""The clipboard GUI delivery pastes through, and gives back to the user afterwards.

``snapshot`` (what it held, errors), ``x11`` (the in-process owner), ``selection``/``convert``/
``icccm`` (the X11 selection protocol), ``xclip`` (the command-line fallback), ``backends`` (the
choice, and pyperclip off X11), ``handover``/``keeper`` (a process that keeps the user's content).
"""
