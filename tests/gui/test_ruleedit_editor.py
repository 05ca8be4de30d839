"""The rule editor's parts on their own: YAML colouring, problem underlines at UTF-16 positions,
the gutter, and the problems list."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QApplication, QToolTip

from quarterdeck.core.validation import check_rule_text
from quarterdeck.gui.ruleedit.editor import SEVERITY_COLOURS, RuleEditor
from quarterdeck.gui.ruleedit.highlighter import COLOURS
from quarterdeck.gui.ruleedit.problems import ProblemsModel, ProblemsPane

YAML = """# rules for the demo
version: 1
rules:
  anchor-demo: &base
    description: "a # not a comment"
    enabled: true
    nothing: null
    list:
      - item
    copy: *base
    note: |
      block text: not a key
      # not a comment either
    after: 'done' # trailing
    options: {max: 10, unit: lines}
"""

EMOJI_RULE = '  demo: {description: "🎉 party", severity: bogus, given: content, then: {function: required}}'


def colour_at(editor: RuleEditor, line: int, col: int) -> str | None:
    """The foreground the highlighter gave the character at 0-based line/col (UTF-16), if any."""
    block = editor.document().findBlockByNumber(line)
    for fmt_range in block.layout().formats():
        if fmt_range.start <= col < fmt_range.start + fmt_range.length:
            return fmt_range.format.foreground().color().name()
    return None


def light(role: str) -> str:
    return COLOURS[role][0]


def make_editor(qtbot, text: str, name: str = "message.yaml") -> RuleEditor:
    editor = RuleEditor(name)
    qtbot.addWidget(editor)
    editor.setPalette(QPalette(QColor("#f0f0f0")))  # a light theme, whatever the platform default
    editor.highlighter.set_palette(editor.palette())
    editor.setPlainText(text)
    return editor


def test_the_highlighter_colours_each_kind_of_token(qtbot):
    editor = make_editor(qtbot, YAML)
    assert colour_at(editor, 0, 0) == light("comment")
    assert colour_at(editor, 1, 0) == light("key") and colour_at(editor, 1, 9) == light("number")
    assert colour_at(editor, 3, 2) == light("key") and colour_at(editor, 3, 15) == light("anchor")
    assert colour_at(editor, 4, 17) == light("string") and colour_at(editor, 4, 21) == light("string")
    assert colour_at(editor, 5, 13) == light("constant") and colour_at(editor, 6, 13) == light("constant")
    assert colour_at(editor, 8, 6) == light("dash")
    assert colour_at(editor, 9, 10) == light("anchor")
    assert colour_at(editor, 11, 6) == light("string") and colour_at(editor, 11, 16) == light("string")
    assert colour_at(editor, 12, 6) == light("string")  # inside the block scalar: not a comment
    assert colour_at(editor, 13, 11) == light("string") and colour_at(editor, 13, 19) == light("comment")
    assert colour_at(editor, 14, 14) == light("key") and colour_at(editor, 14, 19) == light("number")
    assert colour_at(editor, 14, 23) == light("key")
    ranges = editor.document().findBlockByNumber(0).layout().formats()
    assert ranges[0].format.fontItalic()


def test_the_block_scalar_ends_at_the_first_line_indented_like_its_key(qtbot):
    editor = make_editor(qtbot, YAML)
    states = [editor.document().findBlockByNumber(n).userState() for n in range(10, 14)]
    assert states == [4, 4, 4, -1]


def test_a_dark_palette_switches_to_the_dark_colours(qtbot):
    editor = make_editor(qtbot, YAML)
    editor.setPalette(QPalette(QColor("#202020")))
    assert editor.highlighter.scheme.dark
    assert colour_at(editor, 1, 0) == COLOURS["key"][1]


def test_problems_are_wave_underlined_at_utf16_positions_with_gutter_marks(qtbot):
    text = "rules:\n" + EMOJI_RULE + "\n"
    editor = make_editor(qtbot, text)
    _, diagnostics = check_rule_text(text, "message.yaml")
    (diagnostic,) = diagnostics
    assert (diagnostic.line, diagnostic.col) == (2, 44)
    editor.set_diagnostics(diagnostics)
    (wave,) = [s for s in editor.extraSelections()
               if s.format.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline]
    block = editor.document().findBlockByNumber(1)
    assert wave.cursor.selectionStart() - block.position() == 44  # 43 code points + the emoji's 2nd unit
    assert wave.cursor.selectedText() == "bogus"  # the value node, as the checker spans it
    assert wave.format.underlineColor() == QColor(SEVERITY_COLOURS["error"])
    assert "invalid value 'bogus'" in editor.problems_on_line(1)
    assert editor.problems_on_line(0) == ""
    editor.move_to(2, 44)
    assert editor.textCursor().position() == block.position() + 44


def test_a_warning_is_underlined_in_orange(qtbot):
    text = ("rules:\n  r:\n    severity: error\n    given: content\n    message: 'Oops {{nope}}'\n"
            "    then: {function: required}\n")
    editor = make_editor(qtbot, text)
    _, diagnostics = check_rule_text(text, "message.yaml")
    assert [d.severity for d in diagnostics] == ["warning"]
    editor.set_diagnostics(diagnostics)
    (wave,) = [s for s in editor.extraSelections()
               if s.format.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline]
    assert wave.format.underlineColor() == QColor(SEVERITY_COLOURS["warning"])


def test_a_syntax_error_at_the_end_still_marks_a_character(qtbot):
    text = "rules:\n  r: {given: content\n"
    editor = make_editor(qtbot, text)
    _, diagnostics = check_rule_text(text, "message.yaml")
    editor.set_diagnostics(diagnostics)
    waves = [s for s in editor.extraSelections()
             if s.format.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline]
    assert len(waves) == 1
    assert editor.position_at(99, 1) == editor.document().characterCount() - 1


def test_hovering_shows_the_problem(qtbot):
    text = "rules:\n" + EMOJI_RULE + "\n"
    editor = make_editor(qtbot, text)
    editor.resize(900, 200)
    editor.show()
    qtbot.waitExposed(editor)
    editor.set_diagnostics(check_rule_text(text, "message.yaml")[1])
    cursor = editor.textCursor()
    cursor.setPosition(editor.position_at(2, 46))
    spot = editor.cursorRect(cursor).center()  # viewport coordinates
    viewport = editor.viewport()
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, spot, viewport.mapToGlobal(spot)))
    assert "invalid value 'bogus'" in QToolTip.text()
    elsewhere = editor.cursorRect(QTextCursor(editor.document())).center()  # line 1: no problem
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, elsewhere, viewport.mapToGlobal(elsewhere)))
    gutter_spot = QPoint(5, spot.y())
    QApplication.sendEvent(editor.gutter, QHelpEvent(QEvent.Type.ToolTip, gutter_spot,
                                                      editor.gutter.mapToGlobal(gutter_spot)))
    assert "invalid value 'bogus'" in QToolTip.text()
    assert editor.line_at_y(spot.y()) == 1 and editor.line_at_y(10_000) == -1
    editor.grab()  # paints the gutter with its mark


def test_tab_inserts_spaces_because_yaml_forbids_tabs(qtbot):
    editor = make_editor(qtbot, "")
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    qtbot.keyClicks(editor, "x")
    assert editor.toPlainText() == "  x"


def test_the_problems_model_updates_rows_in_place(qtbot, qtmodeltester):
    _, first = check_rule_text("rules:\n" + EMOJI_RULE + "\n  b: [\n", "message.yaml")
    _, second = check_rule_text("rules:\n" + EMOJI_RULE + "\n", "message.yaml")
    model = ProblemsModel()
    model.set_diagnostics(first)
    qtmodeltester.check(model)
    changes: list[int] = []
    model.dataChanged.connect(lambda top, bottom: changes.append(top.row()))
    model.rowsRemoved.connect(lambda parent, first_row, last: changes.append(-1))
    model.set_diagnostics(second)
    assert model.rowCount() == len(second)
    assert model.data(model.index(0, 1)) == f"message.yaml:{second[0].line}:{second[0].col}"
    assert model.data(model.index(0, 0)) == "● error"
    assert model.headerData(2, Qt.Orientation.Horizontal) == "Problem"
    qtmodeltester.check(model)


def test_the_problems_pane_steps_and_wraps(qtbot):
    pane = ProblemsPane()
    qtbot.addWidget(pane)
    assert pane.step(1) is None
    text = "rules:\n" + EMOJI_RULE + "\n" + EMOJI_RULE.replace("demo", "other") + "\n"
    diagnostics = check_rule_text(text, "message.yaml")[1]
    pane.show_problems(diagnostics, 1)
    assert pane.summary.text().startswith("Problems: 2 errors, 0 warnings")
    assert pane.step(1) == diagnostics[0]
    assert pane.step(1) == diagnostics[1]
    assert pane.step(1) == diagnostics[0]
    assert pane.step(-1) == diagnostics[1]
    pane.show_problems([], 3)
    assert pane.summary.text() == "No problems in 3 files."
