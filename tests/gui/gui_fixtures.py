"""Helpers the panel tests import by name (conftest modules share one name across folders)."""
from __future__ import annotations

from watch_looks import WatchLookCounter

from quarterdeck.core.models import Agent, DryRunTransport
from quarterdeck.core.roster.roster import Roster


def dry_roster(*ids: str, roles: dict[str, str] | None = None) -> Roster:
    roles = roles or {}
    return Roster(tuple(Agent(id=i, role=roles.get(i, ""), transport=DryRunTransport()) for i in ids))


def shots_dir():
    """Where panel screenshots go as test artifacts: $QUARTERDECK_SCREENSHOTS, else
    artifacts/screenshots in the repository (git-ignored)."""
    import os
    from pathlib import Path

    folder = Path(os.environ.get("QUARTERDECK_SCREENSHOTS")
                  or Path(__file__).resolve().parents[2] / "artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class LoopPasses:
    """Counts the delivery loop's looks at the outbox (``Dispatcher.process_next`` calls).

    ``wait_for_a_new_pass`` returns once a pass that *began* after the call has ended: whatever
    the loop would do with the outbox as it is now, it has done (it claims nothing it skipped)."""

    def __init__(self, dispatcher, monkeypatch) -> None:
        self.started = self.ended = 0
        real = dispatcher.process_next

        def counted(*args, **kwargs):
            self.started += 1
            try:
                return real(*args, **kwargs)
            finally:
                self.ended += 1

        monkeypatch.setattr(dispatcher, "process_next", counted)
        self._dispatcher = dispatcher

    def wait_for_a_new_pass(self, qtbot, timeout: int = 5000) -> None:
        target = self.started + 1  # passes run one after the other on the loop's thread
        self._dispatcher.notify()  # end an idle wait now rather than after idle_wait
        qtbot.waitUntil(lambda: self.ended >= target, timeout=timeout)


class WatchLooks(WatchLookCounter):
    """Counts the stop-all watch's looks at the outbox file (each poll starts by reading
    ``PRAGMA data_version``; a look that found a change calls ``on_stop`` / ``on_resume`` before
    the next look starts).

    ``wait_for_a_new_look`` returns once a look that *began* after the call has ended, and the
    signals it emitted have reached the GUI thread: anything committed before the call that the
    watch would report, it has reported."""

    def wait_for_a_new_look(self, qtbot, timeout: int = 5000) -> None:
        target = self.started + 2  # look n+1 began after now; n+2 starting means n+1 has ended
        qtbot.waitUntil(lambda: self.started >= target, timeout=timeout)
        # a signal emitted on the watch's thread is queued to this thread: deliver it
        from PySide6.QtCore import QCoreApplication
        QCoreApplication.processEvents()


def jobs_done(ctx, qtbot, timeout: int = 5000) -> None:
    """Wait until every job asked of ``ctx.jobs`` so far has run (they run in order) and its
    callback was called."""
    done: list[object] = []
    ctx.jobs.run(lambda: None, done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=timeout)


def saved_shot(widget, name: str) -> None:
    """``widget`` grabbed, checked and saved as ``name`` in ``shots_dir()``: the picture has the
    widget's size and is drawn (many colours: text, frames, icons; a blank one has a few)."""
    import numpy as np
    from PySide6.QtGui import QImage

    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    ratio = image.devicePixelRatio()
    size = (round(image.width() / ratio), round(image.height() / ratio))
    assert size == (widget.width(), widget.height()), f"{name}: {size} is not the widget's size"
    per_row = image.bytesPerLine() // 4
    pixels = np.frombuffer(image.constBits(), dtype=np.uint32, count=per_row * image.height())
    colours = len(np.unique(pixels.reshape(image.height(), per_row)[:, :image.width()] & 0xFFFFFF))
    assert colours >= 16, f"{name}: {colours} colours, nothing drawn"
    assert image.save(str(shots_dir() / name))
