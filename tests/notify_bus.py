"""A private D-Bus session bus for the notification tests: no service files, so nothing is started
on demand (a name is there only when a test starts its owner), and dunst on it when asked.

``PrivateBus(folder)`` starts ``dbus-daemon`` and has ``address``; ``start_dunst(config)`` runs a
real dunst on the current X display against it and waits until it owns the Notifications name;
``displayed()`` asks dunst how many notices it shows (its own D-Bus API, as ``dunstctl`` does).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={folder}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

DUNSTRC = """[global]
    origin = top-right
    offset = 10x40
    width = 420
    font = DejaVu Sans 11
    show_indicators = no
    mouse_left_click = do_action, close_current
    mouse_right_click = close_current
    frame_width = 2
    frame_color = "#202020"
[urgency_low]
    background = "#ffd75f"
    foreground = "#000000"
    timeout = 0
[urgency_normal]
    background = "#ffd75f"
    foreground = "#000000"
    timeout = 0
[urgency_critical]
    background = "#ffd75f"
    foreground = "#000000"
    timeout = 0
"""
BACKGROUND = 0xFFD75F  # the notices' colour in DUNSTRC, as 0xRRGGBB


def missing_tools(*extra: str) -> list[str]:
    return [tool for tool in ("dbus-daemon", "dbus-send", *extra) if shutil.which(tool) is None]


class PrivateBus:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        config = folder / "bus.conf"
        config.write_text(CONFIG.format(folder=folder))
        self.proc = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.address = self.proc.stdout.readline().strip()
        assert self.address, self.proc.stderr.read()
        self.env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": self.address}
        self.dunst: subprocess.Popen | None = None
        self._dunst_log = None

    def call(self, *args: str) -> str:
        done = subprocess.run(["dbus-send", "--session", "--print-reply", *args], env=self.env,
                              capture_output=True, text=True, timeout=10)
        return done.stdout if done.returncode == 0 else ""

    def has_owner(self, name: str) -> bool:
        return "true" in self.call("--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus.NameHasOwner", f"string:{name}")

    def start_dunst(self, config_text: str = DUNSTRC) -> subprocess.Popen:
        config = self.folder / "dunstrc"
        config.write_text(config_text)
        self._dunst_log = (self.folder / "dunst.log").open("w")
        self.dunst = subprocess.Popen(["dunst", "-config", str(config)], env=self.env,
                                      stdout=subprocess.DEVNULL, stderr=self._dunst_log)
        deadline = time.monotonic() + 10
        while not self.has_owner("org.freedesktop.Notifications"):
            assert self.dunst.poll() is None, (self.folder / "dunst.log").read_text()
            assert time.monotonic() < deadline, "dunst did not take the Notifications name in 10 s"
            time.sleep(0.05)
        return self.dunst

    def displayed(self) -> int:
        """How many notices dunst shows now (its ``displayedLength`` property)."""
        out = self.call("--dest=org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                        "org.freedesktop.DBus.Properties.Get", "string:org.dunstproject.cmd0",
                        "string:displayedLength")
        return int(out.split()[-1]) if out.strip() else -1

    def close(self) -> None:
        for proc in (self.dunst, self.proc):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        for handle in (self._dunst_log, self.proc.stdout):
            if handle is not None:
                handle.close()
        if self.proc.stderr is not None:
            self.proc.stderr.close()
