"""What a roomy fleet tile writes: the breaker only when it is not closed and the status does not say it."""
from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem
from test_fleet_view import fleet, make_panel

from quarterdeck.gui.roster.fleet_tile import TileDelegate


class Recording(QPainter):
    """A painter on an image that keeps every text it draws."""

    def __init__(self, image: QImage) -> None:
        super().__init__(image)
        self.texts: list[str] = []

    def drawText(self, *args):
        self.texts.append(next(a for a in args if isinstance(a, str)))
        return super().drawText(*args)


def tile_texts(panel, agent_id: str) -> list[str]:
    image = QImage(400, 80, QImage.Format.Format_ARGB32)
    painter = Recording(image)
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 400, 80)
    option.font = panel.fleet.font()
    try:
        TileDelegate(panel.fleet).paint(painter, option, panel.model.index(panel.model.row_of(agent_id), 0))
    finally:
        painter.end()
    return [text for text in painter.texts if text]


def test_a_closed_breaker_is_not_written_on_the_tile_and_a_forced_one_once(make_ctx, qtbot):
    panel = make_panel(make_ctx, qtbot, fleet(4))
    panel.resize(840, 300)
    panel.show()
    qtbot.waitExposed(panel)
    assert not panel.fleet.dense
    closed = tile_texts(panel, "Agent-1")
    assert any("Agent-1" in text for text in closed) and not any("breaker" in text for text in closed)
    panel.ctx.delivery.dispatcher.breakers.get("Agent-2").force_open()
    qtbot.waitUntil(lambda: any("forced" in text for text in tile_texts(panel, "Agent-2")), timeout=5000)
    forced = " ".join(tile_texts(panel, "Agent-2"))
    assert forced.count("forced") == 1, forced
