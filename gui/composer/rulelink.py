"""From a problem in the composer to its rule in the Rules panel ("Open rule").

The main window keeps its panels by name; the Rules panel is ``rules``. It has no "show this
rule" command of its own, so the composer finds the line that defines the rule in the texts the
Rules panel has open (``quarterdeck.core.validation.editing.find_rule``), brings that panel forward, shows the
file's tab and puts the cursor on the rule's key. Any step that is not possible is said in words.
"""
from __future__ import annotations

from PySide6.QtWidgets import QWidget

from quarterdeck.core.compose.draft import Problem
from quarterdeck.core.validation.editing import find_rule


def open_rule(widget: QWidget, problem: Problem) -> tuple[str, bool]:
    """Show ``problem``'s rule in the Rules panel of ``widget``'s window; (what happened, is an error)."""
    window = widget.window()
    panels = getattr(window, "panels", {})
    rules = panels.get("rules")
    if rules is None:
        return (f"Rule {problem.rule_id}: there is no Rules panel in this window "
                "(`quarterdeck rules check` shows the rule files)."), True
    tabs = getattr(rules, "tabs", None)
    texts = tabs.texts() if tabs is not None else {}
    if tabs is None or not texts:
        return f"Rule {problem.rule_id}: the Rules panel is still reading the rule files; try again.", True
    where = find_rule(texts, problem.rule_id)
    if where is None:
        return (f"Rule {problem.rule_id} is not in the open rule files: it is the composer's own check, "
                "not a rule you can edit."), True
    name, line, col = where
    focus = getattr(window, "focus_panel", None)
    if focus is not None:
        focus("rules")
    else:
        rules.bring_forward()
    editor = tabs.show_editor(name)
    editor.move_to(line, col)
    return f"Rule {problem.rule_id}: {name}, line {line}.", False
