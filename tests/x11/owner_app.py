"""Another application owning the clipboard, for the tests: it offers ``TYPE`` only, with the
bytes given in hex, and answers each request after ``DELAY`` seconds. It prints "owning" once it
owns the clipboard and exits when something else takes it.

    python owner_app.py DELAY TYPE HEX
"""
from __future__ import annotations

import sys
import time
import warnings

from Xlib import X, display
from Xlib.protocol import event


def main() -> None:
    delay, kind, data = float(sys.argv[1]), sys.argv[2], bytes.fromhex(sys.argv[3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        d = display.Display()
    window = d.screen().root.create_window(0, 0, 1, 1, 0, X.CopyFromParent, X.InputOnly, X.CopyFromParent)
    clipboard, targets, offered = d.intern_atom("CLIPBOARD"), d.intern_atom("TARGETS"), d.intern_atom(kind)
    window.set_selection_owner(clipboard, X.CurrentTime)
    d.sync()
    print("owning", flush=True)
    while True:
        ev = d.next_event()
        if ev.type == X.SelectionClear:
            return
        if ev.type != X.SelectionRequest:
            continue
        time.sleep(delay)
        prop = ev.property
        if ev.target == targets:
            ev.requestor.change_property(prop, d.intern_atom("ATOM"), 32, [targets, offered])
        elif ev.target == offered:
            ev.requestor.change_property(prop, offered, 8, data)
        else:
            prop = X.NONE
        ev.requestor.send_event(event.SelectionNotify(time=ev.time, requestor=ev.requestor,
                                                      selection=ev.selection, target=ev.target, property=prop))
        d.flush()


if __name__ == "__main__":
    main()
