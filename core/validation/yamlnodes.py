"""Parse YAML into plain values while keeping every node's position.

``yaml.safe_load`` forgets positions and silently keeps the last of duplicate
keys, so rule files are read with ``yaml.compose`` and the node tree is turned
into Python values here. Every mapping entry and list item is recorded in a
``NodeIndex`` under its path, so later checks can point at the exact key or
value. As in YAML 1.2, only true/false are booleans: ``severity: off`` and
``yes``/``no``/``on`` stay strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import yaml
from yaml.constructor import SafeConstructor

from .diagnostics import ROOT_WHERE, SYNTAX_WHERE, Diagnostic, at_mark, at_node

Path = tuple[str | int, ...]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_LINE_BREAKS = frozenset("\n\r\x85\u2028\u2029")
MAX_NODES = 100_000
MAX_DEPTH = 64


def where_of(path: Path) -> str:
    """Render a path as ``rules.my-rule.then.functionOptions.values[2]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass
class NodeIndex:
    """Maps a path to the (key node, value node) that produced it."""

    root: yaml.Node
    entries: dict[Path, tuple[yaml.Node | None, yaml.Node]] = field(default_factory=dict)

    def value_node(self, path: Path) -> yaml.Node | None:
        """The value node at ``path`` (the root for the empty path)."""
        if not path:
            return self.root
        entry = self.entries.get(path)
        return entry[1] if entry else None

    def key_node(self, path: Path) -> yaml.Node | None:
        """The key node of the mapping entry at ``path``, if it is one."""
        entry = self.entries.get(path)
        return entry[0] if entry else None

    def nearest(self, path: Path) -> Path:
        """The longest prefix of ``path`` that names a known node."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.entries:
                return path[:end]
        return ()


@dataclass
class Document:
    """A parsed rule file: plain data plus the index of its nodes."""

    data: Any
    index: NodeIndex


def offset_to_mark(text: str, offset: int) -> yaml.Mark:
    """A 0-based mark for a character offset, counting YAML line breaks."""
    line = col = 0
    i = 0
    end = min(offset, len(text))
    while i < end:
        ch = text[i]
        if ch in _LINE_BREAKS:
            if ch == "\r" and i + 1 < end and text[i + 1] == "\n":
                i += 1
            line, col = line + 1, 0
        else:
            col += 1
        i += 1
    return yaml.Mark("<text>", offset, line, col, None, 0)  # no buffer: the pointer is never read


def _syntax_diagnostic(file: str, text: str, error: yaml.YAMLError) -> Diagnostic:
    if isinstance(error, yaml.reader.ReaderError):
        return at_mark(file, offset_to_mark(text, error.position),
                       f"character {error.character!r} is not allowed in YAML; remove it", SYNTAX_WHERE)
    problem = getattr(error, "problem", None) or "invalid YAML"
    context = getattr(error, "context", None)
    mark = getattr(error, "problem_mark", None)
    context_mark = getattr(error, "context_mark", None)
    at_end = mark is None or mark.index >= len(text)
    if context_mark is not None and at_end:
        message = f"YAML syntax error: {context} was never closed ({problem} before the end of the file)"
        return at_mark(file, context_mark, message, SYNTAX_WHERE)
    message = f"YAML syntax error: {problem}"
    if context and context_mark is not None:
        message += f" ({context} started at {context_mark.line + 1}:{context_mark.column + 1})"
    return at_mark(file, mark or offset_to_mark(text, len(text)), message, SYNTAX_WHERE)


def compose_text(text: str, file: str) -> tuple[yaml.Node | None, list[Diagnostic]]:
    """Compose ``text`` into a node tree, or report why it is not valid YAML."""
    try:
        return yaml.compose(text, Loader=_LOADER), []
    except yaml.YAMLError as error:
        return None, [_syntax_diagnostic(file, text, error)]
    except UnicodeEncodeError as error:
        mark = offset_to_mark(text, error.start)
        return None, [at_mark(file, mark, "text contains an unpaired surrogate; remove it", SYNTAX_WHERE)]
    except RecursionError:
        return None, [at_mark(file, offset_to_mark(text, 0), "YAML is nested too deeply", SYNTAX_WHERE)]


class _TooLarge(Exception):
    """Raised when alias expansion makes a document unreasonably large."""


class _Converter:
    """Turns a node tree into plain values, reporting duplicates and bad nodes."""

    def __init__(self, file: str, index: NodeIndex, diagnostics: list[Diagnostic]) -> None:
        self.file = file
        self.index = index
        self.diagnostics = diagnostics
        self.constructor = SafeConstructor()
        self.visited = 0
        self.active: set[int] = set()

    def error(self, node: yaml.Node, message: str, path: Path) -> None:
        self.diagnostics.append(at_node(self.file, node, message, where_of(path)))

    def convert(self, node: yaml.Node, path: Path) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise _TooLarge
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.active:
            self.error(node, "an alias refers to a node that contains it; remove the recursion", path)
            return None
        if len(path) >= MAX_DEPTH:
            self.error(node, f"nested deeper than {MAX_DEPTH} levels; flatten it", path)
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.item(child, (*path, i)) for i, child in enumerate(node.value)]
            return self.mapping(cast(yaml.MappingNode, node), path)  # composing makes no other node kind
        finally:
            self.active.discard(id(node))

    def item(self, node: yaml.Node, path: Path) -> Any:
        self.index.entries[path] = (None, node)
        return self.convert(node, path)

    def scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        if node.tag == _STR_TAG:
            return node.value
        if node.tag == _BOOL_TAG and node.value.lower() not in ("true", "false"):
            return node.value
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError, IndexError):
            self.error(node, f"cannot read {node.value!r} as {node.tag}; quote it or fix the tag", path)
            return node.value
        return value

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_node, "a key must be a plain name, not a list or mapping", path)
                continue
            key = key_node.value
            if key_node.tag == _MERGE_TAG:
                self.error(key_node, "merge keys ('<<') are not supported; write the keys out", path)
                continue
            here = (*path, key)
            if key in first_seen:
                first = first_seen[key].start_mark
                message = (
                    f"duplicate key '{key}' (first defined at {first.line + 1}:{first.column + 1}); "
                    "remove or rename one"
                )
                self.error(key_node, message, here)
            else:
                first_seen[key] = key_node
            self.index.entries[here] = (key_node, value_node)
            result[key] = self.convert(value_node, here)
        return result


def parse_document(text: str, file: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse ``text``; the document is None only when it is not usable at all."""
    root, diagnostics = compose_text(text, file)
    if root is None:
        return None, diagnostics
    index = NodeIndex(root)
    converter = _Converter(file, index, diagnostics)
    try:
        data = converter.convert(root, ())
    except _TooLarge:
        message = f"document expands to more than {MAX_NODES} values (too many aliases?); simplify it"
        diagnostics.append(at_node(file, root, message, ROOT_WHERE))
        return None, diagnostics
    return Document(data, index), diagnostics
