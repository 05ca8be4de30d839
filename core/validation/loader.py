"""Check rule text and load rule files into a ``RuleSet``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .diagnostics import SYNTAX_WHERE, Diagnostic, at_mark, at_start, has_errors, sort_key
from .model import Rule, RuleSet
from .schema import check_document
from .yamlnodes import offset_to_mark, parse_document

RULE_SUFFIXES = (".yaml", ".yml")


def check_rule_text(text: str, filename: str = "<text>") -> tuple[list[Rule], list[Diagnostic]]:
    """Check one rule file's text.

    Returns the rules that are valid on their own, and every diagnostic in the
    file sorted by position. Pure: it reads and writes nothing.
    """
    document, diagnostics = parse_document(text, filename)
    rules: list[Rule] = []
    if document is not None:
        rules = check_document(filename, document, diagnostics)
    elif not diagnostics:
        diagnostics.append(at_start(filename, "the file is empty; start it with 'rules:' and at least one rule"))
    return rules, sorted(_first_per_node(diagnostics), key=sort_key)


def _first_per_node(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Keep one diagnostic per position and path: the first is the root cause."""
    seen: set[tuple[int, int, str]] = set()
    kept = []
    for diagnostic in diagnostics:
        key = (diagnostic.line, diagnostic.col, diagnostic.where)
        if key not in seen:
            seen.add(key)
            kept.append(diagnostic)
    return kept


def _duplicate_ids(rules: list[Rule]) -> list[Diagnostic]:
    first: dict[str, Rule] = {}
    diagnostics = []
    for rule in rules:
        earlier = first.setdefault(rule.id, rule)
        if earlier is not rule:
            message = f"rule id '{rule.id}' is already defined at {earlier.file}:{earlier.line}; rename one"
            diagnostics.append(Diagnostic(rule.file, rule.line, rule.col, "error", message, f"rules.{rule.id}"))
    return diagnostics


def load_rule_texts(sources: Iterable[tuple[str, str]]) -> tuple[RuleSet | None, list[Diagnostic]]:
    """Build one rule set from ``(filename, text)`` pairs, in order.

    The rule set is None if any file has an error, including a rule id that
    another file already defines.
    """
    rules: list[Rule] = []
    diagnostics: list[Diagnostic] = []
    for filename, text in sources:
        file_rules, file_diagnostics = check_rule_text(text, filename)
        rules.extend(file_rules)
        diagnostics.extend(file_diagnostics)
    diagnostics.extend(_duplicate_ids(rules))
    if has_errors(diagnostics):
        return None, diagnostics
    return RuleSet(tuple(rules)), diagnostics


def expand_rule_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Files as given; directories replaced by their ``*.yaml``/``*.yml`` files, sorted.

    A file reached twice (listed and inside a listed directory) appears once.
    """
    candidates: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            candidates.extend(sorted(p for p in path.iterdir() if p.suffix in RULE_SUFFIXES and p.is_file()))
        else:
            candidates.append(path)
    seen: set[Path] = set()
    expanded = []
    for path in candidates:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            expanded.append(path)
    return expanded


def read_rule_file(path: Path) -> tuple[str | None, list[Diagnostic]]:
    """The file's text, or a diagnostic saying why it could not be read."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, [at_start(str(path), "rule file not found; create it or remove it from the list")]
    except OSError as error:
        return None, [at_start(str(path), f"cannot read rule file: {error.strerror or error}")]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as error:
        good = data[: error.start].decode("utf-8")
        mark = offset_to_mark(good, len(good))
        message = f"rule file is not valid UTF-8 ({error.reason}); save it as UTF-8"
        return None, [at_mark(str(path), mark, message, SYNTAX_WHERE)]


def load_rule_files(paths: Iterable[Path | str]) -> tuple[RuleSet | None, list[Diagnostic]]:
    """Load rule files (directories expand to their YAML files) into one rule set.

    Returns None as the rule set if any file is unreadable or has an error.
    """
    sources: list[tuple[str, str]] = []
    unreadable: list[Diagnostic] = []
    for path in expand_rule_paths(paths):
        text, problems = read_rule_file(path)
        unreadable.extend(problems)
        if text is not None:
            sources.append((str(path), text))
    ruleset, diagnostics = load_rule_texts(sources)
    if unreadable:
        return None, unreadable + diagnostics
    return ruleset, diagnostics
