"""Real Chromium app windows as chat panes (Cursor, VS Code and friends are Electron, i.e. Chromium).

``ChromiumDesk`` serves chat pages (chat_page.html) from a small HTTP server on 127.0.0.1 and
opens them in ONE Chromium browser process, one ``--app=URL`` window per agent, the way one
Cursor shows several windows. Each page:

- has its input at the bottom: a ``contenteditable`` div (like Cursor's composer) or a ``textarea``;
- submits on Enter without Shift (POSTs the text to ``/submit``, shows it as a bubble, clears the
  input); Shift+Enter is a newline;
- variants: ``ignore-enter`` (Enter does nothing: typed, not submitted), ``refuse-paste`` (the
  paste is cancelled: nothing typed), ``slow-paste`` (the pasted text goes in ~300 ms later, by
  ``execCommand("insertText")``: a contenteditable gets a ``<div>`` per line after the first),
  ``paragraphs`` (a contenteditable gets a ``<p>`` per pasted line, the way Lexical, Cursor's
  composer, stores text);
- POSTs its state to ``/state`` on load, focus, input, submit and resize: the input's text, its
  box in the page, the viewport size. Tests read drafts from there, independent of AT-SPI.

The window title is the page title, ``chat-<name> — <kind>[, <variant>]``. Screen points are
worked out from the X geometry of the window and the page's layout: app windows have no chrome
below the page, so the viewport's top is the window's bottom minus ``innerHeight`` (this also
covers the ``--no-sandbox`` infobar that pushes the first window's page down).

Usage (the ``chromium_chats`` fixture is a ``ChromiumDesk``)::

    one, two = chromium_chats(2, kind="textarea")           # windows of one browser process
    odd, = chromium_chats(1, variant="ignore-enter")        # more windows, same process
    one.click_input(); one.type("draft"); one.wait_value("draft")
    one.key("Return"); assert one.wait_submissions(1) == ["draft"] and one.value() == ""
    one.input_point, one.geometry, one.pid, one.window       # for GuiTransport / the X checks
    one.move(x, y); one.resize(w, h); one.close()            # moved, resized and closed windows

Shared by the tests in this folder (through conftest.py) and by benchmarks.
"""
from __future__ import annotations

import html
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import warnings
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from xterm_desk import wait_until

KINDS = ("contenteditable", "textarea")
VARIANTS = ("", "ignore-enter", "refuse-paste", "slow-paste", "paragraphs")
TOOLS = ("chromium", "xdotool")
PAGE = Path(__file__).with_name("chat_page.html")
SLOT_W, SLOT_H = 480, 540  # eight slots, 4 columns x 2 rows, on the 1920x1080 test screen
FLAGS = ("--no-sandbox", "--no-first-run", "--no-default-browser-check", "--password-store=basic",
         "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-quic", "--force-renderer-accessibility", "--ozone-platform=x11")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def settle(seconds: float = 0.2) -> None:
    """A bounded wait for anything a finished delivery might still make the page report, before a
    test asserts that nothing more came. The page reports its input and its submissions over
    separate HTTP requests, which arrive in no fixed order, so no later event proves an earlier one
    would have arrived: this wait is the one place that takes a fixed time instead."""
    time.sleep(seconds)


def title_for(name: str, kind: str, variant: str = "") -> str:
    return f"chat-{name} — {kind}" + (f", {variant}" if variant else "")


def page_html(name: str, kind: str, variant: str = "") -> str:
    label = html.escape(f"Message {name}…")
    if kind == "textarea":
        field_ = f'<textarea id="input" aria-label="{label}" placeholder="{label}"></textarea>'
    else:
        field_ = (f'<div id="input" contenteditable="true" role="textbox" aria-multiline="true" '
                  f'aria-label="{label}"></div>\n<div id="placeholder" aria-hidden="true">{label}</div>')
    out = PAGE.read_text(encoding="utf-8")
    for key, value in {"__TITLE__": html.escape(title_for(name, kind, variant)), "__INPUT__": field_,
                       "__NAME__": html.escape(name), "__KIND__": kind, "__VARIANT__": variant}.items():
        out = out.replace(key, value)
    return out


@dataclass
class _Record:
    submissions: list[str] = field(default_factory=list)
    state: dict = field(default_factory=dict)  # the newest state the page reported (highest seq)
    values: list[str] = field(default_factory=list)  # the input's text after each reported change


