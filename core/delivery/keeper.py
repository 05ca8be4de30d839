"""Keeps the user's clipboard content alive after Quarterdeck lets it go, where xclip is missing.

On X11 the clipboard lives in its owner's process. After a delivery Quarterdeck serves the
user's saved content itself, then hands it to a process that outlives it: a detached xclip, or,
without xclip, this module run as ``python -m core.delivery.keeper TARGET`` with the bytes on
standard input (``TARGET`` is UTF8_STRING for text, else the format's name). It prints ``owning``
once it owns the clipboard and exits as soon as anyone else takes it. ``hand_over`` starts it.
"""
from __future__ import annotations

import os
import subprocess
import sys
from typing import IO

__all__ = ["hand_over", "main"]


def hand_over(target: str, data: bytes, *, timeout: float = 10.0) -> subprocess.Popen:
    """Start a keeper holding ``data`` as ``target``; return once it owns the clipboard."""
    from core.delivery.clipboard import ClipboardError

    proc = subprocess.Popen([sys.executable, "-m", "core.delivery.keeper", target], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(data)
        proc.stdin.close()
        line = _read_line(proc.stdout, timeout)
    except (OSError, TimeoutError) as exc:
        proc.kill()
        raise ClipboardError(f"the clipboard keeper did not start: {exc}") from exc
    finally:
        proc.stdout.close()
    if line != b"owning\n":
        raise ClipboardError(f"the clipboard keeper could not take the clipboard (exit {proc.poll()})")
    return proc


def _read_line(stream: IO[bytes], timeout: float) -> bytes:
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise TimeoutError(f"no answer within {timeout:g} s")
    return stream.readline()


def main(argv: list[str] | None = None) -> int:
    from core.delivery.clipboard import Snapshot
    from core.delivery.xclipboard import snapshot_contents
    from core.delivery.xselection import SelectionOwner

    args = sys.argv[1:] if argv is None else argv
    contents = snapshot_contents(Snapshot(args[0], sys.stdin.buffer.read()))
    owner = SelectionOwner()
    if not owner.call(lambda: owner.own(contents)):
        return 1
    print("owning", flush=True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the caller stops listening: never write into its pipe
    with owner.cond:
        owner.cond.wait_for(lambda: contents.lost)
    owner.x.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
