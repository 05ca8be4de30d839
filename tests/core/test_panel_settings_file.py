"""Where the panel keeps its remembered state: quarterdeck-panel.conf in Quarterdeck's config
folder, which QUARTERDECK_CONFIG_DIR moves; private; an earlier version's file copied in once."""
from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

QtCore = pytest.importorskip("PySide6.QtCore")
QSettings = QtCore.QSettings


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def qt_default_place(tmp_path):
    """Qt's own settings place (where earlier versions wrote) in a temporary folder."""
    folder = tmp_path / "qt-default"
    fmt, scope = QSettings.Format.IniFormat, QSettings.Scope.UserScope
    before = (QSettings.defaultFormat(), Path(QSettings(fmt, scope, "probe", "probe").fileName()).parent.parent)
    QSettings.setDefaultFormat(fmt)
    QSettings.setPath(fmt, scope, str(folder))
    yield folder
    QSettings.setDefaultFormat(before[0])
    QSettings.setPath(fmt, scope, str(before[1]))


def test_the_settings_follow_quarterdeck_config_dir_and_are_private(tmp_path, monkeypatch, qt_default_place):
    from quarterdeck.gui.settings import Settings, settings_file

    monkeypatch.setenv("QUARTERDECK_CONFIG_DIR", str(tmp_path / "cfg"))
    settings = Settings()
    settings.set("window/theme", "dark")
    settings.sync()
    path = tmp_path / "cfg" / "quarterdeck-panel.conf"
    assert settings_file() == path and settings.store.fileName() == str(path)
    assert "theme=dark" in path.read_text(encoding="utf-8")
    assert (mode(path), mode(path.parent)) == (0o600, 0o700)
    assert not qt_default_place.exists()
    assert Settings().get("window/theme", "light") == "dark"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG config folder")
def test_without_the_override_it_is_in_the_platform_config_folder(tmp_path, monkeypatch, qt_default_place):
    from quarterdeck.gui.settings import settings_file

    monkeypatch.delenv("QUARTERDECK_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert settings_file() == tmp_path / "xdg" / "quarterdeck" / "quarterdeck-panel.conf"


def test_an_earlier_version_s_settings_are_copied_in_once(tmp_path, monkeypatch, qt_default_place):
    from quarterdeck.gui.settings import Settings, settings_file

    old = QSettings("Quarterdeck", "Quarterdeck")
    old.setValue("composer/last_tags", ["ui"])
    old.setValue("settings_version", 1)
    old.sync()
    monkeypatch.delenv("QUARTERDECK_CONFIG_DIR")
    monkeypatch.setattr("quarterdeck.gui.settings.user_config_dir", lambda env=None: tmp_path / "quarterdeck")
    settings = Settings()
    assert settings.store.fileName() == str(settings_file())
    assert settings.get("composer/last_tags", [], list) == ["ui"]
    settings.set("composer/last_tags", ["api"])
    settings.sync()
    old.setValue("composer/last_tags", ["changed later"])
    old.sync()
    assert Settings().get("composer/last_tags", [], list) == ["api"]  # copied once, not again
    assert mode(tmp_path / "quarterdeck") == 0o700


def test_with_the_override_nothing_is_taken_from_qt_s_place(tmp_path, monkeypatch, qt_default_place):
    from quarterdeck.gui.settings import Settings

    old = QSettings("Quarterdeck", "Quarterdeck")
    old.setValue("composer/last_tags", ["ui"])
    old.sync()
    monkeypatch.setenv("QUARTERDECK_CONFIG_DIR", str(tmp_path / "cfg"))
    assert Settings().get("composer/last_tags", [], list) == []
