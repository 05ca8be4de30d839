"""Quarterdeck's files are private to their user: folders 0700, files 0600, as measured on disk
(the outbox with its WAL and SHM, the dead letters, inbox folders and files, the log, the panel's
settings); what an older version left readable by others is tightened on start, with a note."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from quarterdeck.cli.main import main
from quarterdeck.core.integration.deadletter import DeadLetterStore
from quarterdeck.core.paths import tighten
from quarterdeck.core.store import Store, default_db_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def roster(tmp_path) -> Path:
    path = tmp_path / "agents.yaml"
    path.write_text(f"agents:\n  - {{id: Agent-1, transport: inbox, path: {tmp_path / 'inbox' / 'a1'}}}\n",
                    encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    return path


def test_outbox_wal_shm_and_dead_letters_are_created_private(tmp_path):
    old = os.umask(0o022)  # a usual umask: the files must not depend on it
    try:
        store = Store(default_db_path(tmp_path / "quarterdeck"))
        db = store.path
        assert (db.with_name(db.name + "-wal")).exists() and (db.with_name(db.name + "-shm")).exists()
        measured = {p.name: mode(p) for p in db.parent.iterdir() if p.is_file()}
        store.close()
        letters = DeadLetterStore(tmp_path / "letters" / "deadletters.sqlite3")
        letters.close()
    finally:
        os.umask(old)
    assert measured == {"quarterdeck.sqlite3": 0o600, "quarterdeck.sqlite3-wal": 0o600,
                        "quarterdeck.sqlite3-shm": 0o600}
    assert mode(tmp_path / "letters") == 0o700 and mode(tmp_path / "letters" / "deadletters.sqlite3") == 0o600


def test_a_send_creates_private_folders_and_files(tmp_path, roster, capsys):
    data = tmp_path / "fresh" / "data"
    assert main(["send", "-a", "Agent-1", "-m", "hello", "--roster", str(roster), "--data-dir", str(data)]) == 0
    capsys.readouterr()
    (message,) = (tmp_path / "inbox" / "a1").glob("*.md")
    assert (mode(tmp_path / "fresh"), mode(data), mode(data / "quarterdeck.sqlite3")) == (0o700, 0o700, 0o600)
    assert (mode(tmp_path / "inbox" / "a1"), mode(message)) == (0o700, 0o600)
    assert os.umask(0o022) == 0o022  # main gave the process's umask back


def test_existing_files_are_tightened_with_a_note(tmp_path, roster, capsys):
    data = tmp_path / "data"
    store = Store(default_db_path(data))
    store.close()
    (data / "quarterdeck.sqlite3").chmod(0o644)
    (data / "logs").mkdir()
    (data / "logs" / "quarterdeck.log").write_text("old log\n")
    (data / "logs").chmod(0o755)
    (data / "logs" / "quarterdeck.log").chmod(0o644)
    (data / "notes.txt").write_text("someone else's file in a shared folder\n")
    (data / "notes.txt").chmod(0o644)
    main(["status", "--roster", str(roster), "--data-dir", str(data)])
    err = capsys.readouterr().err
    # the outbox, its lease folder (made 0755 under the test's umask), the logs folder and the log
    assert "note: made 4 files and folders private to you (0600/0700)" in err and str(data) in err
    assert (mode(data / "quarterdeck.sqlite3"), mode(data / "logs"), mode(data / "logs" / "quarterdeck.log")) \
        == (0o600, 0o700, 0o600)
    assert mode(data / "notes.txt") == 0o644  # not Quarterdeck's: left alone
    main(["status", "--roster", str(roster), "--data-dir", str(data)])
    assert "note:" not in capsys.readouterr().err  # once tightened, nothing more to say


def test_a_folder_named_quarterdeck_is_tightened_whole(tmp_path):
    own = tmp_path / "quarterdeck"
    (own / "rules").mkdir(parents=True)
    (own / "rules" / "mine.yaml").write_text("rules: []\n")
    own.chmod(0o755)
    (own / "rules").chmod(0o755)
    (own / "rules" / "mine.yaml").chmod(0o644)
    assert sorted(tighten([own])) == sorted([own, own / "rules", own / "rules" / "mine.yaml"])
    assert (mode(own), mode(own / "rules"), mode(own / "rules" / "mine.yaml")) == (0o700, 0o700, 0o600)


def test_settings_file_is_private(tmp_path):
    pytest.importorskip("PySide6")
    from PySide6.QtCore import QSettings

    from quarterdeck.gui.settings import Settings

    path = tmp_path / "Quarterdeck.conf"
    settings = Settings(QSettings(str(path), QSettings.Format.IniFormat))
    settings.set("window/theme", "dark")
    settings.sync()
    assert mode(path) == 0o600
    path.chmod(0o644)
    Settings(QSettings(str(path), QSettings.Format.IniFormat))
    assert mode(path) == 0o600


@pytest.mark.x11
def test_the_panel_writes_its_log_and_settings_private(tmp_path, roster):
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "xdg"),
               QUARTERDECK_DATA_DIR=str(tmp_path / "data"), QUARTERDECK_CONFIG_DIR=str(tmp_path / "config"))
    done = subprocess.run([sys.executable, "-m", "quarterdeck.cli.main", "gui", "--roster", str(roster),
                           "--quit-after", "2500"],
                          env=env, cwd=Path(__file__).parents[2], capture_output=True, text=True, timeout=90,
                          check=False)
    assert done.returncode == 0, done.stderr
    log = tmp_path / "data" / "logs" / "quarterdeck.log"
    conf = tmp_path / "config" / "quarterdeck-panel.conf"  # the config folder, QUARTERDECK_CONFIG_DIR
    assert not (tmp_path / "xdg" / "Quarterdeck").exists()  # not Qt's own place any more
    measured = {str(p.relative_to(tmp_path)): oct(mode(p)) for p in
                (tmp_path / "data", tmp_path / "data" / "logs", log, tmp_path / "data" / "quarterdeck.sqlite3",
                 conf.parent, conf)}
    assert set(measured.values()) <= {"0o700", "0o600"}, measured


@pytest.mark.x11
def test_the_panel_started_as_a_module_is_private_too(tmp_path, roster):
    """``python -m quarterdeck.gui`` (not through the quarterdeck command) creates and tightens the same way."""
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "xdg"),
               QUARTERDECK_DATA_DIR=str(tmp_path / "quarterdeck"), QUARTERDECK_CONFIG_DIR=str(tmp_path / "config"))
    data = tmp_path / "quarterdeck"
    data.mkdir(mode=0o755)
    old = data / "notes.txt"
    old.write_text("left readable by an older version", encoding="utf-8")
    old.chmod(0o644)
    done = subprocess.run([sys.executable, "-m", "quarterdeck.gui", "--roster", str(roster), "--quit-after", "2500"],
                          env=env, cwd=Path(__file__).parents[2], capture_output=True, text=True, timeout=90,
                          check=False)
    assert done.returncode == 0, done.stderr
    measured = {str(p.relative_to(tmp_path)): oct(mode(p)) for p in
                (data, old, data / "quarterdeck.sqlite3", data / "logs" / "quarterdeck.log")}
    assert measured == {"quarterdeck": "0o700", "quarterdeck/notes.txt": "0o600",
                        "quarterdeck/quarterdeck.sqlite3": "0o600", "quarterdeck/logs/quarterdeck.log": "0o600"}
