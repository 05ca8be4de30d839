"""Raw settings from each configuration source, each value tagged with where it came from.

Three readers feed :func:`quarterdeck.core.config.load_config`: explicit arguments, ``COORDINATION_*``
environment variables and the YAML file. A reader never validates types; it only collects
values, their provenance and structural problems (unknown or duplicate keys, unreadable files,
YAML syntax errors). The YAML file is composed into nodes rather than ``safe_load``-ed, so
every key and value keeps its line and column and duplicate keys are seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

SourceKind = Literal["argument", "env", "file", "default"]
_NULL_TAG = "tag:yaml.org,2002:null"


@dataclass(frozen=True)
class ValueSource:
    """Where a value came from.

    ``detail`` is the environment variable's name for ``env``; for ``file`` it is ``path:line``
    for an effective value and ``path:line:col`` (of the offending node) in a problem; it is
    empty for ``argument`` and ``default``.
    """

    kind: SourceKind
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.detail}" if self.detail else self.kind

    def where(self) -> str:
        """The location as an error message shows it: a bare ``path:line:col`` for files."""
        return self.detail if self.kind == "file" and self.detail else str(self)


ARGUMENT = ValueSource("argument")
DEFAULT = ValueSource("default")


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with the configuration; ``str()`` gives a one-line explanation."""

    field: str
    source: ValueSource
    expected: str
    message: str
    value: str

    def __str__(self) -> str:
        subject = self.field or "config"
        return f"{subject}: {self.message} from {self.source.where()}: expected {self.expected}"


@dataclass(frozen=True)
class RawValue:
    """A value as one source supplied it, before validation."""

    value: Any
    text: str
    source: ValueSource
    origin: ValueSource


@dataclass
class Reading:
    """What one source supplied: values by field name, and the problems found on the way."""

    values: dict[str, RawValue] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)
    base_dir: Path | None = None


def one_of(names: Sequence[str]) -> str:
    return "one of " + ", ".join(names)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def read_arguments(overrides: Mapping[str, Any], fields: Sequence[str]) -> Reading:
    """Explicit values, keyed by field name; an unknown name is a problem."""
    reading = Reading()
    for key, value in overrides.items():
        if key in fields:
            reading.values[key] = RawValue(value, _text(value), ARGUMENT, ARGUMENT)
        else:
            reading.problems.append(ConfigProblem(_text(key), ARGUMENT, one_of(fields), "unknown key", _text(key)))
    return reading


def read_env(env: Mapping[str, str], prefix: str, fields: Sequence[str]) -> Reading:
    """``<prefix><FIELD>`` variables, matched without regard to case.

    Variables with the prefix that name no field are ignored (the prefix is generic enough to be
    shared with other tools). Two spellings of one variable set at once are a problem.
    """
    names: dict[str, list[str]] = {}
    for name in env:
        upper = name.upper()
        if upper.startswith(prefix) and upper[len(prefix):].lower() in fields:
            names.setdefault(upper[len(prefix):].lower(), []).append(name)
    reading = Reading()
    for key in fields:
        found = sorted(names.get(key, []))
        if len(found) == 1:
            source = ValueSource("env", found[0])
            reading.values[key] = RawValue(env[found[0]], env[found[0]], source, source)
        elif found:
            source = ValueSource("env", ", ".join(found))
            reading.problems.append(ConfigProblem(
                key, source, "only one of these variables to be set", "set by more than one variable", ""))
    return reading


class _LineColumn(Protocol):
    """A place in a file, 0-based: a YAML mark or a :class:`_Mark`."""

    line: int
    column: int


def _position(path: Path, mark: _LineColumn | None, with_column: bool = True) -> ValueSource:
    if mark is None:
        return ValueSource("file", str(path))
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if with_column else f"{path}:{mark.line + 1}"
    return ValueSource("file", where)


def _node_text(node: yaml.Node, value: Any) -> str:
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    return yaml.safe_dump(value, default_flow_style=True).strip()


