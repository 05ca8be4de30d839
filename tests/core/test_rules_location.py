"""Where the active rules live, and the one-step copy of the built-in rules."""
from __future__ import annotations

import os

import pytest

from quarterdeck.core.paths import user_config_dir
from quarterdeck.core.validation import RuleStore, bundled_rules_dir
from quarterdeck.core.validation.location import (
    active_rules_path,
    copy_rules_folder,
    draft_path,
    locate_rules,
    rule_files_in,
    user_rules_dir,
)

BROKEN = "rules:\n  r: [\n"


def test_without_config_or_user_rules_the_bundled_rules_are_active_and_read_only():
    location = locate_rules(None)
    assert location.source == "bundled" and location.read_only
    assert location.path == bundled_rules_dir()
    assert location.edit_dir == user_config_dir() / "rules" == user_rules_dir()
    assert [p.name for p in location.files()] == ["message.yaml", "quality.yaml", "security.yaml"]
    assert "first save copies" in location.editing_note()


def test_an_empty_user_folder_or_one_with_only_drafts_does_not_count(tmp_path):
    folder = user_rules_dir()
    folder.mkdir(parents=True)
    (folder / "message.yaml.draft").write_text(BROKEN, encoding="utf-8")
    assert locate_rules(None).source == "bundled"
    (folder / "mine.yml").write_text("rules: {}\n", encoding="utf-8")
    location = locate_rules(None)
    assert (location.source, location.path, location.read_only) == ("user", folder, False)
    assert active_rules_path(None) == folder
    assert "your rules" in location.editing_note()


def test_the_configured_path_wins_over_the_user_folder(tmp_path):
    copy_rules_folder(bundled_rules_dir(), user_rules_dir())
    configured = tmp_path / "team-rules"
    configured.mkdir()
    location = locate_rules(configured)
    assert (location.source, location.path, location.edit_dir) == ("config", configured, configured)
    assert "validation_rules_path" in location.editing_note()


def test_a_configured_single_file_is_edited_in_place(tmp_path):
    file = tmp_path / "only.yaml"
    file.write_text("rules: {}\n", encoding="utf-8")
    location = locate_rules(file)
    assert location.files() == [file]
    assert location.target_for("only.yaml") == file
    assert location.edit_dir == tmp_path


def test_copy_builds_the_whole_folder_then_renames_it_into_place(tmp_path):
    dest = tmp_path / "cfg" / "rules"
    written = copy_rules_folder(bundled_rules_dir(), dest, {"quality.yaml": "rules: {}\n"})
    assert [p.name for p in written] == ["message.yaml", "quality.yaml", "security.yaml"]
    assert (dest / "quality.yaml").read_text(encoding="utf-8") == "rules: {}\n"
    assert (dest / "message.yaml").read_bytes() == (bundled_rules_dir() / "message.yaml").read_bytes()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["rules"]  # no staging folder left


def test_copy_over_an_existing_folder_keeps_drafts_and_replaces_rule_files(tmp_path):
    dest = tmp_path / "rules"
    dest.mkdir()
    (dest / "message.yaml.draft").write_text("draft", encoding="utf-8")
    (dest / "old.yaml").write_text("rules: {}\n", encoding="utf-8")
    copy_rules_folder(bundled_rules_dir(), dest)
    names = sorted(p.name for p in dest.iterdir())
    assert names == ["message.yaml", "message.yaml.draft", "quality.yaml", "security.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rules"]


def test_a_failed_copy_leaves_no_user_rules(tmp_path, monkeypatch):
    dest = tmp_path / "rules"

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        copy_rules_folder(bundled_rules_dir(), dest)
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


def test_drafts_sit_beside_the_file_and_a_store_never_loads_them(tmp_path):
    target = tmp_path / "message.yaml"
    target.write_text("rules:\n  ok-rule:\n    severity: error\n    given: content\n"
                      "    then: {function: required}\n", encoding="utf-8")
    draft = draft_path(target)
    assert draft == tmp_path / "message.yaml.draft"
    draft.write_text(BROKEN, encoding="utf-8")
    assert rule_files_in(tmp_path) == [target]
    store = RuleStore([tmp_path])
    assert store.reload() == []
    assert store.active.ids == ("ok-rule",)


def test_the_session_and_the_cli_load_the_same_folder_as_the_editor(tmp_path):
    from argparse import Namespace

    from quarterdeck.cli.common import rules_dir
    from quarterdeck.core.roster.roster import Roster
    from quarterdeck.core.session import Session

    def opened_paths():
        session = Session.open(roster=Roster(()), data_dir=tmp_path / "data")
        try:
            return session.rules.paths
        finally:
            session.close()

    assert opened_paths() == (bundled_rules_dir(),) and rules_dir(Namespace()) == bundled_rules_dir()
    copy_rules_folder(bundled_rules_dir(), user_rules_dir())
    assert opened_paths() == (user_rules_dir(),) and rules_dir(Namespace()) == user_rules_dir()
