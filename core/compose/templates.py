"""Message templates: files with ``{agent_id}``, ``{role}`` and ``{contract}`` placeholders.

Bundled defaults (onboarding, wrap-up) ship in ``assets/templates/*.md``; the captain's own live in
``<user config>/templates/*.md`` and replace a bundled one of the same name. Everything here is
plain file and string work, so the composer runs it off the UI thread and tests run it without Qt.

Syntax: ``{name}`` is a placeholder, ``{{`` and ``}}`` are literal braces, and a lone ``}`` is
taken literally. An unknown name or a ``{`` that is never closed is a ``TemplateError`` that says
where (offset, line, column), so a typo is caught before anything is sent.

Rendering never doubles a prefix: ``Hello Agent-{agent_id}`` for ``Agent-3`` gives
``Hello Agent-3``, because the literal text already spelled the start of the id.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct

from quarterdeck.core.fileops import write_atomically
from quarterdeck.core.paths import user_config_dir
from quarterdeck.core.resources import bundled_assets_dir

if TYPE_CHECKING:
    from quarterdeck.core.models import Agent

PLACEHOLDERS: tuple[str, ...] = ("agent_id", "role", "contract")
SUFFIX = ".md"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
_SEPARATORS = "-_."


class TemplateError(ValueError):
    """A template that cannot be rendered; ``offset`` is a code-point index into its text."""

    def __init__(self, problem: str, text: str, offset: int, length: int = 1, name: str = "") -> None:
        self.problem = problem
        self.offset = offset
        self.length = max(1, length)
        self.name = name
        self.line = text.count("\n", 0, offset) + 1
        self.col = offset - (text.rfind("\n", 0, offset) + 1) + 1
        super().__init__(f"line {self.line}, column {self.col}: {problem}")

    @property
    def span(self) -> tuple[int, int]:
        return (self.offset, self.offset + self.length)


class Slot(Struct, frozen=True):
    """One ``{name}`` in a template: ``start``/``end`` cover the braces."""

    name: str
    start: int
    end: int


Part = str | Slot


def parse(text: str) -> list[Part]:
    """The template as literal strings and slots, in order; raises ``TemplateError``."""
    parts: list[Part] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "{}" and text.startswith(ch * 2, i):
            literal.append(ch)
            i += 2
            continue
        if ch != "{":
            literal.append(ch)
            i += 1
            continue
        close = text.find("}", i + 1)
        newline = text.find("\n", i + 1)
        if close < 0 or 0 <= newline < close:
            raise TemplateError("'{' is never closed (write '{{' for a literal brace)", text, i)
        name = text[i + 1:close]
        if name not in PLACEHOLDERS:
            shown = name if _NAME.fullmatch(name) else repr(name)
            raise TemplateError(f"unknown placeholder {{{name}}}: use {known_list()} "
                                "(or '{{' for a literal brace)", text, i, close + 1 - i, shown)
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(Slot(name, i, close + 1))
        i = close + 1
    if literal:
        parts.append("".join(literal))
    return parts


def known_list() -> str:
    return ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)


def placeholders(text: str) -> list[str]:
    """The placeholder names ``text`` uses, in first-use order; raises ``TemplateError``."""
    return list(dict.fromkeys(part.name for part in parse(text) if isinstance(part, Slot)))


def agent_values(agent: Agent, *, contract: str | None = None) -> dict[str, str]:
    """What each placeholder stands for with this agent (``contract`` only when given)."""
    values = {"agent_id": agent.id, "role": agent.role}
    if contract is not None:
        values["contract"] = contract
    return values


class Rendered(Struct, frozen=True):
    """Rendered text plus where each piece came from, so a span in the output maps back."""

    text: str
    template: str
    _starts: tuple[int, ...]  # output offset where each piece starts
    _sources: tuple[tuple[int, int, bool], ...]  # (source start, source end, is a slot)

    def source_span(self, span: tuple[int, int]) -> tuple[int, int]:
        """The template span behind ``span`` of the output; a slot maps to the whole ``{name}``."""
        return (self._source_at(span[0], end=False), self._source_at(span[1], end=True))

    def _source_at(self, offset: int, *, end: bool) -> int:
        if not self._starts:
            return 0
        piece = bisect_right(self._starts, offset - 1 if end and offset > 0 else offset) - 1
        piece = max(piece, 0)
        start, stop, slot = self._sources[piece]
        if slot:
            return stop if end else start
        within = self.text[self._starts[piece]:offset]
        return min(part_end(self.template, start, within), stop)


def render_mapped(text: str, values: Mapping[str, str]) -> Rendered:
    """Fill every slot from ``values``; a slot without a value is a ``TemplateError``."""
    out: list[str] = []
    starts: list[int] = []
    sources: list[tuple[int, int, bool]] = []
    length = 0
    source = 0
    for part in parse(text):
        if isinstance(part, str):
            starts.append(length)
            end = part_end(text, source, part)
            sources.append((source, end, False))
            out.append(part)
            length += len(part)
            source = end
            continue
        if part.name not in values:
            raise TemplateError(f"{{{part.name}}} has no value here (the onboarding flow fills it)",
                                text, part.start, part.end - part.start, part.name)
        value = values[part.name]
        doubled = doubled_prefix(out[-1], value) if sources and not sources[-1][2] else 0
        if doubled:
            out[-1] = out[-1][:-doubled]
            length -= doubled
        starts.append(length)
        sources.append((part.start, part.end, True))
        out.append(value)
        length += len(value)
        source = part.end
    return Rendered("".join(out), text, tuple(starts), tuple(sources))


def part_end(text: str, start: int, literal: str) -> int:
    """Where a literal piece starting at ``start`` ends in the source (escaped braces count 2)."""
    i = start
    for ch in literal:
        i += 2 if ch in "{}" and text.startswith(ch * 2, i) else 1
    return i


def doubled_prefix(before: str, value: str) -> int:
    """How many trailing characters of ``before`` repeat the start of ``value`` (``Agent-``)."""
    longest = 0
    for i, ch in enumerate(value):
        if ch in _SEPARATORS and before.lower().endswith(value[: i + 1].lower()):
            longest = i + 1
    return longest


def render(text: str, agent: Agent, *, contract: str | None = None) -> str:
    """``text`` with this agent's values filled in (see the module docstring)."""
    return render_mapped(text, agent_values(agent, contract=contract)).text