class ChatServer:
    """The pages' server, in a daemon thread: serves ``/chat`` and records ``/submit`` and ``/state``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep pytest's output clean
                pass

            def _query(self) -> dict[str, str]:
                return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

            def _reply(self, code: int, body: bytes = b"", kind: str = "text/plain") -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                query = self._query()
                if urlsplit(self.path).path != "/chat" or "name" not in query:
                    self._reply(404)
                    return
                page = page_html(query["name"], query.get("kind", KINDS[0]), query.get("variant", ""))
                self._reply(200, page.encode(), "text/html; charset=utf-8")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                name = self._query().get("name", "")
                path = urlsplit(self.path).path
                if path == "/submit":
                    server._record(name, submission=body)
                elif path == "/state":
                    server._record(name, state=json.loads(body))
                else:
                    self._reply(404)
                    return
                self._reply(204)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="chat-server", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def _record(self, name: str, submission: str | None = None, state: dict | None = None) -> None:
        with self._lock:
            record = self._records.setdefault(name, _Record())
            if submission is not None:
                record.submissions.append(submission)
            if state is not None and state.get("seq", 0) > record.state.get("seq", 0):
                record.state = state
                if not record.values or record.values[-1] != state.get("value"):
                    record.values.append(state.get("value", ""))

    def submissions(self, name: str) -> list[str]:
        with self._lock:
            return list(self._records.get(name, _Record()).submissions)

    def state(self, name: str) -> dict:
        with self._lock:
            return dict(self._records.get(name, _Record()).state)

    def values(self, name: str) -> list[str]:
        with self._lock:
            return list(self._records.get(name, _Record()).values)

    def forget(self, name: str) -> None:
        """Drop the submissions and the value history (the newest state stays)."""
        with self._lock:
            record = self._records.get(name)
            if record:
                record.submissions.clear()
                record.values[:] = [record.state.get("value", "")] if record.state else []

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _xdotool(*args: str, timeout: float = 20) -> str:
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, check=True,
                          timeout=timeout).stdout


_display = None
_display_lock = threading.Lock()


def _x():
    global _display
    from Xlib import display as xdisplay

    if _display is None:
        with warnings.catch_warnings():  # python-xlib leaves its Xauthority file unclosed
            warnings.simplefilter("ignore", ResourceWarning)
            _display = xdisplay.Display()
    return _display


def _geometry(window: int) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the window's own area in root coordinates. Asked of the X server:
    ``xdotool getwindowgeometry`` counts the window manager's title bar twice for framed windows."""
    with _display_lock:
        win = _x().create_resource_object("window", window)
        size = win.get_geometry()
        origin = _x().screen().root.translate_coords(win, 0, 0)
        return origin.x, origin.y, size.width, size.height


def _frame_origin(window: int) -> tuple[int, int]:
    """Where the window's frame (its top-level ancestor, the window manager's) sits on the root."""
    with _display_lock:
        root = _x().screen().root
        win = _x().create_resource_object("window", window)
        while (parent := win.query_tree().parent) and parent.id != root.id:
            win = parent
        geometry = win.get_geometry()
        return geometry.x, geometry.y


def move_window(window: int, title: str, x: int, y: int) -> None:
    """Move ``window`` (``xdotool windowmove``) until its own area's corner is at (x, y). Chromium
    asks for static gravity (the request is the area's place); a window that does not is corrected."""
    request = (x, y)
    for _ in range(3):
        before = _geometry(window)[:2]
        if before == (x, y):
            return
        _xdotool("windowmove", str(window), str(request[0]), str(request[1]))
        wait_until(lambda before=before: _geometry(window)[:2] != before, f"{title} to move", timeout=5)
        got = _geometry(window)[:2]
        request = (request[0] + x - got[0], request[1] + y - got[1])
    raise RuntimeError(f"{title} did not move to {(x, y)}: it is at {_geometry(window)[:2]}")