class _Mark:
    """A 0-based line and column worked out from a character offset."""

    def __init__(self, text: str, index: int) -> None:
        self.line = text.count("\n", 0, index)
        self.column = index - (text.rfind("\n", 0, index) + 1)


def _syntax_problem(path: Path, text: str, exc: yaml.YAMLError) -> ConfigProblem:
    mark: _LineColumn | None
    if isinstance(exc, yaml.MarkedYAMLError):
        problem_mark = exc.problem_mark
        if problem_mark is None or (exc.context_mark is not None and problem_mark.index >= len(text)):
            mark = exc.context_mark
        else:
            mark = problem_mark
        reason = ", ".join(part for part in (exc.context, exc.problem) if part) or "unreadable"
    else:
        position = getattr(exc, "position", None)
        mark = _Mark(text, position) if isinstance(position, int) else None
        reason = getattr(exc, "reason", None) or str(exc)
    return ConfigProblem("", _position(path, mark), "valid YAML", f"invalid YAML ({reason})", "")


def _unreadable(path: Path, reason: str, expected: str) -> Reading:
    return Reading(problems=[ConfigProblem("", ValueSource("file", str(path)), expected, reason, str(path))])


def read_yaml_file(path: Path, fields: Sequence[str], required: bool) -> Reading:
    """The settings mapping of a YAML file; an empty file supplies nothing.

    A missing file is a problem only when ``required`` (it was named explicitly).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _unreadable(path, "file not found", "an existing YAML file") if required else Reading()
    except OSError as exc:
        return _unreadable(path, f"cannot read the file ({exc.strerror or exc})", "a readable YAML file")
    except UnicodeDecodeError as exc:
        return _unreadable(path, f"cannot read the file ({exc.reason} at byte {exc.start})", "UTF-8 text")
    reading = Reading(base_dir=path.absolute().parent)
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)
        root = loader.get_single_node()
        if root is not None and root.tag != _NULL_TAG:
            _read_mapping(loader, root, path, fields, reading)
    except yaml.YAMLError as exc:
        reading.problems.append(_syntax_problem(path, text, exc))
    finally:
        if loader is not None:
            loader.dispose()
    return reading


def _read_mapping(loader: yaml.SafeLoader, root: yaml.Node, path: Path, fields: Sequence[str],
                  reading: Reading) -> None:
    if not isinstance(root, yaml.MappingNode):
        kind = "list" if isinstance(root, yaml.SequenceNode) else "single value"
        reading.problems.append(ConfigProblem(
            "", _position(path, root.start_mark), "a mapping of setting names to values",
            f"the document is a {kind}", root.value if isinstance(root, yaml.ScalarNode) else ""))
        return
    first_seen: dict[str, yaml.Node] = {}
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
        where = _position(path, key_node.start_mark)
        if key not in fields:
            reading.problems.append(ConfigProblem(key, where, one_of(fields), "unknown key", key))
        elif key in first_seen:
            first_line = first_seen[key].start_mark.line + 1
            reading.problems.append(ConfigProblem(
                key, where, "each setting at most once", f"duplicate key (first set on line {first_line})", key))
        else:
            first_seen[key] = key_node
            _read_value(loader, path, key, key_node, value_node, reading)


def _read_value(loader: yaml.SafeLoader, path: Path, key: str, key_node: yaml.Node, node: yaml.Node,
                reading: Reading) -> None:
    where = _position(path, node.start_mark)
    try:
        value = loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError) as exc:
        reason = getattr(exc, "problem", None) or str(exc)
        text = node.value if isinstance(node, yaml.ScalarNode) else ""
        reading.problems.append(ConfigProblem(key, where, "a plain YAML value", f"unreadable value ({reason})", text))
        return
    source = _position(path, key_node.start_mark, with_column=False)
    reading.values[key] = RawValue(value, _node_text(node, value), source, where)
