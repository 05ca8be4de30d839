"""The panel screenshot check (gui_fixtures.saved_shot) refuses a picture with nothing drawn."""
from __future__ import annotations

import pytest
from gui_fixtures import saved_shot
from PySide6.QtWidgets import QLabel, QWidget


def test_an_empty_widget_is_refused(qtbot):
    empty = QWidget()
    qtbot.addWidget(empty)
    empty.resize(300, 200)
    with pytest.raises(AssertionError, match="nothing drawn"):
        saved_shot(empty, "test-empty.png")


def test_a_widget_with_text_is_saved(qtbot):
    from gui_fixtures import shots_dir

    label = QLabel("Quarterdeck: 3 agents, 2 delivered, 1 failed")
    qtbot.addWidget(label)
    label.resize(400, 60)
    saved_shot(label, "test-label.png")
    assert (shots_dir() / "test-label.png").stat().st_size > 0
