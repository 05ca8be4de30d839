"""An input box that records its raw bytes: Usage: recorder.py OUT READY.

It asks for bracketed paste, shows the pasted text once the paste ends (as a chat input would),
then takes the next byte as the submit key, writes every byte received so far to OUT, and shows
an empty prompt again as a chat input does once it has sent its text.
"""
from __future__ import annotations

import os
import sys
import tty


def main() -> None:
    out, ready = sys.argv[1], sys.argv[2]
    fd = sys.stdin.fileno()
    tty.setraw(fd)
    os.write(1, b"\x1b[?2004h> ")
    open(ready, "w").close()
    buf = b""
    while b"\x1b[201~" not in buf:
        buf += os.read(fd, 4096)
    body = buf[buf.index(b"\x1b[200~") + 6: buf.index(b"\x1b[201~")]
    os.write(1, body.replace(b"\r", b"\r\n"))
    while buf.endswith(b"\x1b[201~"):
        buf += os.read(fd, 4096)
    with open(out, "wb") as handle:
        handle.write(buf)
    os.write(1, b"\r\n> ")
    os.read(fd, 1)


if __name__ == "__main__":
    main()
