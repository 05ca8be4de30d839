"""Accessibility read-back (quarterdeck.core.desktop.atspi) against real Chromium chat windows, plus its units.

The Chromium tests share one browser (the module's ``chromium_module``) with a contenteditable
window and a textarea window, and need the AT-SPI bus scripts/with-xvfb.sh starts.
"""
from __future__ import annotations

import logging
import os
from types import SimpleNamespace

import pytest
from jeepney.low_level import HeaderFields
from xterm_desk import user_copies, wait_until

from quarterdeck.core.desktop import atspi
from quarterdeck.core.desktop.atspi import AccessibilityReader, InputHandle
from quarterdeck.core.desktop.atspi_text import normalize

# -- normalize ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("hello \u00a0world", "hello  world"),  # contenteditable: runs of spaces come back with NBSP
    ("a\u00a0\u00a0\u00a0b", "a   b"),
    ("draft\n", "draft"),  # a trailing <br>
    ("one\r\ntwo\rthree", "one\ntwo\nthree"),
    ("line one  \nline two\u00a0\n\n", "line one\nline two"),
    ("x\ufffcy\u200bz\ufeff", "xyz"),  # embedded objects and zero-width characters
    ("e\u0301", "\u00e9"),  # NFC
    ("  indented\n\ttab", "  indented\n\ttab"),  # leading whitespace is the message's own
    ("", ""),
    ("\n", ""),
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_normalize_is_idempotent_and_keeps_inner_runs():
    text = "[C2A] Captain → Agent-3 | é ß — 你好 🚀\n  two  spaces\tand a tab"
    assert normalize(text) == text
    assert normalize(normalize(text + "\u00a0\n")) == text


# -- without a bus ------------------------------------------------------------------------------


def test_connect_without_any_bus_is_none(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger=atspi.__name__)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setattr(atspi, "_bus_from_x", lambda: None)
    assert AccessibilityReader.connect() is None
    assert atspi.accessibility_reader() is None
    assert "no AT_SPI_BUS" in caplog.text


