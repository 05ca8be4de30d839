"""Pixel evidence (quarterdeck.core.transports.gui.pixels) for GUI deliveries into windows without accessibility
read-back: Chromium started without accessibility, and xterm. Pixels may make a delivery
``submitted``; they never fail one."""
from __future__ import annotations

import threading
import time

import pytest
from chromium_desk import settle
from xterm_desk import XTERM_PASTE

from quarterdeck.core.delivery.contract import DeliveryRequest
from quarterdeck.core.models import GuiTransport
from quarterdeck.core.transports.gui.guard import PointerGuard
from quarterdeck.core.transports.gui.pixels import band, differs, grab
from quarterdeck.core.transports.gui.transport import GuiDelivery
from quarterdeck.core.transports.gui.windows import shared_desk

pytestmark = pytest.mark.x11

TEXT = "Wrap up and push your branch.\n  Two spaces, é ß 你好 🚀\n$(echo hi) `x` <tag> & done"
SEEN = "input seen on screen: changed by the paste"


def deliver(settings, agent, text=TEXT):
    delivery = GuiDelivery(settings, guard=PointerGuard(), agent=agent)
    return delivery.deliver(DeliveryRequest(agent_id=agent, text=text), threading.Event())


def assert_idle_band_looks_unchanged(point, rect):
    """An untouched input (its caret blinking) compares as unchanged, over more than a blink."""
    box = band(point, rect)
    first = grab(shared_desk(), box)
    time.sleep(0.7)  # longer than a caret blink: the time passing is what is tested
    assert not differs(grab(shared_desk(), box), first)


def plain(text: str) -> str:
    return text.replace("\u00a0", " ")


@pytest.mark.parametrize("kind", ["contenteditable", "textarea"])
def test_without_accessibility_the_input_box_pixels_show_the_message_submitted(chromium_plain, empty_clipboard,
                                                                               kind):
    (window,) = chromium_plain(1, kind=kind)
    receipt = deliver(GuiTransport(chat=window.input_point), window.name)
    assert "read back by accessibility" not in receipt.evidence  # the app really exposes nothing
    assert receipt.verdict == "submitted", receipt
    assert receipt.evidence == f"{SEEN}, back to empty after enter", receipt.evidence
    assert [plain(t) for t in window.wait_submissions(1)] == [TEXT]
    window.wait_value("")  # the page reports its cleared input just after the submission
    assert_idle_band_looks_unchanged(window.input_point, window.geometry)


def test_without_accessibility_an_input_that_ignores_enter_stays_unverified_never_failed(chromium_plain,
                                                                                          empty_clipboard):
    (window,) = chromium_plain(1, variant="ignore-enter")
    receipt = deliver(GuiTransport(chat=window.input_point), window.name)  # raises nothing
    assert receipt.verdict == "unverified", receipt
    assert f"{SEEN}, did not clear after enter" in receipt.evidence, receipt.evidence
    settle()
    assert window.submissions() == [] and plain(window.value()) == TEXT  # once, not twice
    window.clear_input()
    assert_idle_band_looks_unchanged(window.input_point, window.geometry)


def test_without_accessibility_a_refused_paste_is_never_reported_submitted(chromium_plain, empty_clipboard):
    (window,) = chromium_plain(1, variant="refuse-paste")
    receipt = deliver(GuiTransport(chat=window.input_point), window.name)
    assert receipt.verdict == "unverified", receipt
    assert "input seen on screen: no change after the paste" in receipt.evidence, receipt.evidence
    settle()
    assert not any(window.submissions()) and window.value() == ""  # Enter still went: an empty submission
    box = band(window.input_point, window.geometry)
    empty = grab(shared_desk(), box)
    window.click_input()
    window.type("typed by hand")
    window.wait_value("typed by hand")
    assert differs(grab(shared_desk(), box), empty)  # the same look check does see text arrive


def test_an_xterm_is_not_judged_by_its_pixels_and_stays_unverified(xterms, empty_clipboard):
    """A terminal's input line never clears after Enter (its output scrolls), so its pixels are not
    looked at: the delivery stays unverified at once instead of waiting for a clear that never comes."""
    (term,) = xterms(1)
    point = (term.x + term.width // 2, term.y + 8)  # the first row, where cat's echo lands
    text = "hello from the captain, é ß 你好\nsecond line"
    receipt = deliver(GuiTransport(chat=point, paste_keys=XTERM_PASTE), "Agent-1", text)
    assert receipt.verdict == "unverified", receipt
    assert SEEN not in receipt.evidence and "no read-back" in receipt.evidence, receipt.evidence
    assert term.wait_for(text.encode() + b"\n") == text.encode() + b"\n"
    assert_idle_band_looks_unchanged((term.x + term.width // 2, term.y + term.height - 8),
                                     (term.x, term.y, term.width, term.height))
