"""GUI delivery into real Chromium chat windows (the engine of Cursor and VS Code), with verdicts.

Each window shows a local chat page whose input submits on Enter and reports every submission to
the test's server, so each test checks the verdict against what the page really received.
"""
from __future__ import annotations

import threading
import time

import pytest
from chromium_desk import settle

from quarterdeck.core.delivery.contract import DeliveryRequest
from quarterdeck.core.delivery.errors import NotTyped, TypedNotSubmitted
from quarterdeck.core.models import GuiTransport
from quarterdeck.core.transports.gui.guard import DraftInInput, PointerGuard
from quarterdeck.core.transports.gui.transport import GuiDelivery

pytestmark = pytest.mark.x11

TEXT = "Wrap up and push your branch.\n  Two spaces, é ß 你好 🚀\n$(echo hi) `x` <tag> & done"


def deliver(window, text=TEXT, guard=None, typing=None, **kwargs):
    settings = GuiTransport(chat=window.input_point)
    delivery = GuiDelivery(settings, guard=guard or PointerGuard(), agent=window.name, **kwargs)
    return delivery.deliver(DeliveryRequest(agent_id=window.name, text=text, typing=typing), threading.Event())


@pytest.mark.parametrize("kind", ["contenteditable", "textarea"])
def test_a_pasted_message_is_submitted_with_read_back_evidence(chromium_chats, empty_clipboard, kind):
    (window,) = chromium_chats(1, kind=kind)
    receipt = deliver(window)
    assert receipt.verdict == "submitted", receipt
    assert receipt.evidence.startswith("input read back by accessibility"), receipt.evidence
    assert window.wait_submissions(1) == [TEXT]
    window.wait_value("")  # the page reports its cleared input just after the submission


def test_the_clipboard_is_held_until_chromium_has_finished_pasting(chromium_chats, empty_clipboard):
    """Given back at once after the read (quiet=0, no read-back), the clipboard changes under
    Chromium's paste and every submission arrives empty; held until the pane stops asking, and read
    back before Enter, every message arrives."""
    (window,) = chromium_chats(1)
    guard = PointerGuard()
    for n in range(3):
        deliver(window, f"{TEXT} {n}", guard, quiet=0.0, read_back=None)
        window.wait_submissions(n + 1)  # this one's submission is in before the next delivery
    assert window.submissions() == ["", "", ""]
    for n in range(3):  # held until quiet, and read back before Enter: every one arrives
        receipt = deliver(window, f"{TEXT} {n}", guard)
        assert receipt.verdict == "submitted", receipt
    assert window.wait_submissions(6)[3:] == [f"{TEXT} {n}" for n in range(3)]


def test_an_input_that_ignores_enter_is_typed_not_submitted_and_never_pasted_twice(chromium_chats, empty_clipboard):
    (window,) = chromium_chats(1, variant="ignore-enter")
    with pytest.raises(TypedNotSubmitted, match="pressed twice") as failed:
        deliver(window)
    assert failed.value.verdict == "typed_not_submitted"
    assert window.submissions() == []
    assert window.value().replace("\u00a0", " ") == TEXT  # once, not twice


def test_a_pane_that_refuses_the_paste_is_not_typed_and_never_reported_submitted(chromium_chats, empty_clipboard):
    (window,) = chromium_chats(1, variant="refuse-paste")
    with pytest.raises(NotTyped, match="nothing reached") as failed:
        deliver(window)
    assert failed.value.retryable and failed.value.verdict == "not_typed"
    settle()
    assert window.submissions() == [] and window.value() == ""


def test_a_slow_paste_is_waited_for(chromium_chats, empty_clipboard):
    (window,) = chromium_chats(1, kind="textarea", variant="slow-paste")
    receipt = deliver(window)
    assert receipt.verdict == "submitted"
    assert window.wait_submissions(1) == [TEXT]


@pytest.mark.parametrize("kind", ["contenteditable", "textarea"])
def test_a_persons_draft_is_never_submitted(chromium_chats, empty_clipboard, kind):
    (window,) = chromium_chats(1, kind=kind)
    window.click_input()
    window.type("half-typed thought")
    window.wait_value("half-typed thought")
    typed = []
    with pytest.raises(DraftInInput, match="holds a draft") as paused:
        deliver(window, typing=lambda: typed.append(1))
    assert not paused.value.pasted  # nothing typed: the dispatcher pauses, the delivery is queued again
    assert typed == []  # typing never began: a crash here leaves it queued, not uncertain
    settle()
    assert window.submissions() == [] and window.value() == "half-typed thought"


def test_a_broadcast_to_four_windows_of_one_browser_is_submitted_in_each(chromium_chats, empty_clipboard):
    windows = chromium_chats(2, kind="contenteditable") + chromium_chats(2, kind="textarea")
    guard, typed = PointerGuard(), []
    verdicts = [deliver(window, guard=guard, typing=lambda: typed.append(1)).verdict for window in windows]
    assert verdicts == ["submitted"] * 4
    assert typed == [1] * 4  # each delivery marked the start of typing once
    assert [window.wait_submissions(1) for window in windows] == [[TEXT]] * 4


