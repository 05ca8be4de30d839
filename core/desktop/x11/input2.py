"""The few XInput2 calls the keyboard watcher needs, through libX11/libXi (ctypes).

python-xlib 0.15 (the one PyAutoGUI pulls in) knows no XInput2 and cannot even parse the
GenericEvents XInput2 sends, so this one connection uses the C libraries instead. It is opened
and used by one thread only. A lost X server must not end the process (Xlib's default): the
per-display I/O exit handler (libX11 ≥ 1.7) returns instead, and the connection is then dead.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from ctypes import POINTER, Structure, Union, byref, c_char_p, c_int, c_long, c_ubyte, c_uint, c_ulong, c_void_p
from dataclasses import dataclass

__all__ = ["ALL_MASTERS", "RawKey", "XI2Connection", "XI2Error"]

ALL_DEVICES, ALL_MASTERS = 0, 1
HIERARCHY_CHANGED, RAW_KEY_PRESS = 11, 13
GENERIC_EVENT = 35


class XI2Error(Exception):
    """No XInput2 here: no libX11/libXi, no display, or a server without XInput 2.2."""


class _EventMask(Structure):
    _fields_ = [("deviceid", c_int), ("mask_len", c_int), ("mask", POINTER(c_ubyte))]


class _Cookie(Structure):
    _fields_ = [("type", c_int), ("serial", c_ulong), ("send_event", c_int), ("display", c_void_p),
                ("extension", c_int), ("evtype", c_int), ("cookie", c_uint), ("data", c_void_p)]


class _Event(Union):
    _fields_ = [("type", c_int), ("xcookie", _Cookie), ("pad", c_long * 24)]


class _RawEvent(Structure):
    _fields_ = [("type", c_int), ("serial", c_ulong), ("send_event", c_int), ("display", c_void_p),
                ("extension", c_int), ("evtype", c_int), ("time", c_ulong), ("deviceid", c_int),
                ("sourceid", c_int), ("detail", c_int), ("flags", c_int)]


class _DeviceInfo(Structure):
    _fields_ = [("deviceid", c_int), ("name", c_char_p), ("use", c_int), ("attachment", c_int),
                ("enabled", c_int), ("num_classes", c_int), ("classes", c_void_p)]


_IO_EXIT = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)


@dataclass(frozen=True)
class RawKey:
    """One raw key press: ``sourceid`` is the slave device it came from (the physical keyboard,
    or an XTEST device for synthetic keys), ``time`` the server's time in ms."""

    sourceid: int
    deviceid: int
    keycode: int
    time: int


def _libs() -> tuple[ctypes.CDLL, ctypes.CDLL]:
    names = []
    for short, full in (("X11", "libX11.so.6"), ("Xi", "libXi.so.6")):
        names.append(ctypes.util.find_library(short) or full)
    try:
        x11, xi = ctypes.CDLL(names[0]), ctypes.CDLL(names[1])
    except OSError as exc:
        raise XI2Error(f"libX11/libXi not found: {exc}") from exc
    x11.XOpenDisplay.restype = c_void_p
    x11.XOpenDisplay.argtypes = [c_char_p]
    for fn in ("XCloseDisplay", "XPending", "XConnectionNumber", "XFlush"):
        getattr(x11, fn).argtypes = [c_void_p]
    x11.XDefaultRootWindow.restype = c_ulong
    x11.XDefaultRootWindow.argtypes = [c_void_p]
    x11.XSync.argtypes = [c_void_p, c_int]
    x11.XNextEvent.argtypes = [c_void_p, POINTER(_Event)]
    x11.XGetEventData.argtypes = [c_void_p, POINTER(_Cookie)]
    x11.XFreeEventData.argtypes = [c_void_p, POINTER(_Cookie)]
    x11.XQueryExtension.argtypes = [c_void_p, c_char_p, POINTER(c_int), POINTER(c_int), POINTER(c_int)]
    x11.XSetIOErrorExitHandler.argtypes = [c_void_p, _IO_EXIT, c_void_p]
    xi.XIQueryVersion.argtypes = [c_void_p, POINTER(c_int), POINTER(c_int)]
    xi.XISelectEvents.argtypes = [c_void_p, c_ulong, POINTER(_EventMask), c_int]
    xi.XIQueryDevice.restype = POINTER(_DeviceInfo)
    xi.XIQueryDevice.argtypes = [c_void_p, c_int, POINTER(c_int)]
    xi.XIFreeDeviceInfo.argtypes = [POINTER(_DeviceInfo)]
    return x11, xi


