"""The rule editor's Qt-free side: positions, checking open texts together, saving and activating."""
from __future__ import annotations

import pytest

from quarterdeck.core.validation import RuleStore, bundled_rules_dir
from quarterdeck.core.validation.editing import (
    activate_rules,
    check_rule_texts,
    open_rules,
    plural,
    read_texts,
    save_rules,
    underline_span,
    utf16_column,
    utf16_len,
)
from quarterdeck.core.validation.location import copy_rules_folder, locate_rules, user_rules_dir

CONTENT = "rules:\n  content-set:\n    severity: error\n    given: content\n    then: {function: required}\n"
SENDER = "rules:\n  sender-set:\n    severity: error\n    given: sender\n    then: {function: required}\n"
BROKEN = "rules:\n  content-set:\n    severity: bogus\n    given: content\n    then: {function: required}\n"


@pytest.mark.parametrize(("text", "col0", "expected"), [
    ("abc", 2, 2),
    ("🎉 party", 1, 2),  # an astral character counts two UTF-16 units
    ("é🎉x", 3, 4),
    ("ab", 4, 4),  # past the end keeps its distance
])
def test_code_point_columns_become_utf16_offsets(text, col0, expected):
    assert utf16_column(text, col0) == expected


def test_utf16_length_counts_surrogate_pairs():
    assert utf16_len("a🎉b") == 4 and utf16_len("") == 0


@pytest.mark.parametrize(("line", "col0", "end", "expected"), [
    ("    severity: bogus", 14, None, (14, 19)),  # the word at the column
    ("  key: value here", 7, 12, (7, 12)),  # up to the node's end on this line
    ("  key: value", 7, 40, (7, 12)),  # clamped to the line
    ("abc", 3, None, (2, 3)),  # past the end: the last character
    ("a  b", 1, None, (1, 2)),  # on a space: one character
    ("", 0, None, (0, 0)),
])
def test_underline_span(line, col0, end, expected):
    assert underline_span(line, col0, end) == expected


def test_plural():
    assert (plural(1, "error"), plural(0, "error"), plural(3, "file")) == ("1 error", "0 errors", "3 files")


def test_checking_texts_together_finds_a_rule_id_defined_twice():
    check = check_rule_texts([("a.yaml", CONTENT), ("b.yaml", SENDER + CONTENT.replace("rules:\n", ""))])
    assert not check.valid and check.errors == 1 and check.warnings == 0
    (duplicate,) = check.for_file("b.yaml")
    assert "already defined at a.yaml" in duplicate.message
    assert check.for_file("a.yaml") == []


def test_a_clean_check_gives_the_combined_rule_set():
    check = check_rule_texts([("a.yaml", CONTENT), ("b.yaml", SENDER)])
    assert check.valid and check.ruleset.ids == ("content-set", "sender-set")
    assert check.diagnostics == ()


def test_open_rules_reads_every_file_and_the_drafts(tmp_path):
    folder = tmp_path / "rules"
    copy_rules_folder(bundled_rules_dir(), folder)
    (folder / "quality.yaml.draft").write_text(BROKEN, encoding="utf-8")
    opened = open_rules(folder)
    assert list(opened.texts) == ["message.yaml", "quality.yaml", "security.yaml"]
    assert opened.drafts == {"quality.yaml": BROKEN}
    assert read_texts(opened.location, ["quality.yaml", "gone.yaml"]) == {
        "quality.yaml": opened.texts["quality.yaml"], "gone.yaml": None}


def test_saving_valid_texts_replaces_the_files_and_drops_stale_drafts(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a.yaml").write_text(SENDER, encoding="utf-8")
    (folder / "a.yaml.draft").write_text(BROKEN, encoding="utf-8")
    outcome = save_rules(locate_rules(folder), {"a.yaml": CONTENT}, valid=True)
    assert not outcome.drafts and not outcome.copied
    assert outcome.written == (folder / "a.yaml",)
    assert (folder / "a.yaml").read_text(encoding="utf-8") == CONTENT
    assert sorted(p.name for p in folder.iterdir()) == ["a.yaml"]  # no backup, no temp, no draft


def test_saving_invalid_texts_writes_drafts_only(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a.yaml").write_text(CONTENT, encoding="utf-8")
    outcome = save_rules(locate_rules(folder), {"a.yaml": BROKEN}, valid=False)
    assert outcome.drafts and outcome.written == (folder / "a.yaml.draft",)
    assert (folder / "a.yaml").read_text(encoding="utf-8") == CONTENT
    assert (folder / "a.yaml.draft").read_text(encoding="utf-8") == BROKEN


def test_saving_the_builtin_rules_copies_them_first():
    before = {p.name: p.read_bytes() for p in bundled_rules_dir().glob("*.yaml")}
    location = locate_rules(None)
    edited = (bundled_rules_dir() / "quality.yaml").read_text(encoding="utf-8").replace("max: 8000", "max: 7000")
    outcome = save_rules(location, {"quality.yaml": edited}, valid=True)
    assert outcome.copied and outcome.location.source == "user"
    assert outcome.location.path == user_rules_dir()
    assert (user_rules_dir() / "quality.yaml").read_text(encoding="utf-8") == edited
    assert (user_rules_dir() / "message.yaml").read_bytes() == before["message.yaml"]
    assert {p.name: p.read_bytes() for p in bundled_rules_dir().glob("*.yaml")} == before
    assert locate_rules(None).source == "user"


def test_drafts_of_the_builtin_rules_go_to_the_user_folder_and_change_nothing():
    outcome = save_rules(locate_rules(None), {"quality.yaml": BROKEN}, valid=False)
    assert outcome.written == (user_rules_dir() / "quality.yaml.draft",)
    assert locate_rules(None).source == "bundled"


def test_activate_reloads_the_same_store(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a.yaml").write_text(CONTENT, encoding="utf-8")
    store = RuleStore([folder])
    store.reload()
    (folder / "a.yaml").write_text(SENDER, encoding="utf-8")
    same, diagnostics = activate_rules(store, locate_rules(folder))
    assert same is store and diagnostics == [] and store.generation == 2
    assert store.active.ids == ("sender-set",)


def test_activate_moves_to_a_new_location_only_if_it_loads(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / "a.yaml").write_text(CONTENT, encoding="utf-8")
    store = RuleStore([old])
    store.reload()
    new = tmp_path / "new"
    new.mkdir()
    (new / "a.yaml").write_text(BROKEN, encoding="utf-8")
    kept, diagnostics = activate_rules(store, locate_rules(new))
    assert kept is store and any(d.is_error for d in diagnostics)
    (new / "a.yaml").write_text(SENDER, encoding="utf-8")
    moved, diagnostics = activate_rules(store, locate_rules(new))
    assert moved is not store and moved.paths == (new,) and moved.active.ids == ("sender-set",)
