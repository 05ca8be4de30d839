"""The panel starts fast (issue 15): its window is painted before what it can do without.

- the first paint imports no pyqtgraph and makes only the panels in front; the ones behind tabs
  are made after it, the charts' plots when the Charts tab comes in front; the history's first
  page is read after it;
- the panel specs the window is laid out from agree with the panel classes;
- the charts' stand-in keeps exactly the room the charts take once made (no jump when shown);
- work queued for after the first paint runs after it, in order, and once;
- the lighter PySide6 import hook answers as PySide6's own for every module loaded.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from quarterdeck.gui.app import PANELS
from quarterdeck.gui.firstpaint import after_first_paint
from quarterdeck.gui.mainwindow import MainWindow
from quarterdeck.gui.panelset import ATTENTION, PANEL_SPECS

BEHIND_TABS = {"rules", "charts", "contracts", "onboarding", "deadletters", "attention"}


def _run_probed_start(tmp_path, extra_env: dict[str, str]) -> str:
    roster = tmp_path / "agents.yaml"
    roster.write_text(f"agents:\n  - {{id: Agent-1, transport: inbox, path: {tmp_path / 'inbox'}}}\n")
    env = {**os.environ, "QUARTERDECK_STARTUP_PROBE": "1", "QUARTERDECK_CONFIG_DIR": str(tmp_path / "config"),
           "QUARTERDECK_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path), **extra_env}
    out = subprocess.run([sys.executable, "-m", "quarterdeck.gui", "--roster", str(roster)], env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_first_paint_imports_no_pyqtgraph_and_makes_only_the_panels_in_front(tmp_path):
    stdout = _run_probed_start(tmp_path, {"QT_QPA_PLATFORM": "offscreen"})
    lines = dict(line.split(": ", 1) for line in stdout.splitlines() if line.startswith("at first paint"))
    assert stdout.startswith("first paint at "), stdout
    assert "pyqtgraph" not in lines["at first paint, imported"].split(","), stdout
    made = set(lines["at first paint, panels made"].split(","))
    assert {"roster", "composer", "history"} <= made and not made & {"charts", "rules", "contracts", "deadletters"}
    assert lines["at first paint, history count"] == "Counting…"  # its first page comes after the paint


def test_a_cold_import_of_the_window_imports_no_pyqtgraph():
    code = ("import sys\n"
            "import quarterdeck.gui.app, quarterdeck.gui.mainwindow, quarterdeck.gui.panelset\n"
            "import quarterdeck.gui.context, quarterdeck.gui.charts.panel, quarterdeck.gui.charts.health\n"
            "print('pyqtgraph' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False", out.stdout


def test_the_panel_specs_are_what_the_panel_classes_say():
    assert [spec.where for spec in PANEL_SPECS] == list(PANELS)
    for spec in (*PANEL_SPECS, ATTENTION):
        cls = spec.load()
        assert (spec.NAME, spec.TITLE, spec.AREA, spec.TAB_WITH) == (cls.NAME, cls.TITLE, cls.AREA, cls.TAB_WITH)


def test_panels_behind_tabs_are_made_after_the_first_paint_and_the_charts_when_shown(make_ctx, qtbot):
    window = MainWindow(make_ctx(), PANEL_SPECS)
    qtbot.addWidget(window)
    assert set(window.panels) == {spec.NAME for spec in PANEL_SPECS} | {"attention"}
    assert not set(window.panels.built()) & BEHIND_TABS  # laid out, not made
    window.resize(1400, 900)
    window.show()
    qtbot.waitUntil(lambda: not window.panels.pending(), timeout=10_000)
    charts = window.panels["charts"]
    assert charts.slot.grid is None and charts.findChild(QWidget, "charts-stand-in") is not None
    window.focus_panel("charts")
    qtbot.waitUntil(lambda: charts.slot.grid is not None and charts.grid.isVisible())
    assert charts.grid.parentWidget() is charts
    names = {a.text() for a in window.all_commands()}
    assert {"Save rules", "Pause charts", "Refresh contracts"} <= names
    window.close()


def test_the_palette_lists_the_commands_of_panels_not_made_yet(make_ctx, qtbot):
    window = MainWindow(make_ctx(), PANEL_SPECS)
    qtbot.addWidget(window)
    assert not window.panels.is_built("rules")
    names = {a.text() for a in window.all_commands()}
    assert {"Save rules", "Pause charts", "Go to the agent that waits longest"} <= names
    assert not window.panels.pending()


@pytest.mark.parametrize("agents", [0, 1, 6])
def test_the_charts_stand_in_keeps_the_room_the_charts_take(make_ctx, qtbot, agents):
    from gui_fixtures import dry_roster

    from quarterdeck.gui.charts.panel import ChartsPanel

    panel = ChartsPanel(make_ctx(roster=dry_roster(*(f"Agent-{n}" for n in range(1, agents + 1)))))
    qtbot.addWidget(panel)
    room = panel.slot.stand_in.minimumSize()
    panel.show()
    qtbot.waitUntil(lambda: panel.slot.grid is not None)
    assert panel.grid.minimumSize() == room


def test_work_after_the_first_paint_runs_after_it_in_order_and_once(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    ran: list[str] = []
    painted: list[bool] = []

    class Watch(QObject):
        def eventFilter(self, watched, event):
            if watched is widget and event.type() == event.Type.Paint:
                painted.append(True)
            return False

    watch = Watch(widget)
    widget.installEventFilter(watch)
    after_first_paint(widget, lambda: ran.append("a" if painted else "a-before-paint"))
    after_first_paint(widget, lambda: ran.append("b"))
    QApplication.processEvents()
    assert ran == []  # not shown, not painted: nothing yet
    widget.show()
    qtbot.waitUntil(lambda: len(ran) == 2)
    assert ran == ["a", "b"]
    widget.update()
    qtbot.wait(50)
    after_first_paint(widget, lambda: ran.append("c"))  # painted already: on the next turn
    qtbot.waitUntil(lambda: len(ran) == 3)
    assert ran == ["a", "b", "c"]


def test_work_after_the_first_paint_runs_after_the_fallback_for_a_window_never_shown(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    ran: list[str] = []
    after_first_paint(widget, lambda: ran.append("late"), fallback_ms=50)
    QTimer.singleShot(0, lambda: ran.append("first"))
    qtbot.waitUntil(lambda: ran == ["first", "late"])


def test_the_lighter_import_hook_answers_as_pysides_own_for_every_module_loaded():
    from quarterdeck.gui import importtax

    feature = sys.modules["shibokensupport.feature"]
    before = feature._mod_uses_pyside
    original = getattr(before, "original", before)
    try:
        feature._mod_uses_pyside = original
        assert importtax.lighten() and not importtax.lighten()  # once
        lighter = feature._mod_uses_pyside
        modules = [m for m in list(sys.modules.values()) if isinstance(getattr(m, "__file__", None), str)]
        assert len(modules) > 300
        answers = {m.__name__: lighter(m) for m in modules}
        assert answers == {m.__name__: original(m) for m in modules}
        assert answers["quarterdeck.gui.mainwindow"] and not answers["quarterdeck.core.session"]
    finally:
        feature._mod_uses_pyside = before
