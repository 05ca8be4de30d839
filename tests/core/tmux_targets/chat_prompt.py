"""A stand-in for an agent's chat input: a prompt_toolkit ``PromptSession`` in a tmux pane.

Each submitted input is appended to OUT as one JSON string per line, so the test sees exactly what
was submitted and how often. READY is created once the prompt is drawn (for ``--deaf`` as soon as
the program starts, since that is when a hasty sender would paste).

Quirks, as agent CLIs have them:
  --enter-guard MS   ignore an Enter that arrives within MS ms of a paste (Codex CLI's paste burst)
  --guard-newline    ... and insert a newline for it instead, as Codex CLI does
  --deaf SECONDS     read and throw away all input for the first SECONDS after start
  --never-submit     Enter does nothing at all
  --reply            print a line of output after each submission, as an agent would
  --collapse LINES   show a paste of LINES lines or more as "[Pasted text #N +L lines]", as
                     Claude Code does, and expand it again on submit
"""
from __future__ import annotations

import argparse
import json
import os
import select
import sys
import termios
import time
import tty


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("ready")
    parser.add_argument("--enter-guard", type=float, default=0.0)
    parser.add_argument("--guard-newline", action="store_true")
    parser.add_argument("--deaf", type=float, default=0.0)
    parser.add_argument("--never-submit", action="store_true")
    parser.add_argument("--reply", action="store_true")
    parser.add_argument("--collapse", type=int, default=0)
    args = parser.parse_args()
    if args.deaf:
        deaf(args.deaf, args.ready)
    chat(args)


def deaf(seconds: float, ready: str) -> None:
    """Like a TUI still starting up: the terminal is raw and asks for bracketed paste, but every
    byte that arrives is dropped."""
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    os.write(1, b"\x1b[?2004hstarting up...")
    open(ready, "w").close()
    until = time.monotonic() + seconds
    try:
        while (left := until - time.monotonic()) > 0:
            if select.select([fd], [], [], left)[0]:
                os.read(fd, 65536)
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)
        os.write(1, b"\r\n")


def chat(args: argparse.Namespace) -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.keys import Keys

    bindings = KeyBindings()
    last_paste = [float("-inf")]
    pasted: dict[str, str] = {}
    pastes = [0]

    @bindings.add(Keys.BracketedPaste, eager=True)
    def _paste(event) -> None:
        last_paste[0] = time.monotonic()
        text = event.data.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.count("\n") + 1
        if args.collapse and lines >= args.collapse:
            pastes[0] += 1
            label = f"[Pasted text #{pastes[0]} +{lines} lines]"
            pasted[label] = text
            text = label
        event.current_buffer.insert_text(text)

    @bindings.add("enter", eager=True)
    def _enter(event) -> None:
        if args.never_submit:
            return
        if (time.monotonic() - last_paste[0]) * 1000.0 < args.enter_guard:
            if args.guard_newline:
                event.current_buffer.insert_text("\n")
            return
        event.current_buffer.validate_and_handle()

    session: PromptSession[str] = PromptSession("> ", key_bindings=bindings)

    def drawn(_app) -> None:
        if not os.path.exists(args.ready):
            open(args.ready, "w").close()

    session.app.after_render += drawn
    count = 0
    while True:
        try:
            line = session.prompt()
        except (EOFError, KeyboardInterrupt):
            return
        for label, text in pasted.items():
            line = line.replace(label, text)
        pasted.clear()
        with open(args.out, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
        count += 1
        if args.reply:
            print(f"agent: got message {count}, working on it")


if __name__ == "__main__":
    main()
