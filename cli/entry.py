# PYTHON_ARGCOMPLETE_OK
"""The ``quarterdeck`` command's entry point: a hook starts without loading the rest, and the command ends
without tearing its modules down one by one.

An agent's hook runs ``quarterdeck hook ...`` on every prompt and turn, and the agent waits for
it. Loading the whole command line (every command, the config model) costs most of a second, so
``quarterdeck hook`` goes straight to :mod:`quarterdeck.cli.hook_cmd` (about a tenth of that), with
shared options given before it too (a ``--data-dir`` there is the hook's; the others mean nothing
to a hook, and the whole command line would refuse them with exit 2, which Claude Code reads as
"block this prompt"); everything else goes through :func:`quarterdeck.cli.main.main`.

Run as the program (``argv`` from the command line), the process then leaves at once (:func:`_leave`):
an interpreter's own exit would first take apart every module it imported, which after ``quarterdeck
send`` (some 300 modules: the models, the rules, the store) takes 50 to 100 ms more than the work did.
"""
from __future__ import annotations

import os
import sys

SHARED = ("--config", "--data-dir", "--roster", "--broker")  # the shared options that take a value


def _hook_args(args: list[str]) -> list[str] | None:
    """The hook's arguments when the command is ``hook`` (after any shared options; a ``--data-dir``
    among them first, so one after ``hook`` wins); None for every other command."""
    at, data_dir = 0, []
    while at < len(args):
        name, equals, _ = args[at].partition("=")
        if name not in SHARED or (not equals and at + 1 >= len(args)):
            break
        step = 1 if equals else 2
        if name == "--data-dir":
            data_dir = args[at:at + step]
        at += step
    return [*data_dir, *args[at + 1:]] if args[at:at + 1] == ["hook"] else None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    hook_args = _hook_args(args)
    if hook_args is not None:
        from quarterdeck.cli.hook_cmd import main as hook_main

        code = hook_main(hook_args)
    else:
        from quarterdeck.cli.main import main as full_main

        try:
            code = full_main(argv)
        except SystemExit as done:  # argparse: --help, --version, a usage error
            if argv is not None or not (done.code is None or isinstance(done.code, int)):
                raise
            code = done.code or 0
    if argv is None:
        _leave(code)
    return code


def _leave(code: int) -> None:
    """End the process with ``code`` now, having done what an exit must: the atexit handlers (logging
    flushes and closes quarterdeck.log; coverage saves its data), then standard output and error flushed.
    Returns instead, for the usual exit, while another (non-daemon) thread runs, once Qt is loaded (its
    objects' destructors save state) or when a flush fails (Python then reports it as it always does)."""
    import threading

    if "shiboken6" in sys.modules or any(not thread.daemon for thread in threading.enumerate()
                                         if thread is not threading.main_thread()):
        return
    import atexit

    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)
