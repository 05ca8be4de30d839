"""InboxDelivery writing real files into real folders."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from quarterdeck.core.delivery.contract import DeliveryRequest
from quarterdeck.core.delivery.errors import Cancelled, PermanentError, RetryableError
from quarterdeck.core.transports.inbox import InboxDelivery, parse_message

ROOT = Path(__file__).resolve().parents[2]
TEXT = "[C2A] Agent-3 | URGENT\n\nHello é 你好 🚀\r\n$HOME `x` \"q\" 'q' \\ ; | & > <  \n---\nnot a header\n"


def request(**kw) -> DeliveryRequest:
    defaults = dict(
        agent_id="Agent-3",
        text=TEXT,
        priority="urgent",
        message_id="msg_20250901_142233_ab12cd",
        sender="Captain",
        recipients=("Agent-3",),
        created_at=datetime(2025, 9, 1, 14, 22, 33, tzinfo=timezone(timedelta(hours=2))),
    )
    defaults.update(kw)
    return DeliveryRequest(**defaults)


def md_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.md"))


def test_message_file_has_front_matter_then_the_exact_text(tmp_path):
    inbox = tmp_path / "Agent-3" / "inbox"
    inbox.parent.mkdir()
    receipt = InboxDelivery(inbox).deliver(request(), threading.Event())
    [path] = md_files(inbox)
    assert receipt.transport == "inbox" and receipt.confirmed
    assert str(path) in receipt.detail
    data = path.read_bytes()
    assert data.endswith(TEXT.encode("utf-8"))
    header, text = parse_message(data)
    assert text == TEXT
    assert header == {
        "sender": "Captain",
        "recipients": ["Agent-3"],
        "priority": "urgent",
        "message_id": "msg_20250901_142233_ab12cd",
        "time": "2025-09-01T12:22:33+00:00",
        "type": "message",
    }
    front = data[: data.index(b"\n---\n", 4) + 5].decode()
    assert yaml.safe_load(front.strip().strip("-")) == header


def test_file_name_is_sortable_time_priority_and_id(tmp_path):
    inbox = InboxDelivery(tmp_path)
    inbox.deliver(request(priority="normal", message_id="first/../id"), threading.Event())
    inbox.deliver(request(priority="urgent", message_id=""), threading.Event())
    first, second = md_files(tmp_path)
    stamp, priority, ident = first.stem.split("-", 2)
    assert priority == "normal" and ident == "first_.._id"
    assert datetime.strptime(stamp, "%Y%m%dT%H%M%S.%fZ")
    assert second.stem.split("-")[1] == "urgent"
    assert len(second.stem.split("-", 2)[2]) == 8


def test_header_values_that_look_like_yaml_or_fences_round_trip(tmp_path):
    sender = "Agent-1: 'boss'\n---\n# not a comment"
    req = request(sender=sender, recipients=("A", "B"), onboarding=False, created_at=None)
    InboxDelivery(tmp_path).deliver(req, threading.Event())
    header, text = parse_message(md_files(tmp_path)[0].read_bytes())
    assert header["sender"] == sender
    assert header["type"] == "broadcast"
    assert text == TEXT
    assert datetime.fromisoformat(header["time"]).tzinfo is not None


def test_onboarding_type(tmp_path):
    InboxDelivery(tmp_path).deliver(request(onboarding=True), threading.Event())
    assert parse_message(md_files(tmp_path)[0].read_bytes())[0]["type"] == "onboarding"


def test_no_temp_files_are_left_behind(tmp_path):
    inbox = InboxDelivery(tmp_path)
    for i in range(5):
        inbox.deliver(request(message_id=f"m{i}"), threading.Event())
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".md"] * 5


def test_concurrent_writes_from_threads_all_land(tmp_path):
    inbox = InboxDelivery(tmp_path / "inbox")
    count = 40
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(start: int) -> None:
        barrier.wait()
        for i in range(start, count, 8):
            try:
                inbox.deliver(request(message_id="same-id", text=f"message {i}\n"), threading.Event())
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    texts = sorted(parse_message(p.read_bytes())[1] for p in md_files(tmp_path / "inbox"))
    assert texts == sorted(f"message {i}\n" for i in range(count))
    assert len(list((tmp_path / "inbox").iterdir())) == count


def test_a_name_clash_never_overwrites_an_earlier_message(tmp_path, monkeypatch):
    monkeypatch.setattr(InboxDelivery, "_file_name", staticmethod(lambda req, now: "fixed.md"))
    inbox = InboxDelivery(tmp_path)
    inbox.deliver(request(text="one"), threading.Event())
    inbox.deliver(request(text="two"), threading.Event())
    texts = {p.name: parse_message(p.read_bytes())[1] for p in md_files(tmp_path)}
    assert texts.pop("fixed.md") == "one"
    [(name, text)] = texts.items()
    assert name.startswith("fixed-") and text == "two"


def test_stop_already_set_writes_nothing(tmp_path):
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        InboxDelivery(tmp_path).deliver(request(), stop)
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_created_when_its_parent_exists(tmp_path):
    inbox = InboxDelivery(tmp_path / "new-inbox")
    assert inbox.check() is None
    assert inbox.deliver(request(), threading.Event()).confirmed
    assert len(md_files(tmp_path / "new-inbox")) == 1


def test_a_folder_made_for_a_delivery_is_flushed_into_its_parent(tmp_path, monkeypatch):
    """The new folder's name is on disk before the delivery says delivered (a crash keeps the folder
    and the file in it), as each file's name is in its folder."""
    import quarterdeck.core.transports.inbox as inbox_module

    flushed: list[Path] = []
    monkeypatch.setattr(inbox_module, "fsync_dir", lambda folder: flushed.append(Path(folder)))
    assert InboxDelivery(tmp_path / "new-inbox").deliver(request(), threading.Event()).confirmed
    assert tmp_path in flushed and tmp_path / "new-inbox" in flushed


