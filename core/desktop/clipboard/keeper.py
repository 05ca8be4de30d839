"""Keeps the user's clipboard content alive after Quarterdeck lets it go, where xclip is missing.

On X11 the clipboard lives in its owner's process. After a delivery Quarterdeck serves the
user's saved content itself, then hands it to a process that outlives it: a detached xclip, or,
without xclip, this module run as ``python -m quarterdeck.core.desktop.clipboard.keeper TARGET`` with the bytes on
standard input (``TARGET`` is UTF8_STRING for text, else the format's name). Like xclip it forks
into the background: the process started prints ``owning`` and exits once its child owns the
clipboard, and the child exits as soon as anyone else takes it. ``hand_over`` starts it.
"""
from __future__ import annotations

import os
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from quarterdeck.core.desktop.clipboard.selection import SelectionOwner
    from quarterdeck.core.desktop.clipboard.snapshot import Snapshot
    from quarterdeck.core.desktop.clipboard.x11 import snapshot_contents

    args = sys.argv[1:] if argv is None else argv
    contents = snapshot_contents(Snapshot(args[0], sys.stdin.buffer.read()))
    ready_r, ready_w = os.pipe()
    if os.fork():  # the foreground half: report the background half's answer, then exit
        os.close(ready_w)
        with os.fdopen(ready_r, "rb") as ready:
            answer = ready.read()
        print(answer.decode(), end="", flush=True)
        return 0 if answer == b"owning\n" else 1
    os.close(ready_r)  # the background half (forked before any thread exists)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)  # never hold the caller's pipes
    owner = SelectionOwner()
    owned = owner.call(lambda: owner.own(contents))
    os.write(ready_w, b"owning\n" if owned else b"refused\n")
    os.close(ready_w)
    if not owned:
        owner.x.close()
        return 1
    with owner.cond:
        owner.cond.wait_for(lambda: contents.lost)
    owner.x.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