def test_connect_without_display_or_session_is_none(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    assert list(atspi.find_bus_addresses()) == []
    assert AccessibilityReader.connect() is None


def test_connect_to_a_dead_bus_is_none(monkeypatch, tmp_path):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setattr(atspi, "_bus_from_x", lambda: f"unix:path={tmp_path}/gone")
    assert AccessibilityReader.connect(timeout=0.2) is None


# -- the reader's logic, on a scripted bus --------------------------------------------------------

FOCUSED_EDITABLE = (1 << atspi.FOCUSED) | (1 << atspi.EDITABLE)


class ScriptedBus:
    """Answers the reader's calls from ``replies[(bus, path, member)]``; a missing one is an error."""

    def __init__(self, replies: dict) -> None:
        self.replies = replies
        self.calls: list[tuple[str, str, str]] = []

    def send_and_get_reply(self, msg, timeout=None):
        fields = msg.header.fields
        key = (fields[HeaderFields.destination], fields[HeaderFields.path], fields[HeaderFields.member])
        self.calls.append(key)
        body = self.replies.get(key)
        kind = "error" if body is None else "method_return"
        header = SimpleNamespace(message_type=SimpleNamespace(name=kind), fields={4: "org.a11y.Error"})
        return SimpleNamespace(header=header, body=body if body is not None else ("no such object",))

    def close(self) -> None:
        pass


def app(windows: dict[str, tuple[int, list[str]]], pid: int = 42) -> dict:
    """Replies for one application (bus :1.5, process ``pid``) with ``windows``: path -> (its
    states, the focused inputs in it)."""
    replies = {
        (atspi.REGISTRY, atspi.ROOT, "GetChildren"): ([(":1.5", atspi.ROOT)],),
        ("org.freedesktop.DBus", "/org/freedesktop/DBus", "GetConnectionUnixProcessID"): (pid,),
        (":1.5", atspi.ROOT, "GetChildren"): ([(":1.5", path) for path in windows],),
    }
    for path, (states, inputs) in windows.items():
        replies[(":1.5", path, "GetState")] = ([states, 0],)
        replies[(":1.5", path, "GetMatches")] = ([(":1.5", node) for node in inputs],)
        replies[(":1.5", path, "Get")] = (("s", f"title of {path}"),)
        for node in inputs:
            replies[(":1.5", node, "GetState")] = ([FOCUSED_EDITABLE, 0],)
            replies[(":1.5", node, "GetText")] = (f"text of {node}",)
    return replies


def scripted_reader(replies: dict) -> tuple[AccessibilityReader, ScriptedBus]:
    bus = ScriptedBus(replies)
    return AccessibilityReader(bus, "unix:path=/scripted"), bus


def test_the_active_window_decides_and_the_found_input_is_checked_cheaply_next_time():
    reader, bus = scripted_reader(app({"/w1": (0, ["/w1/input"]), "/w2": (1 << atspi.ACTIVE, ["/w2/input"])}))
    state = reader.focused_input(42)
    assert state is not None
    assert (state.text, state.window_title, state.handle.window) == ("text of /w2/input", "title of /w2", "/w2")
    bus.calls.clear()
    assert reader.focused_input(42).text == "text of /w2/input"
    assert bus.calls == [(":1.5", "/w2/input", "GetState"), (":1.5", "/w2", "GetState"),
                         (":1.5", "/w2/input", "GetText"), (":1.5", "/w2", "Get")]  # no search
    assert reader.read(state.handle) == "text of /w2/input"
    assert reader.read_until(state.handle, lambda text: text.endswith("input")) == "text of /w2/input"


def test_two_focused_inputs_and_no_active_window_is_no_answer():
    reader, _bus = scripted_reader(app({"/w1": (0, ["/w1/input"]), "/w2": (0, ["/w2/input"])}))
    assert reader.focused_input(42) is None
    assert "2 windows" in reader.reason


def test_no_focused_input_and_unknown_process_say_why():
    reader, _bus = scripted_reader(app({"/w1": (1 << atspi.ACTIVE, [])}))
    assert reader.focused_input(42) is None
    assert "no focused editable input" in reader.reason
    assert reader.focused_input(7) is None
    assert "no accessible application belongs to process 7" in reader.reason


def test_a_gone_input_reads_none_and_a_failing_app_is_forgotten():
    reader, _bus = scripted_reader({})
    assert reader.read(InputHandle(42, ":1.5", "/gone", "/w1")) is None
    assert "could not be read" in reader.reason
    reader._apps[42] = ":1.9"  # a stale name: forgotten, the registry asked afresh (it is gone too)
    assert reader.focused_input(42) is None
    assert "query failed" in reader.reason and 42 not in reader._apps


def test_a_single_window_needs_no_active_mark_and_an_app_that_went_away_is_looked_up_again():
    replies = app({"/w1": (0, ["/w1/input"])})
    reader, _bus = scripted_reader(replies)
    assert reader.focused_input(42).text == "text of /w1/input"
    reader._apps[42] = ":1.9"  # the app reconnected under a new name: the stale one fails, then afresh
    reader._last.clear()
    assert reader.focused_input(42).handle.bus == ":1.5"


def test_embedded_objects_are_expanded_blocks_on_their_own_lines_and_by_offset_when_links_miscount():
    """"a link " + an inline link + a block holding a nested block; the object with no link stays U+FFFC."""
    replies = app({"/w1": (0, ["/in"])})
    replies[(":1.5", "/in", "GetText")] = ("see \ufffc\ufffc\ufffc",)
    replies[(":1.5", "/in", "GetNLinks")] = (2,)  # three U+FFFC, two links: their StartIndex decides
    for i, (obj, start, text, display) in enumerate([("/a", 4, "here", "inline"), ("/p", 5, "two\ufffc", "block")]):
        replies[(":1.5", f"/link{i}", "GetObject")] = ((":1.5", obj),)
        replies[(":1.5", f"/link{i}", "Get")] = (("i", start),)
        replies[(":1.5", obj, "GetText")] = (text,)
        replies[(":1.5", obj, "GetAttributes")] = ({"display": display},)
    replies[(":1.5", "/p", "GetNLinks")] = (1,)
    replies[(":1.5", "/p", "GetLink")] = ((":1.5", "/link2"),)
    replies[(":1.5", "/link2", "GetObject")] = ((":1.5", "/q"),)
    replies[(":1.5", "/q", "GetText")] = ("three",)
    replies[(":1.5", "/q", "GetAttributes")] = ({"display": "block"},)
    reader, bus = scripted_reader(replies)
    links = iter([(":1.5", "/link0"), (":1.5", "/link1")])
    answer = bus.send_and_get_reply

    def send_and_get_reply(msg, timeout=None):
        if msg.header.fields[HeaderFields.member] == "GetLink" and msg.header.fields[HeaderFields.path] == "/in":
            bus.replies[(":1.5", "/in", "GetLink")] = (next(links),)
        return answer(msg, timeout)

    bus.send_and_get_reply = send_and_get_reply
    assert reader.focused_input(42).text == "see here\ntwo\nthree\n\ufffc"


# -- real Chromium windows ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def reader():
    found = AccessibilityReader.connect()
    if found is None:
        pytest.skip("no AT-SPI bus (scripts/with-xvfb.sh starts one where at-spi2-core is installed)")
    yield found
    found.close()


@pytest.fixture(scope="module")
def panes(chromium_module, reader):
    """{kind: ChatWindow}: one contenteditable and one textarea window of the same browser."""
    editable, = chromium_module(1, kind="contenteditable")
    textarea, = chromium_module(1, kind="textarea")
    return {"contenteditable": editable, "textarea": textarea}


@pytest.fixture
def fresh(panes):
    """The panes with empty inputs and no recorded submissions."""
    for pane in panes.values():
        pane.clear_input()
    return panes


def focused(reader, pane, expected: str):
    """The reader's answer once the accessibility tree caught up with the page (a few ms)."""
    state = reader.focused_input(pane.pid)
    assert state is not None, reader.reason
    text = reader.read_until(state.handle, lambda t: normalize(t) == normalize(expected), timeout=2)
    return state, text


KINDS = ["contenteditable", "textarea"]


@pytest.mark.x11
@pytest.mark.parametrize("kind", KINDS)
def test_a_typed_draft_is_read_back_exactly(fresh, reader, kind):
    pane = fresh[kind]
    pane.click_input()
    pane.type("draft:  two  spaces, (parens) #1")
    pane.key("shift+Return")
    pane.type("second line")
    expected = "draft:  two  spaces, (parens) #1\nsecond line"
    assert normalize(pane.wait_value(expected)) == expected  # the page's own view
    state, text = focused(reader, pane, expected)
    assert normalize(text) == expected
    assert state.window_title == pane.title
    assert state.handle.pid == pane.pid


@pytest.mark.x11
@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_input_reads_empty_and_a_submitted_one_reads_empty_again(fresh, reader, kind):
    pane = fresh[kind]
    pane.click_input()
    state, text = focused(reader, pane, "")
    assert normalize(text) == ""
    pane.type("send me")
    assert normalize(reader.read_until(state.handle, lambda t: normalize(t) == "send me")) == "send me"
    pane.key("Return")
    assert pane.wait_submissions(1) == ["send me"]
    assert normalize(reader.read_until(state.handle, lambda t: normalize(t) == "", timeout=2)) == ""
    assert reader.focused_input(pane.pid).handle == state.handle


@pytest.mark.x11
def test_with_two_windows_of_one_browser_the_focused_window_answers(fresh, reader):
    editable, textarea = fresh["contenteditable"], fresh["textarea"]
    assert editable.pid == textarea.pid  # one browser process, two windows
    editable.click_input()
    editable.type("left draft")
    textarea.click_input()
    textarea.type("right draft")
    textarea.wait_value("right draft")
    for pane, draft in ((textarea, "right draft"), (editable, "left draft"), (textarea, "right draft")):
        pane.click_input()
        state, text = focused(reader, pane, draft)
        assert (normalize(text), state.window_title) == (draft, pane.title)


@pytest.mark.x11
def test_the_session_bus_leads_to_the_same_bus_and_a_bus_without_registry_is_refused(reader, monkeypatch):
    session = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if not session:
        pytest.skip("no session bus")
    monkeypatch.setattr(atspi, "_bus_from_x", lambda: None)
    found = AccessibilityReader.connect()
    assert found is not None and found.address == reader.address
    found.close()
    monkeypatch.setattr(atspi, "_bus_from_x", lambda: session)  # a bus with no AT-SPI registry on it
    monkeypatch.setattr(atspi, "_bus_from_session", lambda: None)
    assert AccessibilityReader.connect(timeout=0.5) is None


@pytest.mark.x11
def test_a_process_without_an_accessibility_tree_is_no_answer(reader):
    assert reader.focused_input(os.getpid()) is None
    assert "no accessible application" in reader.reason


@pytest.mark.x11
def test_page_variants_and_a_closed_window(chromium_module, reader, empty_clipboard):
    """The harness's unhappy-path pages behave, seen by the page and by accessibility alike."""
    ignoring, = chromium_module(1, kind="textarea", variant="ignore-enter", names=["Ignorer"])
    refusing, = chromium_module(1, kind="contenteditable", variant="refuse-paste", names=["Refuser"])
    slow, = chromium_module(1, kind="contenteditable", variant="slow-paste", names=["Slowpoke"])

    ignoring.click_input()
    ignoring.type("stays put")
    ignoring.key("Return")
    state, text = focused(reader, ignoring, "stays put")
    assert (normalize(text), ignoring.submissions()) == ("stays put", [])

    user_copies(b"pasted words")
    refusing.click_input()
    refusing.key("ctrl+v")
    slow.click_input()
    slow.key("ctrl+v")
    assert slow.wait_value("pasted words", timeout=3) == "pasted words"
    assert normalize(focused(reader, slow, "pasted words")[1]) == "pasted words"
    assert set(refusing.values()) == {""}  # the paste was cancelled: nothing ever typed
    refusing.click_input()
    assert normalize(focused(reader, refusing, "")[1]) == ""

    ignoring.close()
    wait_until(lambda: reader.read(state.handle) is None, "the closed window's input to go", timeout=5)


LINES = "Line one é\n  Two spaces ß\n\nafter a blank line 🚀\n<last> & done"


@pytest.mark.x11
@pytest.mark.parametrize("variant", ["slow-paste", "paragraphs"])
def test_lines_stored_as_blocks_read_back_whole(chromium_module, reader, empty_clipboard, variant):
    """execCommand("insertText") stores pasted lines as a <div> each, Lexical (Cursor's composer) as a
    <p> each: GetText gives them as U+FFFC, each expanded to its line."""
    pane, = chromium_module(1, kind="contenteditable", variant=variant, names=[f"Blocks-{variant}"])
    user_copies(LINES.encode())
    pane.click_input()
    pane.key("ctrl+v")
    wait_until(lambda: "after a blank line" in pane.value(), "the paste", timeout=3)
    _state, text = focused(reader, pane, LINES)
    assert normalize(text) == LINES
    assert normalize(reader.focused_input(pane.pid).text) == LINES