def test_a_new_folder_whose_flush_failed_is_made_and_flushed_again_by_the_retry(tmp_path, monkeypatch):
    """A folder made but not flushed into its parent is not taken as it is by the next try: a delivery
    that says delivered always rests on its folder's name being on disk."""
    import errno

    import quarterdeck.core.transports.inbox as inbox_module

    flushed: list[Path] = []

    def flaky(folder):
        flushed.append(Path(folder))
        if len(flushed) == 1:
            raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(inbox_module, "fsync_dir", flaky)
    inbox = InboxDelivery(tmp_path / "new-inbox")
    with pytest.raises(RetryableError, match="Input/output error"):
        inbox.deliver(request(), threading.Event())
    assert not (tmp_path / "new-inbox").exists()  # nothing of it left to be taken unflushed
    assert inbox.deliver(request(), threading.Event()).confirmed
    assert flushed[:2] == [tmp_path, tmp_path] and tmp_path / "new-inbox" in flushed


def test_missing_parent_is_permanent_and_names_the_path(tmp_path):
    target = tmp_path / "no-such-agent" / "inbox"
    inbox = InboxDelivery(target)
    assert str(target) in (inbox.check() or "")
    with pytest.raises(PermanentError, match=str(target)):
        inbox.deliver(request(), threading.Event())
    assert not target.parent.exists()


def test_a_file_in_place_of_the_folder_is_permanent(tmp_path):
    target = tmp_path / "inbox"
    target.write_text("oops")
    inbox = InboxDelivery(target)
    assert "not a folder" in (inbox.check() or "")
    with pytest.raises(PermanentError, match="not a folder"):
        inbox.deliver(request(), threading.Event())


CHILD = """
import sys, threading
sys.path.insert(0, sys.argv[2])
from quarterdeck.core.delivery.contract import DeliveryRequest
from quarterdeck.core.transports.inbox import InboxDelivery
inbox = InboxDelivery(sys.argv[1])
print("check:", inbox.check())
try:
    inbox.deliver(DeliveryRequest("Agent-1", "hi"), threading.Event())
except Exception as exc:
    print("raised:", type(exc).__name__, exc)
"""


def _without_write_override() -> list[str]:
    """A command prefix that runs a child unable to bypass file permissions (root drops DAC caps)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a folder unwritable")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]


def test_unwritable_folder_is_permanent(tmp_path):
    target = tmp_path / "locked"
    target.mkdir()
    target.chmod(0o555)
    try:
        out = subprocess.run(
            [*_without_write_override(), sys.executable, "-c", CHILD, str(target), str(ROOT)],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout
    finally:
        target.chmod(0o755)
    assert f"check: inbox {target} is not writable" in out
    assert f"raised: PermanentError inbox {target} is not writable" in out
    assert list(target.iterdir()) == []


def test_a_temp_name_left_by_a_dead_process_is_not_reused_and_the_file_is_private(tmp_path, monkeypatch):
    import itertools

    from quarterdeck.core.transports import inbox as module

    monkeypatch.setattr(module, "_TEMP_NUMBERS", itertools.count(7))
    stale = tmp_path / f".incoming-{os.getpid()}-7.tmp"
    stale.write_text("left by a kill")
    InboxDelivery(tmp_path).deliver(request(text="fresh"), threading.Event())
    assert stale.read_text() == "left by a kill"
    [written] = md_files(tmp_path)
    assert parse_message(written.read_bytes())[1] == "fresh"
    assert written.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([stale.name, written.name])


def test_the_receipt_detail_splits_into_the_folder_and_the_name_the_transport_gave(tmp_path):
    from quarterdeck.core.transports.inbox import split_written

    receipt = InboxDelivery(tmp_path).deliver(request(message_id="0123456789abcdef0123456789abcdef"),
                                              threading.Event())
    folder, name = split_written(receipt.detail)
    assert folder == f"written to {tmp_path}/" and name == md_files(tmp_path)[0].name
    assert name.endswith("-urgent-0123456789abcdef0123456789abcdef.md")
    assert split_written(f"written to {tmp_path}/notes.md") is None
    assert split_written("the pane said 20250901T142233.123456Z-urgent-x.md") is None
    assert split_written(f"written to {tmp_path}/20250901T142233.123456Z-urgent-x.md, but the fsync failed") is None
