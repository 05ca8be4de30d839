"""The Rules panel's two halves, the rule editor and the test bench, sharing the width fairly.

Laid side by side as they were, the bench's table and form claimed their full minimum width, so
in a dock half a small screen wide the editor was left a sliver a few words wide. Now the bench
scrolls inside its share instead of claiming more, and the editor gets ``EDITOR_SHARE`` of the
width when the panel is first laid out and keeps it as the panel grows or shrinks (the
splitter's stretch factors); a drag of the handle is the captain's to keep.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QScrollArea, QSplitter, QWidget

EDITOR_SHARE = 0.6


class EditorBenchSplitter(QSplitter):
    def __init__(self, editing: QWidget, bench: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setObjectName("rules-splitter")
        self.setChildrenCollapsible(False)
        self.addWidget(editing)
        scroller = QScrollArea(self)
        scroller.setObjectName("rules-bench-scroll")
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setWidgetResizable(True)
        scroller.setWidget(bench)
        self.addWidget(scroller)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)
        self._shared = False

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self._shared and event.size().width() > 0:
            self._shared = True
            room = event.size().width() - self.handleWidth()
            editor = int(room * EDITOR_SHARE)
            self.setSizes([editor, room - editor])