@dataclass
class ChatWindow:
    """One chat pane: its X window, its page's name, and what the page reported."""

    name: str
    kind: str
    variant: str
    title: str
    window: int
    pid: int
    server: ChatServer = field(repr=False)

    @property
    def geometry(self) -> tuple[int, int, int, int]:
        """(x, y, width, height) of the X window now, in root coordinates."""
        return _geometry(self.window)

    def state(self) -> dict:
        return self.server.state(self.name)

    def value(self) -> str:
        """The input's text as the page last reported it (``innerText`` / ``value``)."""
        return self.state().get("value", "")

    def values(self) -> list[str]:
        return self.server.values(self.name)

    def submissions(self) -> list[str]:
        return self.server.submissions(self.name)

    def input_box(self) -> tuple[int, int, int, int]:
        """The input's (x, y, width, height) on screen, from the X geometry and the page's layout."""
        x, y, width, height = self.geometry
        wait_until(lambda: self._matches(width, height), f"{self.title} to report its layout at {width}x{height}")
        state = self.state()
        rect, scale = state["rect"], state.get("dpr") or 1
        left = x + (width - round(state["innerWidth"] * scale)) // 2
        top = y + height - round(state["innerHeight"] * scale)
        return (left + round(rect["x"] * scale), top + round(rect["y"] * scale),
                round(rect["width"] * scale), round(rect["height"] * scale))

    @property
    def input_point(self) -> tuple[int, int]:
        """The centre of the input on screen: a click there focuses it."""
        x, y, width, height = self.input_box()
        return x + width // 2, y + height // 2

    # xdotool's --sync waits for a change: ~15 s when there is none, so these wait themselves
    def move(self, x: int, y: int) -> None:
        """Put the window's own area (``geometry``, the frame aside) at (x, y) on the root."""
        move_window(self.window, self.title, x, y)

    @property
    def decorations(self) -> tuple[int, int]:
        """How far the window's own area sits from its frame's corner (left border, title bar)."""
        x, y = self.geometry[:2]
        frame_x, frame_y = _frame_origin(self.window)
        return x - frame_x, y - frame_y

    def resize(self, width: int, height: int) -> None:
        """Give the window (the page's area, no frame) this size; returns once the page saw it."""
        if self.geometry[2:] != (width, height):
            _xdotool("windowsize", str(self.window), str(width), str(height))
        wait_until(lambda: self._matches(width, height), f"{self.title} to report its new size")

    def _matches(self, width: int, height: int) -> bool:
        """Did the page report its layout at this window size? (An app window's outer size is the
        X window's: Chromium draws no frame of its own around it under a window manager.)"""
        state = self.state()
        scale = state.get("dpr") or 1
        return bool(state) and (round(state["outerWidth"] * scale), round(state["outerHeight"] * scale)) == (
            width, height)

    def activate(self) -> None:
        _xdotool("windowactivate", "--sync", str(self.window))

    def click_input(self) -> None:
        x, y = self.input_point
        # no --sync: it waits ~15 s when the pointer is there already; XTest keeps the order anyway
        _xdotool("mousemove", str(x), str(y), "click", "1")
        wait_until(lambda: self.state().get("focused"), f"{self.title}'s input to take focus", timeout=5)

    def type(self, text: str, delay_ms: int = 12) -> None:
        """Type ``text`` into the focused window (ASCII: xdotool garbles the rest at speed)."""
        _xdotool("type", "--delay", str(delay_ms), "--", text, timeout=60)

    def key(self, *keys: str) -> None:
        _xdotool("key", "--delay", "20", *keys)

    def wait_value(self, expected: str, timeout: float = 5.0) -> str:
        """The page's input text once it equals ``expected`` (trailing newline aside), else TimeoutError."""
        want = expected.rstrip("\n")
        wait_until(lambda: self.value().rstrip("\n") == want,
                   f"{self.title}'s input to read {expected!r}", timeout=timeout)
        return self.value()

    def wait_submissions(self, count: int, timeout: float = 5.0) -> list[str]:
        wait_until(lambda: len(self.submissions()) >= count,
                   f"{count} submission(s) from {self.title}", timeout=timeout)
        return self.submissions()

    def clear_input(self) -> None:
        """Empty the input with the keyboard (select all, delete) and forget the history."""
        self.click_input()
        self.key("ctrl+a", "BackSpace")
        self.wait_value("")
        self.server.forget(self.name)

    @property
    def is_open(self) -> bool:
        return self.window in _search(_title_pattern(self.title))

    def close(self) -> None:
        """Close the window as a person would (Ctrl+W in it) and wait until it is gone. Closing the
        last window ends the browser."""
        self.activate()
        _xdotool("key", "--clearmodifiers", "ctrl+w")
        wait_until(lambda: not self.is_open, f"{self.title} to close")


