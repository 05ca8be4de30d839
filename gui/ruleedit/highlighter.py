"""YAML colouring for the rule editor: a table of patterns plus block state for ``|``/``>`` text.

Rules run in table order and a later match paints over an earlier one, so strings and comments
come last: a ``#`` inside a quoted string stays part of the string. Offsets from
QRegularExpression are already UTF-16, which is what ``setFormat`` expects. The colours come in
a light and a dark set, picked from the palette's base colour, so both themes stay readable.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QColor, QFont, QPalette, QSyntaxHighlighter, QTextCharFormat, QTextDocument

from quarterdeck.core.validation.editing import utf16_len

#: role -> (colour on a light base, colour on a dark base)
COLOURS: dict[str, tuple[str, str]] = {
    "key": ("#1a4f9c", "#8ab4f8"),
    "string": ("#2e7d32", "#a5d6a7"),
    "comment": ("#6a737d", "#9aa4ae"),
    "number": ("#a0522d", "#ffb86c"),
    "constant": ("#8e24aa", "#d7a6ff"),
    "anchor": ("#00796b", "#80cbc4"),
    "dash": ("#c2185b", "#f48fb1"),
}

# Quotes open a string only where a YAML scalar may start, so "Don't" is not a string.
_STRING_OR_COMMENT = (r"(?:^|(?<=[\s\[{,:]))(\"(?:[^\"\\]|\\.)*\"?|'(?:[^']|'')*'?)"
                      r"|(?:^|(?<=\s))(#.*)$")
_RULES: tuple[tuple[str, str, int], ...] = (
    ("number", r"(?<![\w.\-])[-+]?(?:0x[0-9A-Fa-f]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)(?![\w.\-])", 0),
    ("constant", r"(?<![\w\-])(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|~)(?![\w\-])", 0),
    ("key", r"^\s*(?:-\s+)?(\"[^\"]*\"|'[^']*'|[^\s#'\"\[\]{},&*!|>-][^#]*?|-[^\s#][^#]*?)\s*:(?=\s|$)", 1),
    ("key", r"[{,]\s*([A-Za-z_][\w\-]*)\s*:(?=\s)", 1),
    ("dash", r"^\s*(-)(?=\s|$)", 1),
    ("anchor", r"(?:^|(?<=[\s\[{,]))[&*][^\s,\[\]{}]+", 0),
)
_BLOCK_START = QRegularExpression(r"^(\s*)(?:-\s+|[^#]*:\s+|-?\s*)[|>][-+0-9]*\s*(?:#.*)?$")


@dataclass(frozen=True, slots=True)
class Scheme:
    formats: dict[str, QTextCharFormat]
    dark: bool


def scheme_for(palette: QPalette) -> Scheme:
    """Character formats for each role, in the light or dark set to suit ``palette``."""
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    formats = {}
    for role, (light_colour, dark_colour) in COLOURS.items():
        fmt = QTextCharFormat()
        fmt.setForeground(QColor(dark_colour if dark else light_colour))
        if role == "comment":
            fmt.setFontItalic(True)
        if role in ("key", "dash"):
            fmt.setFontWeight(QFont.Weight.DemiBold)
        formats[role] = fmt
    return Scheme(formats, dark)


class YamlHighlighter(QSyntaxHighlighter):
    """Colours keys, comments, strings, numbers, booleans and null, anchors, aliases, dashes.

    The block state is -1 outside a block scalar, else the indentation of the line that opened
    it: more-indented (or blank) lines that follow are its text.
    """

    def __init__(self, document: QTextDocument, palette: QPalette) -> None:
        super().__init__(document)
        self.scheme = scheme_for(palette)
        self._rules = [(QRegularExpression(p), role, group) for role, p, group in _RULES]
        self._strings = QRegularExpression(_STRING_OR_COMMENT)

    def set_palette(self, palette: QPalette) -> None:
        """Follow a theme change: pick the matching colours and repaint."""
        scheme = scheme_for(palette)
        if scheme.dark != self.scheme.dark:
            self.scheme = scheme
            self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        parent_indent = self.previousBlockState()
        self.setCurrentBlockState(-1)
        if parent_indent >= 0:
            indent = len(text) - len(text.lstrip(" "))
            if not text.strip() or indent > parent_indent:
                self.setFormat(0, utf16_len(text), self.scheme.formats["string"])
                self.setCurrentBlockState(parent_indent)
                return
        formats = self.scheme.formats
        for expression, role, group in self._rules:
            matches = expression.globalMatch(text)
            while matches.hasNext():
                match = matches.next()
                self.setFormat(match.capturedStart(group), match.capturedLength(group), formats[role])
        matches = self._strings.globalMatch(text)
        while matches.hasNext():
            match = matches.next()
            group = 1 if match.capturedStart(1) >= 0 else 2
            role = "string" if group == 1 else "comment"
            self.setFormat(match.capturedStart(group), match.capturedLength(group), formats[role])
        opened = _BLOCK_START.match(text)
        if opened.hasMatch():
            self.setCurrentBlockState(opened.capturedLength(1))
