"""GUI delivery into real xterm windows under Xvfb: exact bytes, the user's clipboard, the guards."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from xterm_desk import XTERM_PASTE, clipboard_bytes, move_pointer, user_copies, wait_until

from quarterdeck.core.delivery.contract import DeliveryRequest, Transport
from quarterdeck.core.delivery.errors import Cancelled, HumanActivity, PermanentError, RetryableError
from quarterdeck.core.models import GuiTransport
from quarterdeck.core.transports.gui.guard import PointerGuard
from quarterdeck.core.transports.gui.screenlock import ScreenLock
from quarterdeck.core.transports.gui.transport import EmergencyStop, GuiDelivery
from quarterdeck.core.transports.gui.verdict import DETAIL_READ
from quarterdeck.core.transports.registry import transport_for

MESSAGE = (
    "[C2A] Captain → Agent-3 | é ß — 你好 🚀\n"
    "run: echo \"$HOME\" && rm -rf * ; `id` | tee 'out' > /dev/null\n"
    "\ttabbed line with 100% {braces} [brackets] (parens) <angles> \\backslash ~tilde #hash\n"
    "last line"
)


def xterm_settings(term, **overrides) -> GuiTransport:
    return GuiTransport(chat=term.point, paste_keys=XTERM_PASTE, **overrides)


def gui(settings, **kwargs) -> GuiDelivery:
    kwargs.setdefault("guard", PointerGuard())
    return GuiDelivery(settings, **kwargs)


def request(text: str = MESSAGE, **fields) -> DeliveryRequest:
    return DeliveryRequest(agent_id="Agent-1", text=text, **fields)


def expect(term, data: bytes) -> None:
    assert term.wait_for(data) == data



@pytest.mark.x11
def test_multiline_unicode_message_arrives_byte_exact_in_every_xterm_and_clipboard_is_restored(
        xterms, empty_clipboard):
    user_copies("the user's draft ✓".encode())
    terms = xterms(4)
    guard = PointerGuard()
    stop = threading.Event()
    for term in terms:
        receipt = gui(xterm_settings(term), guard=guard).deliver(request(), stop)
        # xterm exposes no accessibility tree: the paste is seen read, but nothing proves arrival
        assert (receipt.transport, receipt.verdict, receipt.confirmed) == ("gui", "unverified", False)
        assert receipt.evidence.startswith(DETAIL_READ + "; no read-back: "), receipt.evidence
    for term in terms:
        expect(term, MESSAGE.encode() + b"\n")
    assert clipboard_bytes() == "the user's draft ✓".encode()


@pytest.mark.x11
def test_back_to_back_deliveries_to_one_xterm_all_arrive_in_order(xterms, empty_clipboard):
    (term,) = xterms(1)
    delivery = gui(xterm_settings(term))
    for n in range(3):
        delivery.deliver(request(f"message {n}\nsecond line {n}"), threading.Event())
    expect(term, b"".join(f"message {n}\nsecond line {n}\n".encode() for n in range(3)))
    assert clipboard_bytes() is None


@pytest.mark.x11
def test_a_large_message_arrives_whole_before_the_submit_key(xterms, empty_clipboard):
    (term,) = xterms(1)
    text = "\n".join(f"{n:05d} " + "é-你好-🚀-" * 12 for n in range(700))  # ~100 kB: sent in increments
    gui(xterm_settings(term), fetch_timeout=5.0).deliver(request(text), threading.Event())
    assert term.wait_for(text.encode() + b"\n", timeout=20) == text.encode() + b"\n"


@pytest.mark.x11
def test_a_clipboard_whose_connection_ended_is_replaced_by_the_systems(xterms, empty_clipboard):
    from quarterdeck.core.desktop.clipboard.x11 import X11Clipboard

    (term,) = xterms(1)
    gone = X11Clipboard()
    gone.close()
    gui(xterm_settings(term), clipboard=gone).deliver(request("after a reconnect"), threading.Event())
    expect(term, b"after a reconnect\n")


@pytest.mark.x11
def test_urgent_messages_use_the_urgent_submit_keys(xterms, empty_clipboard):
    (term,) = xterms(1)
    # Ctrl+D hands the line to cat without a newline, so the two submit paths differ in bytes.
    delivery = gui(xterm_settings(term, urgent_submit_keys=("ctrl", "d")))
    delivery.deliver(request("urgent", priority="urgent"), threading.Event())
    expect(term, b"urgent")
    delivery.deliver(request(" then normal"), threading.Event())
    expect(term, b"urgent then normal\n")


@pytest.mark.x11
def test_onboarding_opens_a_new_chat_in_the_chat_pane_then_pastes_into_the_onboarding_point(
        xterms, empty_clipboard):
    chat, fresh = xterms(2)
    # Ctrl+D on an empty line ends the chat xterm's cat: proof the new-chat keys went there.
    settings = GuiTransport(chat=chat.point, onboarding=fresh.point, paste_keys=XTERM_PASTE,
                            new_chat_keys=("ctrl", "d"))
    gui(settings, new_chat_wait=0.2).deliver(request(onboarding=True), threading.Event())
    expect(fresh, MESSAGE.encode() + b"\n")
    wait_until(lambda: not chat.alive, "the chat xterm to close after the new-chat keys")
    assert chat.read() == b""


@pytest.mark.x11
def test_clear_before_paste_selects_all_and_deletes_first(xterms, empty_clipboard):
    (term,) = xterms(1)
    gui(xterm_settings(term, clear_before_paste=True)).deliver(request("text"), threading.Event())
    # In a terminal Ctrl+A and Delete arrive as bytes, showing their order before the paste.
    expect(term, b"\x01\x1b[3~text\n")


@pytest.mark.x11
def test_a_moved_pointer_means_a_human_is_there_and_nothing_is_typed(xterms, empty_clipboard):
    first, second = xterms(2)
    guard = PointerGuard()
    gui(xterm_settings(first), guard=guard).deliver(request("one"), threading.Event())
    expect(first, b"one\n")
    move_pointer(second.x + 5, second.y + 5)
    with pytest.raises(HumanActivity) as caught:
        gui(xterm_settings(second), guard=guard).deliver(request("two"), threading.Event())
    assert caught.value.retryable and not caught.value.pasted
    assert caught.value.expected == first.point
    assert caught.value.actual == (second.x + 5, second.y + 5)
    assert str(first.point) in str(caught.value) and "nothing typed" in str(caught.value)
    guard.forget()
    gui(xterm_settings(second), guard=guard).deliver(request("after resume"), threading.Event())
    expect(second, b"after resume\n")
    assert first.read() == b"one\n"


@pytest.mark.x11
def test_pointer_in_a_corner_is_an_emergency_stop(xterms, empty_clipboard):
    (term,) = xterms(1)
    move_pointer(0, 0)
    with pytest.raises(EmergencyStop) as caught:
        gui(xterm_settings(term)).deliver(request("never"), threading.Event())
    assert caught.value.retryable is False
    assert "(0, 0)" in str(caught.value)
    move_pointer(*term.point)
    gui(xterm_settings(term)).deliver(request("after the stop"), threading.Event())
    expect(term, b"after the stop\n")


@pytest.mark.x11
def test_keys_that_do_not_paste_are_reported_and_not_submitted(xterms, empty_clipboard):
    (term,) = xterms(1)
    user_copies(b"keep me")
    delivery = gui(GuiTransport(chat=term.point, paste_keys=("f5",)), fetch_timeout=0.5)
    with pytest.raises(RetryableError, match="no window read the clipboard"):
        delivery.deliver(request("lost"), threading.Event())
    assert clipboard_bytes() == b"keep me"
    gui(xterm_settings(term)).deliver(request("next"), threading.Event())
    # F5's escape sequence is still in the unsubmitted line: no Enter followed the failed paste.
    expect(term, b"\x1b[15~next\n")


@pytest.mark.x11
def test_stop_all_before_delivery_cancels_without_typing(xterms, empty_clipboard):
    (term,) = xterms(1)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        gui(xterm_settings(term)).deliver(request("never"), stop)
    gui(xterm_settings(term)).deliver(request("ok"), threading.Event())
    expect(term, b"ok\n")


@pytest.mark.x11
def test_waits_for_the_screen_lock_and_stop_all_ends_the_wait(xterms, empty_clipboard, tmp_path):
    (term,) = xterms(1)
    lock = ScreenLock(tmp_path / "screen.lock")
    delivery = gui(xterm_settings(term), screen_lock=lock)
    stop = threading.Event()
    with lock.hold(threading.Event()):
        waiter = threading.Timer(0.2, stop.set)
        waiter.start()
        with pytest.raises(Cancelled):
            delivery.deliver(request("never"), stop)
        waiter.join()
    delivery.deliver(request("with the lock"), threading.Event())
    expect(term, b"with the lock\n")


@pytest.mark.x11
def test_check_accepts_points_on_screen_and_names_the_bad_one():
    assert gui(GuiTransport(chat=(960, 540), onboarding=(100, 100))).check() is None
    reason = gui(GuiTransport(chat=(5000, 200))).check()
    assert reason is not None and "(5000, 200)" in reason and "1920x1080+0+0" in reason
    reason = gui(GuiTransport(chat=(-300, 400))).check()
    assert reason is not None and "chat point (-300, 400) is on no screen" in reason
    reason = gui(GuiTransport(chat=(960, 540), onboarding=(100, 1080))).check()
    assert reason is not None and reason.startswith("onboarding point (100, 1080)")
    reason = gui(GuiTransport(chat=(1919, 1079))).check()
    assert reason is not None and "fail-safe" in reason


def test_gui_settings_build_a_gui_transport_holding_the_screen_lock():
    delivery = transport_for(GuiTransport(chat=(10, 20)))
    assert isinstance(delivery, GuiDelivery) and isinstance(delivery, Transport)
    assert delivery.kind == "gui" and isinstance(delivery.screen_lock, ScreenLock)


def test_an_empty_message_is_refused_before_touching_the_screen():
    with pytest.raises(PermanentError, match="empty"):
        GuiDelivery(GuiTransport(chat=(10, 20))).deliver(request(""), threading.Event())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 only")
def test_without_a_display_check_explains_and_deliver_is_permanent():
    script = (
        "import threading\n"
        "from quarterdeck.core.delivery.contract import DeliveryRequest\n"
        "from quarterdeck.core.delivery.errors import PermanentError\n"
        "from quarterdeck.core.transports.gui.transport import GuiDelivery\n"
        "from quarterdeck.core.models import GuiTransport\n"
        "d = GuiDelivery(GuiTransport(chat=(10, 20)))\n"
        "print(d.check())\n"
        "try:\n"
        "    d.deliver(DeliveryRequest(agent_id='A', text='x'), threading.Event())\n"
        "except PermanentError as exc:\n"
        "    print('permanent:', exc)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = subprocess.run([sys.executable, "-W", "error", "-c", script], capture_output=True, text=True,
                         env=env, timeout=60, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "no X display: DISPLAY is not set",
        "permanent: no display to drive for GUI delivery: KeyError: 'DISPLAY'",
    ]


def test_guard_spaces_repeated_clicks_on_one_spot_only():
    guard = PointerGuard(click_gap=0.3, near=64)
    assert guard.wait_before_click((500, 500), now=100.0) == 0.0
    guard.clicked((500, 500), at=100.0)
    assert guard.wait_before_click((510, 490), now=100.1) == pytest.approx(0.2)
    assert guard.wait_before_click((500, 500), now=100.5) == 0.0
    assert guard.wait_before_click((900, 500), now=100.1) == 0.0


def test_guard_tolerates_small_drift_and_forgets_on_resume():
    guard = PointerGuard(tolerance=2)
    guard.verify((1, 1))
    guard.clicked((500, 500))
    guard.verify((502, 498))
    with pytest.raises(HumanActivity) as caught:
        guard.verify((503, 500), pasted=True)
    assert caught.value.pasted and "text pasted but not submitted" in str(caught.value)
    guard.forget()
    assert guard.placed is None
    guard.verify((0, 900))
