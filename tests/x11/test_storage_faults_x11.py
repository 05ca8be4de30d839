"""The panel on a disk that fills up, driven as a person drives it: the real panel runs as its own
process on an outbox in a small tmpfs; xdotool picks the agent, types a message and clicks Send
while the disk is full. The panel keeps running and says in one line what is wrong, where and
what to do (``AppContext.sig_fault``, shown in the status bar); once space is freed the same
click sends the message. A panel that cannot open its outbox at all says why in a dialog."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from probed_panel import (
    ROOT,
    ProbedPanel,
    click,
    glob,
    key,
    needs,
    roster_file,
    send_points,
    shot,
    shots_folder,
    type_text,
    window_rect,
    xdotool,
)
from xterm_desk import wait_until

sys.path.append(str(ROOT / "tests" / "core"))  # the storage-fault tests' tmpfs and filler
from test_storage_faults import fill, mounted


def disk_state(app, window):
    """(In the panel's process.) Where a person clicks to send, the typed text and whether its rule
    check ran, and, in order, every line the window was given since it was up: through
    AppContext.sig_fault, the status bar, and each submission."""
    events = getattr(window, "probe_events", None)
    if events is None:
        events = window.probe_events = []
        window.ctx.sig_fault.connect(lambda line: events.append({"fault": line}))
        window.statusBar().messageChanged.connect(lambda text: events.append({"status": text}))
        window.ctx.sig_submitted.connect(lambda sub: events.append({"submitted": list(sub.delivery_ids)}))
    return {"agents": window.ctx.roster.ids(), "events": events, "window": glob(window),
            "text": window.panels["composer"].editor.toPlainText(),
            "checked": not window.panels["composer"].check_timer.isActive(), **send_points(window)}


def next_line(panel: ProbedPanel, kind: str, since: int = 0, timeout: float = 20.0) -> tuple[int, str]:
    """The first ``kind`` line the panel was given at or after the ``since``-th: (where, what)."""
    def found():
        events = panel.state().get("events", [])
        return next(((n, line[kind]) for n, line in enumerate(events) if n >= since and kind in line), None)

    return wait_until(found, f"a {kind} line", timeout=timeout)


@pytest.mark.x11
@needs("xdotool", "import")
def test_the_panel_says_the_disk_is_full_and_keeps_running(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    roster = roster_file(tmp_path, [{"id": "Agent-1", "transport": "inbox", "path": str(inbox)}])
    with (mounted(tmp_path / "disk", "-o", "size=1m") as disk,
          ProbedPanel(tmp_path / "home", [disk_state, send_points], ["gui", "--roster", str(roster)],
                      entry="quarterdeck.cli.main", data_dir=disk / "data") as panel):
        where = panel.ready(lambda s: s.get("agents") == ["Agent-1"], "the panel with its roster", settle=1.5)
        fill(disk)
        click(where["tiles"]["Agent-1"])
        click(where["editor"])
        type_text("Disk check: push your branch")
        typed = panel.wait(lambda s: s["text"] == "Disk check: push your branch" and s["checked"],
                           "the typed text in the message box, checked (the checks' lines move Send)")
        click(typed["send"])
        seen, line = next_line(panel, "fault")
        assert "is full" in line and str(disk / "data" / "quarterdeck.sqlite3") in line
        assert "free some space" in line
        seen, status = next_line(panel, "status", seen + 1)
        shot(shots_folder("QUARTERDECK_SCREENSHOTS", tmp_path) / "full-disk.png", {"window": panel.state()["window"]})
        assert panel.proc.poll() is None, "the panel ended on a full disk"
        assert list(inbox.glob("*.md")) == [] and status
        (disk / "filler").unlink()
        click(where["editor"])  # the error line above the form moved the buttons: the keys send
        key("ctrl+Return")
        assert next_line(panel, "submitted", seen + 1)[1]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not list(inbox.glob("*.md")):
            time.sleep(0.2)
        (message,) = inbox.glob("*.md")
        assert "Disk check: push your branch" in message.read_text(encoding="utf-8")


@pytest.mark.x11
@needs("xdotool")
def test_a_panel_that_cannot_open_its_outbox_says_why_in_a_dialog(tmp_path):
    """Started from a launcher, nobody reads stderr: the one line is shown in a dialog, the person
    presses Enter, and the process ends with the damaged-file exit code."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "quarterdeck.sqlite3").write_bytes(b"garbage, not a database " * 100)
    roster = roster_file(tmp_path, [{"id": "Agent-1", "transport": "inbox", "path": str(tmp_path / "in")}])
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(QUARTERDECK_DATA_DIR=str(data), QUARTERDECK_CONFIG_DIR=str(tmp_path / "config"),
               HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    app = subprocess.Popen([sys.executable, "-m", "quarterdeck.cli.main", "gui", "--roster", str(roster)], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", "Quarterdeck cannot start"],
                               capture_output=True, text=True, timeout=30, check=False)
        assert found.returncode == 0, "no dialog"
        window = found.stdout.split()[0]
        shot(shots_folder("QUARTERDECK_SCREENSHOTS", tmp_path) / "cannot-start.png", {"dialog": window_rect(window)})
        xdotool("windowactivate", "--sync", window)
        key("Return")
        _, err = app.communicate(timeout=20)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 4, err
    lines = [ln for ln in err.splitlines() if not ln.startswith("quarterdeck: note:")]
    assert len(lines) == 1 and "is damaged" in lines[0] and "doctor --repair" in lines[0], err
