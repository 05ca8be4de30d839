"""The screenshot check the display tests rely on (probed_panel.check_screen) fails on what it must:
a screenshot of the wrong size, a region not drawn (the desktop's colour, or one flat colour)."""
from __future__ import annotations

import pytest
from probed_panel import check_screen, screen_size
from PySide6.QtGui import QColor, QImage, QPainter

pytestmark = pytest.mark.x11

DESKTOP = QColor("#111111")
PANEL = [100, 80, 400, 300]


def picture(path, size: tuple[int, int], panel: str | None) -> None:  # needs the qapp fixture (fonts)
    """A PNG of ``size``: the desktop's colour, with ``panel`` in PANEL: "drawn" (a frame, text
    and bands of colour), "flat" (one colour) or None (nothing there)."""
    image = QImage(*size, QImage.Format.Format_RGB32)
    image.fill(DESKTOP)
    painter = QPainter(image)
    try:
        x, y, w, h = PANEL
        if panel == "flat":
            painter.fillRect(x, y, w, h, QColor("#efefef"))
        elif panel == "drawn":
            painter.fillRect(x, y, w, h, QColor("#efefef"))
            for n, colour in enumerate(("#1565c0", "#2e7d32", "#c62828", "#f9a825")):
                painter.fillRect(x + 10, y + 10 + 30 * n, w - 20, 20, QColor(colour))
            painter.setPen(QColor("#202020"))
            painter.drawRect(x, y, w - 1, h - 1)
            painter.drawText(x + 10, y + h - 20, "Quarterdeck")
    finally:
        painter.end()
    assert image.save(str(path))


def screen() -> tuple[int, int]:
    width, height = screen_size().split("x")
    return int(width), int(height)


def test_a_drawn_panel_passes(qapp, tmp_path):
    picture(tmp_path / "ok.png", screen(), "drawn")
    check_screen(tmp_path / "ok.png", {"panel": PANEL})


@pytest.mark.parametrize(("panel", "complaint"), [(None, "blank"), ("flat", "blank")])
def test_a_panel_not_drawn_fails(qapp, tmp_path, panel, complaint):
    picture(tmp_path / "bad.png", screen(), panel)
    with pytest.raises(AssertionError, match=complaint):
        check_screen(tmp_path / "bad.png", {"panel": PANEL})


def test_the_desktop_colour_where_the_panel_should_be_fails(qapp, tmp_path):
    picture(tmp_path / "bad.png", screen(), "drawn")
    x, y, w, h = PANEL
    with pytest.raises(AssertionError, match="desktop's colour"):  # a rectangle mostly beside the panel
        check_screen(tmp_path / "bad.png", {"panel": [x + w - 40, y, 400, h]})


def test_a_picture_not_the_screens_size_fails(qapp, tmp_path):
    width, height = screen()
    picture(tmp_path / "small.png", (width // 2, height // 2), "drawn")
    with pytest.raises(AssertionError, match="is not the screen"):
        check_screen(tmp_path / "small.png", {"panel": PANEL})


def test_a_region_off_the_screen_fails(qapp, tmp_path):
    width, height = screen()
    picture(tmp_path / "ok.png", (width, height), "drawn")
    with pytest.raises(AssertionError, match="is not on the screen"):
        check_screen(tmp_path / "ok.png", {"panel": [width + 10, 0, 100, 100]})