def bound(window) -> GuiTransport:
    """The agent's settings as ``agents capture`` records them: its window and the input's point
    from the window's nearest corner."""
    from quarterdeck.core.desktop.window_match import nearest_anchor
    from quarterdeck.core.models import WindowMatch

    return GuiTransport(chat=window.input_point, window=WindowMatch(title=window.title),
                        chat_in_window=nearest_anchor(window.input_point, window.geometry))


def test_after_two_windows_swap_places_each_message_still_reaches_its_own_agent(chromium_chats, empty_clipboard):
    one, two = chromium_chats(2, kind="textarea")
    settings = {one.name: bound(one), two.name: bound(two)}
    (x1, y1, _, _), (x2, y2, _, _) = one.geometry, two.geometry
    _left, _top = one.decorations
    one.move(x2, y2)
    two.move(x1, y1)
    guard = PointerGuard()
    for window in (one, two):
        delivery = GuiDelivery(settings[window.name], guard=guard, agent=window.name)
        receipt = delivery.deliver(DeliveryRequest(agent_id=window.name, text=f"for {window.name}"),
                                   threading.Event())
        assert receipt.verdict == "submitted" and window.title in receipt.detail
    assert one.wait_submissions(1) == [f"for {one.name}"] and two.wait_submissions(1) == [f"for {two.name}"]


def test_a_closed_window_is_refused_and_nothing_is_typed_anywhere(chromium_chats, empty_clipboard):
    from quarterdeck.core.desktop.window_match import WindowNotFound

    one, two = chromium_chats(2, kind="textarea")
    settings = bound(one)
    one.close()
    from quarterdeck.core.transports.gui.windows import shared_desk

    deadline = time.monotonic() + 5
    while shared_desk().window(one.window) is not None and time.monotonic() < deadline:
        time.sleep(0.02)  # closing takes the window manager a moment
    with pytest.raises(WindowNotFound, match="not open"):
        GuiDelivery(settings, guard=PointerGuard(), agent=one.name).deliver(
            DeliveryRequest(agent_id=one.name, text=TEXT), threading.Event())
    settle()
    assert two.submissions() == [] and two.value() == ""


@pytest.mark.parametrize("variant", ["slow-paste", "paragraphs"])
def test_a_message_stored_as_a_block_per_line_is_submitted(chromium_chats, empty_clipboard, variant):
    """A contenteditable holding a <div> (execCommand) or a <p> (Lexical, Cursor's composer) per line:
    the read-back sees every line, not only the first."""
    (window,) = chromium_chats(1, kind="contenteditable", variant=variant)
    receipt = deliver(window)
    assert receipt.verdict == "submitted", receipt
    assert [text.replace("\u00a0", " ") for text in window.wait_submissions(1)] == [TEXT]


def test_a_covered_window_is_raised_and_the_message_goes_to_it(chromium_chats, empty_clipboard):
    one, two = chromium_chats(2, kind="textarea")
    settings = bound(one)
    x, y, _, _ = one.geometry
    two.move(x, y)  # the other agent's window now lies exactly over this one
    two.activate()
    receipt = GuiDelivery(settings, guard=PointerGuard(), agent=one.name).deliver(
        DeliveryRequest(agent_id=one.name, text="for the covered one"), threading.Event())
    assert receipt.verdict == "submitted" and "raised" in receipt.detail, receipt
    assert one.wait_submissions(1) == ["for the covered one"]
    assert two.submissions() == [] and two.value() == ""


def test_two_windows_matching_the_agent_are_refused_and_neither_is_typed_into(chromium_chats, empty_clipboard):
    from quarterdeck.core.desktop.window_match import WindowAmbiguous, nearest_anchor
    from quarterdeck.core.models import WindowMatch

    one, two = chromium_chats(2, kind="textarea")
    settings = GuiTransport(chat=one.input_point, window=WindowMatch(title="textarea"),  # both titles hold it
                            chat_in_window=nearest_anchor(one.input_point, one.geometry))
    with pytest.raises(WindowAmbiguous, match="two windows match"):
        GuiDelivery(settings, guard=PointerGuard(), agent=one.name).deliver(
            DeliveryRequest(agent_id=one.name, text=TEXT), threading.Event())
    settle()
    assert one.submissions() == two.submissions() == [] and one.value() == two.value() == ""


def test_sent_anyway_the_draft_is_cleared_and_only_the_message_is_submitted(chromium_chats, empty_clipboard):
    (window,) = chromium_chats(1, kind="contenteditable")
    window.click_input()
    window.type("half-typed thought")
    window.wait_value("half-typed thought")
    delivery = GuiDelivery(GuiTransport(chat=window.input_point), guard=PointerGuard(), agent=window.name)
    receipt = delivery.deliver(DeliveryRequest(agent_id=window.name, text=TEXT, force=True), threading.Event())
    assert receipt.verdict == "submitted", receipt
    assert [s.replace("\u00a0", " ") for s in window.wait_submissions(1)] == [TEXT]
