"""Telling a person's key presses from Quarterdeck's own (no display needed)."""
from __future__ import annotations

import pytest

from quarterdeck.core.delivery.errors import HumanActivity
from quarterdeck.core.transports.gui import keyboard
from quarterdeck.core.transports.gui.keyboard import KeyboardActivity, Press, from_a_person, xtest_keyboard

NAMES = {3: "Virtual core keyboard", 5: "Virtual core XTEST keyboard", 9: "AT Translated Set 2 keyboard",
         12: "person XTEST keyboard", 14: "xwayland-keyboard"}


def test_xtest_keys_are_ours_and_a_physical_keyboards_are_a_persons():
    assert not from_a_person(5, NAMES)
    assert not from_a_person(12, NAMES)  # any master's XTEST keyboard: synthetic
    assert from_a_person(9, NAMES)
    assert from_a_person(14, NAMES)


def test_a_device_gone_meanwhile_counts_as_a_person():
    assert from_a_person(42, NAMES)


def test_which_devices_are_synthetic_is_configurable():
    def only_core(name):
        return name == "Virtual core XTEST keyboard"
    assert from_a_person(12, NAMES, only_core)
    assert not from_a_person(5, NAMES, only_core)
    assert xtest_keyboard("Virtual core XTEST keyboard") and not xtest_keyboard("Xvfb keyboard")


def _press(device="AT Translated Set 2 keyboard"):
    return Press(1.0, device, 9, 38)


@pytest.mark.parametrize("pasted", [False, True])
def test_keyboard_activity_is_a_human_activity_that_says_what_was_typed(pasted):
    error = KeyboardActivity([_press(), _press()], (10, 20), pasted=pasted)
    assert isinstance(error, HumanActivity)
    assert error.pasted is pasted and error.retryable is (not pasted)
    assert error.expected == error.actual == (10, 20)
    text = str(error)
    assert text.startswith("someone is typing: 2 key presses on “AT Translated Set 2 keyboard”")
    assert text.endswith("text pasted but not submitted" if pasted else "nothing typed")


class FakeWatcher:
    def __init__(self, presses):
        self.presses = presses

    def since(self, mark):
        return self.presses[mark:]


def test_check_raises_only_for_presses_after_the_mark():
    keys = FakeWatcher([_press()])
    keyboard.check((keys, 1), (1, 2), pasted=False)
    keyboard.check(None, (1, 2), pasted=False)  # no watcher here: nothing to tell
    with pytest.raises(KeyboardActivity) as caught:
        keyboard.check((keys, 0), (1, 2), pasted=True)
    assert caught.value.pasted and "1 key press on" in str(caught.value)


def test_without_a_display_there_is_no_watcher(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setattr(keyboard, "_shared", None)
    assert keyboard.watcher() is None and keyboard.mark() is None
