"""The demo chat window offscreen: its keys behave like a real chat pane and every submission
lands in the transcript file exactly."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from quarterdeck.gui.demo.chatwindow import ECHO_DELAY_MS, ChatWindow
from quarterdeck.gui.demo.transcript import (
    NEW_CHAT,
    Entry,
    FileWorker,
    message_record,
    new_chat_record,
    parse_transcript,
)

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
TEXT = "first line é 你好 🚀\n\ttabbed `id` $HOME && rm -rf * ; 'q' \"qq\" <a> &amp;\n\nlast   spaced"


@pytest.fixture
def files():
    worker = FileWorker()
    yield worker
    worker.close()


@pytest.fixture
def chat(qtbot, tmp_path, files):
    window = ChatWindow("Agent-7", "demo: tests", tmp_path / "transcripts" / "Agent-7.txt", files)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def transcript(chat, files) -> str:
    assert files.drain()
    return chat.transcript_path.read_text(encoding="utf-8")


def type_in(qtbot, chat, text: str) -> None:
    chat.input.setFocus()
    chat.input.setPlainText(text)
    chat.input.moveCursor(chat.input.textCursor().MoveOperation.End)


def test_window_is_titled_and_the_box_invites_a_message(chat, files):
    assert chat.windowTitle() == "Agent-7 · demo agent"
    assert chat.input.placeholderText() == "Message Agent-7…"
    assert "Ctrl+T new chat" in chat.hint.text() and chat.input.toolTip() == ""
    assert transcript(chat, files) == ""  # a fresh window starts an empty transcript


def test_enter_submits_the_box_once_and_clears_it(qtbot, chat, files):
    type_in(qtbot, chat, TEXT)
    qtbot.keyClick(chat.input, Qt.Key.Key_Return)
    assert chat.input.toPlainText() == ""
    assert chat.received == 1 and chat.count_label.text() == "1 message"
    entries = parse_transcript(transcript(chat, files))
    assert [(e.kind, e.text, e.number, e.urgent) for e in entries] == [("message", TEXT, 1, False)]
    assert "first line é 你好 🚀" in chat.view.toPlainText()


def test_shift_enter_adds_a_line_and_sends_nothing(qtbot, chat, files):
    type_in(qtbot, chat, "one")
    qtbot.keyClick(chat.input, Qt.Key.Key_Return, SHIFT)
    qtbot.keyClicks(chat.input, "two")
    assert chat.input.toPlainText() == "one\ntwo"
    assert chat.received == 0 and transcript(chat, files) == ""
    qtbot.keyClick(chat.input, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    assert parse_transcript(transcript(chat, files))[0].text == "one\ntwo"


def test_ctrl_enter_submits_as_urgent(qtbot, chat, files):
    type_in(qtbot, chat, "now please")
    qtbot.keyClick(chat.input, Qt.Key.Key_Return, CTRL)
    (entry,) = parse_transcript(transcript(chat, files))
    assert entry.text == "now please" and entry.urgent
    assert "urgent" in chat.view.toPlainText()


def test_an_empty_or_blank_box_sends_nothing(qtbot, chat, files):
    qtbot.keyClick(chat.input, Qt.Key.Key_Return)
    type_in(qtbot, chat, "  \n ")
    qtbot.keyClick(chat.input, Qt.Key.Key_Return)
    assert chat.received == 0 and transcript(chat, files) == ""
    assert chat.input.toPlainText() == "  \n "


def test_ctrl_v_pastes_multiline_unicode_intact_as_one_submission(qtbot, chat, files):
    QApplication.clipboard().setText(TEXT)
    chat.input.setFocus()
    qtbot.keyClick(chat.input, Qt.Key.Key_V, CTRL)
    assert chat.input.toPlainText() == TEXT
    qtbot.keyClick(chat.input, Qt.Key.Key_Return)
    assert [e.text for e in parse_transcript(transcript(chat, files))] == [TEXT]


def test_ctrl_t_marks_a_new_chat_in_view_and_file(qtbot, chat, files):
    type_in(qtbot, chat, "before")
    qtbot.keyClick(chat.input, Qt.Key.Key_Return)
    qtbot.keyClick(chat.input, Qt.Key.Key_T, CTRL)
    type_in(qtbot, chat, "after")
    qtbot.keyClick(chat.input, Qt.Key.Key_Return)
    entries = parse_transcript(transcript(chat, files))
    assert [(e.kind, e.text, e.number) for e in entries] == [
        ("message", "before", 1), (NEW_CHAT, "", 0), ("message", "after", 2)]
    assert "— new chat —" in chat.view.toPlainText()
    assert chat.input.toPlainText() == ""  # Ctrl+T typed no "t"


def test_other_keys_type_normally(qtbot, chat):
    chat.input.setFocus()
    qtbot.keyClicks(chat.input, "abc")
    qtbot.keyClick(chat.input, Qt.Key.Key_T)
    qtbot.keyClick(chat.input, Qt.Key.Key_Return, Qt.KeyboardModifier.AltModifier)
    assert chat.input.toPlainText() == "abct" and chat.received == 0


def test_the_demo_agent_echoes_each_submission_clearly_labelled_and_in_order(qtbot, chat):
    type_in(qtbot, chat, "a")
    qtbot.keyClick(chat.input, Qt.Key.Key_Return)
    assert "demo echo" not in chat.view.toPlainText()  # the reply comes a moment later
    type_in(qtbot, chat, "two\nlines")
    qtbot.keyClick(chat.input, Qt.Key.Key_Return)
    qtbot.keyClick(chat.input, Qt.Key.Key_T, CTRL)
    qtbot.waitUntil(lambda: "received 9 characters on 2 lines ✓" in chat.view.toPlainText(),
                    timeout=ECHO_DELAY_MS * 10)
    shown = chat.view.toPlainText()
    assert "Agent-7 · demo echo" in shown
    order = [shown.index(part) for part in ("received 1 characters on 1 line ✓", "two",
                                            "received 9 characters", "— new chat —")]
    assert order == sorted(order)  # each echo right after its own message, before what came next
    assert chat.count_label.text() == "2 messages"


def test_moving_the_window_is_announced(qtbot, chat):
    with qtbot.waitSignal(chat.sig_geometry_changed):
        chat.move(chat.x() + 40, chat.y() + 30)


def test_records_round_trip_and_keep_trailing_newlines():
    texts = ["plain", "ends with newline\n", "\nstarts blank", "", "--- not a header"]
    text = "".join(message_record(i + 1, t, urgent=i == 1) for i, t in enumerate(texts))
    text += new_chat_record()
    entries = parse_transcript("stray preamble\n" + text)
    assert [e.text for e in entries[:-1]] == texts
    assert [e.urgent for e in entries[:-1]] == [False, True, False, False, False]
    assert entries[-1] == Entry(NEW_CHAT, entries[-1].at)


def test_file_worker_reports_failures_and_keeps_going(tmp_path):
    worker = FileWorker()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    worker.append(blocker / "below.txt", "lost")  # a file cannot be a folder
    worker.append(tmp_path / "ok.txt", "kept")
    assert worker.drain()
    worker.close()
    assert (tmp_path / "ok.txt").read_text() == "kept"
    assert len(worker.errors) == 1 and str(blocker) in worker.errors[0]
    worker.close()  # a second close is harmless
