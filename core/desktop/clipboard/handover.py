"""Hands the user's saved clipboard content to a keeper process that outlives Quarterdeck.

``hand_over`` starts ``python -m quarterdeck.core.desktop.clipboard.keeper TARGET`` with the bytes on
standard input and returns once the keeper's background half owns the clipboard.
"""
from __future__ import annotations

import subprocess
import sys
from typing import IO

from quarterdeck.core.desktop.clipboard.snapshot import ClipboardError

__all__ = ["hand_over"]


def hand_over(target: str, data: bytes, *, timeout: float = 10.0) -> None:
    """Start a keeper holding ``data`` as ``target``; return once it owns the clipboard."""
    proc = subprocess.Popen([sys.executable, "-m", "quarterdeck.core.desktop.clipboard.keeper", target],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(data)
        proc.stdin.close()
        line = _read_line(proc.stdout, timeout)
    except (OSError, TimeoutError) as exc:
        proc.kill()
        proc.wait()
        raise ClipboardError(f"the clipboard keeper did not start: {exc}") from exc
    finally:
        proc.stdout.close()
    try:
        code = proc.wait(timeout)  # the foreground half exits once the background one owns it
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.wait()
        raise ClipboardError("the clipboard keeper did not go to the background") from exc
    if line != b"owning\n" or code != 0:
        raise ClipboardError(f"the clipboard keeper could not take the clipboard (exit {code})")


def _read_line(stream: IO[bytes], timeout: float) -> bytes:
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise TimeoutError(f"no answer within {timeout:g} s")
    return stream.readline()
