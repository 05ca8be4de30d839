"""The panel's remembered state: window geometry and dock layout, and small preferences.

A thin typed layer over QSettings: reads name their type, a value equal to its default is
removed rather than stored, and the store carries a version with a ``migrate`` step so a later
layout change can drop what no longer fits. Organisation and application names are set once at
startup (``quarterdeck.gui.app``); tests point QSettings at a temporary folder.

The settings file and its folder are private (0600 and 0700), like every Quarterdeck file: the
layout names agents and folders. Tightened when the settings are opened and on every sync.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from quarterdeck.core.paths import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE

log = logging.getLogger(__name__)

VERSION = 1


class Settings:
    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else QSettings()
        self.migrate()
        self.make_private()

    def make_private(self) -> None:
        """Settings file 0600 and, when it is the organisation's own, its folder 0700; a change
        is logged."""
        name = self.store.fileName()
        if not name.endswith((".conf", ".ini")):
            return  # the registry or a plist: no file of ours to protect
        path = Path(name)
        wanted = [(path, PRIVATE_FILE_MODE)]
        if path.parent.name == (self.store.organizationName() or "\0"):
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
