"""A person typing during a GUI delivery, on a real X server.

Xvfb has no keyboard a test can drive except through XTEST, and every XTEST key goes through the
XTEST keyboard of the sender's master device. So the "person" here is a second master device
(created with XIChangeHierarchy, removed afterwards): its keys come from "person XTEST
keyboard", a different source device than PyAutoGUI's and xdotool's "Virtual core XTEST
keyboard", and the watcher under test counts only the latter as Quarterdeck's own. In real use
the default (every XTEST keyboard is synthetic) applies and a person's keys come from a
physical keyboard device."""
from __future__ import annotations

import ctypes
import subprocess
import threading
import time
from ctypes import POINTER, Structure, byref, c_char_p, c_int, c_void_p

import pytest
from test_gui_transport import expect, request, xterm_settings

from quarterdeck.core.transports.gui import keyboard
from quarterdeck.core.transports.gui.guard import PointerGuard
from quarterdeck.core.transports.gui.keyboard import KeyboardActivity, KeyWatcher
from quarterdeck.core.transports.gui.transport import GuiDelivery

pytestmark = pytest.mark.x11
CORE_XTEST = "Virtual core XTEST keyboard"
SHIFT = 50


class _AddMaster(Structure):
    _fields_ = [("type", c_int), ("name", c_char_p), ("send_core", c_int), ("enable", c_int)]


class _RemoveMaster(Structure):
    _fields_ = [("type", c_int), ("deviceid", c_int), ("return_mode", c_int), ("return_pointer", c_int),
                ("return_keyboard", c_int), ("pad", c_int)]


class Person:
    """Presses keys through a master device of its own (see the module docstring)."""

    def __init__(self) -> None:
        self.x11, self.xi, self.xtst = (ctypes.CDLL(n) for n in ("libX11.so.6", "libXi.so.6", "libXtst.so.6"))
        self.x11.XOpenDisplay.restype = c_void_p
        self.d = c_void_p(self.x11.XOpenDisplay(None))
        major, minor = c_int(2), c_int(2)
        self.xi.XIQueryVersion(self.d, byref(major), byref(minor))
        add = _AddMaster(1, b"person", 1, 1)
        self.xi.XIChangeHierarchy(self.d, byref(add), 1)
        self.x11.XSync(self.d, 0)
        self.pointer = self._device("person pointer")
        self.xi.XISetClientPointer(self.d, 0, self.pointer)  # our XTEST keys: "person XTEST keyboard"
        self.x11.XSync(self.d, 0)

    def _device(self, name: str) -> int:
        from quarterdeck.core.desktop.x11.input2 import ALL_DEVICES, _DeviceInfo

        self.xi.XIQueryDevice.restype = POINTER(_DeviceInfo)
        count = c_int()
        info = self.xi.XIQueryDevice(self.d, ALL_DEVICES, byref(count))
        ids = [info[i].deviceid for i in range(count.value) if info[i].name == name.encode()]
        self.xi.XIFreeDeviceInfo(info)
        assert ids, f"no device {name!r}"
        return ids[0]

    def press(self, keycode: int = SHIFT) -> None:
        for down in (1, 0):
            self.xtst.XTestFakeKeyEvent(self.d, keycode, down, 0)
        self.x11.XSync(self.d, 0)

    def close(self) -> None:
        remove = _RemoveMaster(2, self.pointer, 1, 2, 3, 0)  # slaves back to the core devices
        self.xi.XIChangeHierarchy(self.d, byref(remove), 1)
        self.x11.XSync(self.d, 0)
        self.x11.XCloseDisplay(self.d)


@pytest.fixture
def person():
    p = Person()
    yield p
    p.close()


@pytest.fixture
def watcher(monkeypatch):
    """The process-wide watcher, told that only the core XTEST keyboard is Quarterdeck's."""
    keys = KeyWatcher(synthetic=lambda name: name == CORE_XTEST)
    monkeypatch.setattr(keyboard, "_shared", keys)
    yield keys
    keys.close()


def test_xtest_keys_like_pyautogui_and_xdotool_are_not_a_person():
    keys = KeyWatcher()
    try:
        assert keys.names.get(5) == CORE_XTEST or CORE_XTEST in keys.names.values()
        mark = keys.mark()
        subprocess.run(["xdotool", "key", "a", "shift", "BackSpace"], check=True)
        assert keys.since(mark) == []
    finally:
        keys.close()


def test_keys_from_another_keyboard_device_are_a_persons_and_seen_at_once(person, watcher):
    mark = watcher.mark()
    subprocess.run(["xdotool", "key", "shift"], check=True)
    assert watcher.since(mark) == []
    started = time.monotonic()
    person.press()
    presses = watcher.since(mark)  # a round trip: no sleep needed
    elapsed = time.monotonic() - started
    assert [(p.device, p.keycode) for p in presses] == [("person XTEST keyboard", SHIFT)]
    assert elapsed < 0.1
    assert watcher.since(watcher.mark()) == []


class PersonTypesAfter:
    """PyAutoGUI, except that a person presses a key right after ``after`` (click or paste keys)."""

    def __init__(self, gui, person: Person, after: str, paste_keys) -> None:
        self._gui, self._person, self._after, self._paste = gui, person, after, tuple(paste_keys)

    def __getattr__(self, name):
        return getattr(self._gui, name)

    def click(self, *args, **kwargs):
        self._gui.click(*args, **kwargs)
        if self._after == "click":
            self._person.press()

    def hotkey(self, *keys, **kwargs):
        self._gui.hotkey(*keys, **kwargs)
        if self._after == "paste" and keys == self._paste:
            self._person.press()


@pytest.mark.parametrize("after", ["click", "paste"])
def test_a_person_typing_during_a_delivery_stops_it(after, person, watcher, xterms, empty_clipboard, monkeypatch):
    import quarterdeck.core.transports.gui.transport as gui_module

    (term,) = xterms(1)
    settings = xterm_settings(term)
    real = gui_module.load_pyautogui()
    monkeypatch.setattr(gui_module, "load_pyautogui",
                        lambda: PersonTypesAfter(real, person, after, settings.paste_keys))
    delivery = GuiDelivery(settings, guard=PointerGuard(), read_back=None)
    with pytest.raises(KeyboardActivity) as caught:
        delivery.deliver(request("secret"), threading.Event())
    pasted = after == "paste"
    assert caught.value.pasted is pasted and caught.value.retryable is not pasted
    assert str(caught.value).startswith("someone is typing: 1 key press on “person XTEST keyboard”")
    assert str(caught.value).endswith("text pasted but not submitted" if pasted else "nothing typed")
    monkeypatch.setattr(gui_module, "load_pyautogui", lambda: real)
    delivery.deliver(request("after"), threading.Event())  # nobody typing: delivered
    expect(term, b"secret" * pasted + b"after\n")  # a pasted text stays in the input, unsubmitted