# -- files -------------------------------------------------------------------------------------
class TemplateInfo(Struct, frozen=True):
    name: str
    path: Path
    bundled: bool

    @property
    def label(self) -> str:
        return self.name if self.bundled else f"{self.name} (yours)"


def user_templates_dir() -> Path:
    return user_config_dir() / "templates"


def bundled_templates_dir() -> Path | None:
    try:
        folder = bundled_assets_dir() / "templates"
    except FileNotFoundError:
        return None
    return folder if folder.is_dir() else None


def list_templates(user_dir: Path | None = None, bundled_dir: Path | None = None) -> list[TemplateInfo]:
    """Every template by name: a user template hides a bundled one of the same name."""
    found: dict[str, TemplateInfo] = {}
    bundled = bundled_dir if bundled_dir is not None else bundled_templates_dir()
    for folder, is_bundled in ((bundled, True), (user_dir or user_templates_dir(), False)):
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.glob(f"*{SUFFIX}")):
            if path.is_file():
                found[path.stem] = TemplateInfo(path.stem, path, is_bundled)
    return sorted(found.values(), key=lambda t: (t.bundled is False, t.name.lower()))


def load_template(info: TemplateInfo | Path) -> str:
    """The template's text without the file's final newline (it is not part of the message)."""
    path = info.path if isinstance(info, TemplateInfo) else info
    text = path.read_text(encoding="utf-8")
    return text[:-1] if text.endswith("\n") else text


def check_template_name(name: str) -> str:
    """The name stripped, or ValueError saying what a template name may contain."""
    name = name.strip()
    if not _FILE_NAME.fullmatch(name) or name.endswith("."):
        raise ValueError("a template name starts with a letter or digit and has at most 64 letters, "
                         "digits, spaces, '_', '.' or '-'")
    return name


def save_template(name: str, text: str, user_dir: Path | None = None) -> TemplateInfo:
    """Write a user template (replacing one of that name) after checking that it renders."""
    name = check_template_name(name)
    parse(text)
    path = (user_dir or user_templates_dir()) / f"{name}{SUFFIX}"
    write_atomically(path, text if text.endswith("\n") else text + "\n", backup=False)
    return TemplateInfo(name, path, False)


def suggested_fields(name: str) -> tuple[str | None, tuple[str, ...]]:
    """The message type and tags a template's name suggests (onboarding, wrap-up)."""
    key = name.lower().replace("-", "").replace("_", "").replace(" ", "")
    if key == "onboarding":
        return "onboarding", ("onboarding",)
    if key == "wrapup":
        return None, ("wrapup",)
    return None, ()
