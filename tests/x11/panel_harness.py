"""One panel in its own process on the real display, for tests that drive it with xdotool.

    python panel_harness.py onboarding|history|rules|contracts DATA_DIR ROSTER WIDTH HEIGHT

The panel runs on a real session (outbox in DATA_DIR, agents from ROSTER) as a top-level window.
Once it is shown it prints one JSON line saying where a person would click; after that each
``state`` line on standard input is answered with one JSON line describing what the panel shows.
"""
from __future__ import annotations

import json
import select
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from quarterdeck.core.roster.roster import load_roster
from quarterdeck.core.session import Session
from quarterdeck.gui.context import AppContext


def centre(widget, rect=None) -> list[int]:
    point = widget.mapToGlobal((rect or widget.rect()).center())
    return [point.x(), point.y()]


def onboarding(ctx):
    from quarterdeck.gui.onboarding.model import AGENT
    from quarterdeck.gui.onboarding.panel import OnboardingPanel

    panel = OnboardingPanel(ctx)

    def where() -> dict:
        table, model = panel.table, panel.model
        boxes = {}
        for row in range(model.rowCount()):
            rect = table.visualRect(model.index(row, AGENT))
            box = rect.adjusted(0, 0, -(rect.width() - rect.height()), 0)  # the check box sits at the left
            boxes[model.ids()[row]] = centre(table.viewport(), box)
        return {"boxes": boxes, "start": centre(panel.start_button)}

    def state() -> dict:
        from PySide6.QtWidgets import QApplication

        modal = QApplication.activeModalWidget()
        return {"checked": panel.model.checked(), "start_enabled": panel.start_button.isEnabled(),
                "notice": panel.notice.text(), "summary": panel.summary.text(),
                "modal": modal.windowTitle() if modal is not None else None}

    return panel, where, state


def history(ctx):
    from quarterdeck.gui.history.panel import HistoryPanel

    panel = HistoryPanel(ctx)
    view = panel.view

    def where() -> dict:
        bar = view.horizontalScrollBar()
        return {"hbar_left": centre(bar, bar.rect().adjusted(0, 0, -(bar.width() - 30), 0)),
                "hbar_right": [bar.mapToGlobal(bar.rect().topRight()).x() - 5, centre(bar)[1]]}

    def state() -> dict:
        frozen = panel.frozen
        rows = {}
        for row in range(3):
            y = frozen.rowViewportPosition(row) + 3
            rows[row] = {"time_cell": frozen.viewport().mapToGlobal(frozen.visualRect(frozen.model().index(row, 0))
                                                                  .center()).toTuple(),
                         "time": frozen.model().index(row, 0).data(), "y": y}
        selected = [i.row() for i in view.selectionModel().selectedRows()]
        return {"scroll": view.horizontalScrollBar().value(), "max": view.horizontalScrollBar().maximum(),
                "table_time_x": view.columnViewportPosition(0), "frozen_visible": frozen.isVisible(),
                "frozen_x": frozen.x(), "frozen_width": frozen.width(),
                "time_and_agent_width": view.columnWidth(0) + view.columnWidth(1),
                "rows": rows, "selected": selected,
                "detail_to": panel.detail.fields["To"].text()}

    return panel, where, state


def rules(ctx):
    from quarterdeck.gui.ruleedit.panel import RulesPanel

    panel = RulesPanel(ctx)

    def where() -> dict:
        return {"editor": centre(panel.tabs.currentWidget())}

    def state() -> dict:
        editor, bench = panel.splitter.sizes()
        button = panel.notice.action_button
        return {"notice_kind": panel.notice.kind, "notice": panel.notice.text(),
                "action": centre(button) if button.isVisible() else None, "editor": editor, "bench": bench,
                "tabs": panel.tabs.count(), "errors": None if panel.check is None else panel.check.errors,
                "generation": ctx.session.rules.generation}

    return panel, where, state


def contracts(ctx):
    from quarterdeck.gui.contracts.panel import ContractsPanel

    panel = ContractsPanel(ctx)

    def where() -> dict:
        return {"create": centre(panel.buttons["create"])}

    def state() -> dict:
        dialog = panel.changes.dialog
        found = {} if dialog is None or not dialog.isVisible() else {
            "title": centre(dialog.title_edit), "description": centre(dialog.description_edit),
            "ok": centre(dialog.ok_button)}
        return {"dialog": found, "outcome": panel.outcome_label.text(),
                "rows": [c.description for c in panel.model.records()]}

    return panel, where, state


def main() -> None:
    kind, data_dir, roster_path, width, height = sys.argv[1:6]
    app = QApplication(sys.argv[:1])
    session = Session.open(roster=load_roster(Path(roster_path)), data_dir=Path(data_dir), stagger=0.0)
    ctx = AppContext(session, roster_path=None)
    ctx.start()
    panel, where, state = {"onboarding": onboarding, "history": history, "rules": rules,
                             "contracts": contracts}[kind](ctx)
    panel.resize(int(width), int(height))
    panel.move(40, 40)
    panel.show()

    def announce() -> None:
        panel.activateWindow()
        print(json.dumps(where()), flush=True)

    def answer() -> None:
        while select.select([sys.stdin], [], [], 0)[0]:
            line = sys.stdin.readline()
            if not line or line.strip() == "quit":
                app.quit()
                return
            print(json.dumps(state()), flush=True)

    QTimer.singleShot(1200, announce)
    poll = QTimer(interval=50)
    poll.timeout.connect(answer)
    poll.start()
    app.exec()
    panel.shutdown()
    ctx.shutdown()


if __name__ == "__main__":
    main()