class ChromiumDesk:
    """One Chromium browser (a private profile in ``folder``) with chat windows; ``close()`` ends it.
    ``accessibility=False`` starts it the way an app without accessibility runs (its own profile).

    ``desk(count, kind=..., variant=...)`` opens more windows in the same browser process; each is
    moved to the next of eight slots (4 columns x 2 rows) and returned once its page reported in.
    """

    def __init__(self, folder: Path, *, accessibility: bool = True) -> None:
        self.folder = Path(folder)
        self.accessibility = accessibility  # False: no ACCESSIBILITY_ENABLED, renderer accessibility off
        self.profile = self.folder / ("chromium-profile" if accessibility else "chromium-profile-no-a11y")
        self.server = ChatServer()
        self.windows: list[ChatWindow] = []
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def url(self, name: str, kind: str, variant: str = "") -> str:
        return (f"{self.server.base_url}/chat?name={quote(name)}&kind={quote(kind)}"
                + (f"&variant={quote(variant)}" if variant else ""))

    def _launch(self, url: str) -> subprocess.Popen:
        env = {**os.environ, "ACCESSIBILITY_ENABLED": "1"}
        env.pop("NO_AT_BRIDGE", None)
        flags = FLAGS
        if not self.accessibility:  # an app started without accessibility: nothing to read back
            env.pop("ACCESSIBILITY_ENABLED")
            flags = (*(f for f in FLAGS if f != "--force-renderer-accessibility"), "--disable-renderer-accessibility")
        if self._log is None:
            self.profile.mkdir(parents=True, exist_ok=True)
            self._log = open(self.profile.with_suffix(".log"), "ab")
        return subprocess.Popen(
            ["chromium", *flags, f"--user-data-dir={self.profile}", f"--app={url}"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, env=env, start_new_session=True)

    def start(self, count: int = 1, kind: str = "contenteditable", variant: str = "",
              names: list[str] | None = None) -> list[ChatWindow]:
        if kind not in KINDS or variant not in VARIANTS:
            raise ValueError(f"unknown page: kind {kind!r}, variant {variant!r}")
        batch = []
        for offset in range(count):
            index = len(self.windows)
            name = names[offset] if names else f"Agent-{index + 1}"
            title = title_for(name, kind, variant)
            if self.proc is None or self.proc.poll() is not None:
                self.proc = self._launch(self.url(name, kind, variant))
            else:  # a second launch hands the URL to the running browser and exits
                self._launch(self.url(name, kind, variant)).wait(30)
            window = self._find(title)
            chat = ChatWindow(name, kind, variant, title, window, self.proc.pid, self.server)
            wait_until(chat.state, f"{title} to load", timeout=20)
            left, top = chat.decorations
            chat.move(SLOT_W * (index % 4) + left, SLOT_H * (index // 4 % 2) + top)
            chat.resize(SLOT_W - 2 * left, SLOT_H - top - left)
            self.windows.append(chat)
            batch.append(chat)
        return batch

    __call__ = start

    def _find(self, title: str) -> int:
        pattern = _title_pattern(title)
        ids = wait_until(lambda: _search(pattern), f"a window titled {title!r}", timeout=30)
        if len(ids) > 1:
            raise RuntimeError(f"{len(ids)} windows are titled {title!r}")
        window = ids[0]
        pid = int(_xdotool("getwindowpid", str(window)).strip() or 0)
        if self.proc is not None and pid != self.proc.pid:
            raise RuntimeError(f"{title!r} belongs to pid {pid}, not the browser {self.proc.pid}")
        return window

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.server.close()
        if self._log:
            self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def _title_pattern(title: str) -> str:
    """An anchored POSIX extended regular expression (xdotool's) matching exactly ``title``."""
    return "^" + "".join("\\" + c if c in ".[]()*+?{}|^$\\" else c for c in title) + "$"


def _search(pattern: str) -> list[int]:
    done = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", pattern],
                          capture_output=True, text=True, timeout=10)
    return [int(line) for line in done.stdout.split()]

