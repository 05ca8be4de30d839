"""Loading rule files into rule sets, and the store that never loses a good set."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from quarterdeck.core.validation import RuleSet, RuleStore, load_rule_files, load_rule_texts
from quarterdeck.core.validation.loader import expand_rule_paths

CONTENT = "rules:\n  content-set:\n    severity: error\n    given: content\n    then: {function: required}\n"
SENDER = "rules:\n  sender-set:\n    severity: error\n    given: sender\n    then: {function: required}\n"
BROKEN = "rules:\n  content-set: [\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def bump(path: Path, text: str) -> None:
    """Rewrite a file so its mtime surely changes."""
    before = path.stat().st_mtime_ns
    write(path, text)
    os.utime(path, ns=(before + 10_000_000, before + 10_000_000))


# loading

def test_load_rule_files_merges_files_in_order(tmp_path):
    ruleset, diagnostics = load_rule_files([write(tmp_path / "a.yaml", CONTENT), write(tmp_path / "b.yaml", SENDER)])
    assert diagnostics == []
    assert ruleset is not None and ruleset.ids == ("content-set", "sender-set")
    assert ruleset.get("sender-set").file == str(tmp_path / "b.yaml")


def test_a_directory_expands_to_its_sorted_yaml_files(tmp_path):
    write(tmp_path / "b.yml", SENDER)
    write(tmp_path / "a.yaml", CONTENT)
    write(tmp_path / "notes.txt", "not rules")
    (tmp_path / "sub.yaml").mkdir()
    assert expand_rule_paths([tmp_path]) == [tmp_path / "a.yaml", tmp_path / "b.yml"]
    ruleset, _ = load_rule_files([str(tmp_path)])
    assert ruleset.ids == ("content-set", "sender-set")


def test_duplicate_rule_id_across_files_is_an_error(tmp_path):
    first = write(tmp_path / "a.yaml", CONTENT)
    second = write(tmp_path / "b.yaml", "# again\n" + CONTENT)
    ruleset, diagnostics = load_rule_files([first, second])
    assert ruleset is None
    assert [str(d) for d in diagnostics] == [
        f"{second}:3:3: error: rule id 'content-set' is already defined at {first}:2; rename one [rules.content-set]"
    ]


def test_any_error_means_no_rule_set_but_warnings_do_not():
    ruleset, diagnostics = load_rule_texts([("a.yaml", CONTENT), ("b.yaml", BROKEN)])
    assert ruleset is None
    assert [d.file for d in diagnostics] == ["b.yaml"]
    warned = CONTENT.replace("    then:", "    message: '{{nope}}'\n    then:")
    ruleset, diagnostics = load_rule_texts([("a.yaml", warned)])
    assert ruleset is not None and [d.severity for d in diagnostics] == ["warning"]


def test_missing_file_is_an_error_at_1_1(tmp_path):
    missing = tmp_path / "gone.yaml"
    ruleset, diagnostics = load_rule_files([write(tmp_path / "a.yaml", CONTENT), missing])
    assert ruleset is None
    assert [str(d) for d in diagnostics] == [
        f"{missing}:1:1: error: rule file not found; create it or remove it from the list [<document>]"
    ]


def test_non_utf8_file_points_at_the_bad_byte(tmp_path):
    bad = tmp_path / "latin.yaml"
    bad.write_bytes(b"rules:\n  r:\n    description: caf\xe9\n")
    ruleset, diagnostics = load_rule_files([bad])
    assert ruleset is None
    assert (diagnostics[0].line, diagnostics[0].col) == (3, 21)
    assert "not valid UTF-8" in diagnostics[0].message


def test_unreadable_path_is_reported(tmp_path):
    folder_as_file = tmp_path / "dir.yaml"
    folder_as_file.mkdir()
    ruleset, diagnostics = load_rule_files([write(tmp_path / "a.yml", CONTENT), folder_as_file / "x.yaml"])
    assert ruleset is None
    assert "not found" in diagnostics[0].message
    ruleset, diagnostics = load_rule_files([folder_as_file / "x.yaml", folder_as_file])
    assert ruleset is None


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user")
def test_permission_denied_is_reported(tmp_path):
    locked = write(tmp_path / "locked.yaml", CONTENT)
    locked.chmod(0)
    try:
        ruleset, diagnostics = load_rule_files([locked])
    finally:
        locked.chmod(0o600)
    assert ruleset is None
    assert "cannot read rule file" in diagnostics[0].message


def test_os_error_other_than_missing_is_reported(tmp_path, monkeypatch):
    path = write(tmp_path / "a.yaml", CONTENT)

    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    ruleset, diagnostics = load_rule_files([path])
    assert ruleset is None
    assert diagnostics[0].message == "cannot read rule file: Permission denied"


# the store

def test_store_starts_empty_and_loads(tmp_path):
    path = write(tmp_path / "a.yaml", CONTENT)
    store = RuleStore([path])
    assert (store.loaded, store.generation, len(store.active)) == (False, 0, 0)
    assert store.validate({}).status == "PASS"
    assert store.reload() == []
    assert (store.loaded, store.generation, store.active.ids) == (True, 1, ("content-set",))
    assert store.validate({}).status == "FAIL"
    assert store.paths == (path,)


def test_a_broken_file_never_replaces_the_last_good_set(tmp_path):
    path = write(tmp_path / "a.yaml", CONTENT)
    store = RuleStore([path])
    store.reload()
    good = store.active
    write(path, BROKEN)
    diagnostics = store.reload()
    assert diagnostics and diagnostics[0].is_error
    assert store.active is good
    assert store.generation == 1
    assert store.diagnostics == diagnostics
    assert store.validate({}).status == "FAIL"
    write(path, SENDER)
    assert store.reload() == []
    assert store.active.ids == ("sender-set",)
    assert store.generation == 2


def test_a_deleted_listed_file_keeps_the_last_good_set(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    write(folder / "a.yaml", CONTENT)
    extra = tmp_path / "extra.yaml"
    store = RuleStore([folder, extra])
    assert store.reload()[0].message.startswith("rule file not found")
    assert not store.loaded
    write(extra, SENDER)
    assert store.reload() == []
    extra.unlink()
    assert store.reload()[0].is_error
    assert store.active.ids == ("content-set", "sender-set")


def test_a_file_removed_from_a_folder_drops_its_rules(tmp_path):
    write(tmp_path / "a.yaml", CONTENT)
    write(tmp_path / "b.yaml", SENDER)
    store = RuleStore([tmp_path, tmp_path / "b.yaml"])
    assert store.reload() == []
    assert store.active.ids == ("content-set", "sender-set")
    (tmp_path / "a.yaml").unlink()
    assert store.reload() == []
    assert store.active.ids == ("sender-set",)


def test_first_load_with_errors_keeps_the_fallback(tmp_path):
    fallback, _ = load_rule_texts([("x.yaml", SENDER)])
    store = RuleStore([write(tmp_path / "a.yaml", BROKEN)], fallback=fallback)
    assert store.reload()
    assert store.active is fallback
    assert not store.loaded
    assert store.validator.ruleset is fallback


def test_reload_if_changed(tmp_path):
    path = write(tmp_path / "a.yaml", CONTENT)
    store = RuleStore([path])
    assert store.reload_if_changed() == []
    assert store.reload_if_changed() is None
    bump(path, SENDER)
    assert store.reload_if_changed() == []
    assert store.active.ids == ("sender-set",)
    assert store.reload_if_changed() is None
    path.unlink()
    assert store.reload_if_changed()[0].is_error
    assert store.active.ids == ("sender-set",)


def test_empty_rule_set_value():
    assert RuleSet.empty().ids == ()