class XI2Connection:
    """A private display connection selecting raw key presses (and device changes) on the root."""

    def __init__(self, display_name: str | None = None) -> None:
        x11, xi = self.x11, self.xi = _libs()
        if not hasattr(x11, "XSetIOErrorExitHandler"):
            raise XI2Error("libX11 older than 1.7: a lost X server would end the process")
        self.dead = False
        self.d = x11.XOpenDisplay(display_name.encode() if display_name else None)
        if not self.d:
            raise XI2Error(f"cannot open the X display {display_name or '(DISPLAY)'}")

        def io_exit(_display: int, _data: int) -> None:  # the server went away: mark, do not exit
            self.dead = True

        self._io_exit = _IO_EXIT(io_exit)  # kept alive as long as the connection
        x11.XSetIOErrorExitHandler(self.d, self._io_exit, None)
        opcode, event, error = c_int(), c_int(), c_int()
        if not x11.XQueryExtension(self.d, b"XInputExtension", byref(opcode), byref(event), byref(error)):
            self.close()
            raise XI2Error("the X server has no XInput extension")
        self.opcode = opcode.value
        major, minor = c_int(2), c_int(2)
        if xi.XIQueryVersion(self.d, byref(major), byref(minor)) != 0 or (major.value, minor.value) < (2, 2):
            self.close()
            raise XI2Error("the X server has no XInput 2.2 (raw events with their source device)")
        root = x11.XDefaultRootWindow(self.d)
        masks = (_EventMask * 2)()
        wanted = ((ALL_DEVICES, HIERARCHY_CHANGED), (ALL_MASTERS, RAW_KEY_PRESS))
        for mask, (device, bit) in zip(masks, wanted, strict=True):
            bits = (c_ubyte * 4)()
            bits[bit >> 3] |= 1 << (bit & 7)
            mask.deviceid, mask.mask_len, mask.mask = device, 4, ctypes.cast(bits, POINTER(c_ubyte))
            setattr(self, f"_bits{device}", bits)
        xi.XISelectEvents(self.d, root, masks, 2)
        x11.XSync(self.d, 0)

    def fileno(self) -> int:
        return int(self.x11.XConnectionNumber(self.d))

    def devices(self) -> dict[int, str]:
        """Every input device's id and name (masters and slaves)."""
        count = c_int()
        info = self.xi.XIQueryDevice(self.d, ALL_DEVICES, byref(count))
        try:
            return {info[i].deviceid: (info[i].name or b"").decode("utf-8", "replace") for i in range(count.value)}
        finally:
            if info:
                self.xi.XIFreeDeviceInfo(info)

    def sync(self) -> None:
        """A round trip: every event the server sent before it is now queued."""
        if not self.dead:
            self.x11.XSync(self.d, 0)

    def events(self) -> list[RawKey | str]:
        """The queued events read off the socket: ``RawKey``s, and "hierarchy" for device changes."""
        x11 = self.x11
        out: list[RawKey | str] = []
        while not self.dead and x11.XPending(self.d):
            ev = _Event()
            x11.XNextEvent(self.d, byref(ev))
            cookie = ev.xcookie
            if ev.type != GENERIC_EVENT or cookie.extension != self.opcode:
                continue
            if not x11.XGetEventData(self.d, byref(cookie)):
                continue
            try:
                if cookie.evtype == RAW_KEY_PRESS:
                    raw = ctypes.cast(cookie.data, POINTER(_RawEvent)).contents
                    out.append(RawKey(raw.sourceid, raw.deviceid, raw.detail, raw.time))
                elif cookie.evtype == HIERARCHY_CHANGED:
                    out.append("hierarchy")
            finally:
                x11.XFreeEventData(self.d, byref(cookie))
        return out

    def close(self) -> None:
        if self.d:
            d, self.d = self.d, None
            self.x11.XCloseDisplay(d)
