"""A pane that takes every byte and shows none: raw terminal, bracketed paste on, nothing echoed.

Usage: sink.py OUT READY [--show TEXT]. Every byte received is appended to OUT as it arrives, so
a test can tell exactly what reached the program (a paste, a submit key). ``--show`` prints TEXT
first, so the pane already holds a copy of the message before anything is sent.
"""
from __future__ import annotations

import os
import sys
import tty


def main() -> None:
    out, ready = sys.argv[1], sys.argv[2]
    show = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--show" else ""
    fd = sys.stdin.fileno()
    tty.setraw(fd)
    os.write(1, b"\x1b[?2004h" + show.encode() + b"\r\n")
    open(out, "wb").close()
    open(ready, "w").close()
    while data := os.read(fd, 4096):
        with open(out, "ab") as handle:
            handle.write(data)


if __name__ == "__main__":
    main()
