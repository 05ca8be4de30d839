"""The panel's remembered state: window geometry and dock layout, and small preferences.

A thin typed layer over QSettings: reads name their type, a value equal to its default is
removed rather than stored, and the store carries a version with a ``migrate`` step so a later
layout change can drop what no longer fits.

The file is ``quarterdeck-panel.conf`` (INI) in Quarterdeck's config folder, beside
``coordination.yaml`` and ``agents.yaml``, so ``QUARTERDECK_CONFIG_DIR`` moves it too. Earlier
versions kept it in Qt's own place (``~/.config/Quarterdeck/Quarterdeck.conf``); without the
override, a panel that finds no file of its own copies that one's values once.

The settings file and its folder are private (0600 and 0700), like every Quarterdeck file: the
layout names agents and folders. Tightened when the settings are opened and on every sync.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from quarterdeck.core.activity.notify_policy import NotifyPrefs, parse_quiet_hours
from quarterdeck.core.paths import (
    APP_NAME,
    CONFIG_DIR_ENV,
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    ensure_dir,
    user_config_dir,
)

log = logging.getLogger(__name__)

VERSION = 1
SETTINGS_FILE_NAME = "quarterdeck-panel.conf"
_LEGACY = ("Quarterdeck", "Quarterdeck")  # organisation and application: Qt's own place before

# desktop notifications (quarterdeck.gui.activity.notifications); `quarterdeck notify` changes them too
NOTIFY_DND = "notify/dnd"  # bool: do not disturb
NOTIFY_QUIET = "notify/quiet_hours"  # "22:00-07:00" (local time), absent: none
NOTIFY_MUTED = "notify/muted"  # agent ids never notified
NOTIFY_RATE_LIMITED = "notify/rate_limited"  # bool: a rate-limited agent is notified too
NOTIFY_STALLED = "notify/stalled"  # bool: a stalled agent is notified too


def settings_file(env: Mapping[str, str] | None = None) -> Path:
    """Where the panel keeps its state: ``quarterdeck-panel.conf`` in the config folder."""
    return user_config_dir(env) / SETTINGS_FILE_NAME


def default_store() -> QSettings:
    """The panel's settings file (its folder created private), with an earlier version's values
    copied in once when it is new."""
    path = settings_file()
    ensure_dir(path.parent)
    store = QSettings(str(path), QSettings.Format.IniFormat)
    if not store.allKeys() and not os.environ.get(CONFIG_DIR_ENV):
        _import_legacy(store)
    return store


def _import_legacy(store: QSettings) -> None:
    old = QSettings(*_LEGACY)  # the format and place QSettings() used: Qt's default for the platform
    if not old.allKeys():
        return
    for key in old.allKeys():
        store.setValue(key, old.value(key))
    log.info("panel settings copied from %s to %s", old.fileName(), store.fileName())


class Settings:
    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else default_store()
        self.migrate()
        self.make_private()

    def make_private(self) -> None:
        """Settings file 0600 and, when it is Quarterdeck's own (named ``quarterdeck``), its
        folder 0700; a change is logged."""
        name = self.store.fileName()
        if not name.endswith((".conf", ".ini")):
            return  # the registry or a plist: no file of ours to protect
        path = Path(name)
        wanted = [(path, PRIVATE_FILE_MODE)]
        if path.parent.name.lower() == APP_NAME:
            wanted.append((path.parent, PRIVATE_DIR_MODE))
        changed = []
        for item, mode in wanted:
            try:
                if item.exists() and item.stat().st_mode & 0o077:
                    item.chmod(mode)
                    changed.append(str(item))
            except OSError:
                log.warning("could not make %s private", item, exc_info=True)
        if changed:
            log.info("made private to you (0600/0700): %s", ", ".join(changed))

    def migrate(self) -> None:
        found = self.get("settings_version", 0, int)
        if found != VERSION:
            # nothing older than version 1 exists yet; an unknown layout is simply forgotten
            self.store.remove("window")
            self.store.setValue("settings_version", VERSION)

    def get(self, key: str, default: Any, kind: type = str) -> Any:
        if not self.store.contains(key):
            return default
        if kind is bool:
            raw = self.store.value(key)
            return raw in (True, "true", "1", 1)
        if kind in (list, tuple):
            raw = self.store.value(key)
            if raw is None:
                return default
            return kind([raw] if isinstance(raw, str) else raw)
        try:
            return self.store.value(key, default, type=kind)
        except (TypeError, ValueError):
            return default

    def set(self, key: str, value: Any, default: Any = None) -> None:
        if value == default:
            self.store.remove(key)
        else:
            self.store.setValue(key, value)

    def get_bytes(self, key: str) -> QByteArray | None:
        raw = self.store.value(key)
        return raw if isinstance(raw, QByteArray) and not raw.isEmpty() else None

    def sync(self) -> None:
        self.store.sync()
        self.make_private()

    # -- desktop notifications: read fresh, changed one key at a time (the command line shares them)
    def notify_prefs(self) -> NotifyPrefs:
        """The notification choices as the file holds them now (another process may have changed
        them); a quiet-hours value that does not read is ignored, with a warning."""
        self.store.sync()
        quiet = None
        text = self.get(NOTIFY_QUIET, "", str)
        if text:
            try:
                quiet = parse_quiet_hours(text)
            except ValueError as exc:
                log.warning("%s in %s ignored: %s", NOTIFY_QUIET, self.store.fileName(), exc)
        return NotifyPrefs(dnd=self.get(NOTIFY_DND, False, bool), quiet=quiet,
                           muted=frozenset(str(a) for a in self.get(NOTIFY_MUTED, [], list) if a),
                           rate_limited=self.get(NOTIFY_RATE_LIMITED, False, bool),
                           stalled=self.get(NOTIFY_STALLED, False, bool))

    def set_notify(self, key: str, value: bool | str) -> None:
        """Store one notification switch (``NOTIFY_DND``, ...) or the quiet hours ('' for none)."""
        self.store.sync()
        self.set(key, value, "" if key == NOTIFY_QUIET else False)
        self.sync()

    def set_muted(self, agent_id: str, muted: bool) -> None:
        """Mute or unmute one agent, keeping the others as the file holds them now."""
        self.store.sync()
        now = [str(a) for a in self.get(NOTIFY_MUTED, [], list) if a]
        wanted = sorted({*now, agent_id}) if muted else [a for a in now if a != agent_id]
        self.set(NOTIFY_MUTED, wanted, [])
        self.sync()
