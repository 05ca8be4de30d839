"""``quarterdeck.core.flush.durable`` on real files: one syncfs for the paths of one file system, an
fsync for a lone one or on a file system whose syncfs cannot be trusted, and each path told the
error of its own flush."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from quarterdeck.core import flush

needs_syncfs = pytest.mark.skipif(not flush.syncfs_available(), reason="syncfs (Linux 5.8 and later)")


@pytest.fixture
def anchors(tmp_path: Path):
    """The descriptors of ``tmp_path``'s file system, as an inbox batch holds them."""
    held: dict[int, int] = {}
    flush.anchor(held, tmp_path)
    if not [fd for fd in held.values() if fd >= 0]:
        pytest.skip("a file system whose syncfs flushes, on Linux 5.8 and later")
    yield held
    for fd in held.values():
        os.close(fd)


def written(paths: list[Path]) -> list[Path]:
    for path in paths:
        path.write_text("x", encoding="utf-8")
    return paths


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """Which descriptors went to syncfs and to fsync (the real calls still made)."""
    seen: dict[str, list[int]] = {"syncfs": [], "fsync": []}
    real_syncfs, real_fsync = flush._syncfs, os.fsync
    monkeypatch.setattr(flush, "_syncfs", lambda fd: (seen["syncfs"].append(fd), real_syncfs(fd))[1])
    monkeypatch.setattr(os, "fsync", lambda fd: (seen["fsync"].append(fd), real_fsync(fd))[1])
    return seen


def test_many_files_of_one_file_system_take_one_syncfs_through_its_anchor(
        tmp_path: Path, anchors: dict[int, int], calls: dict[str, list[int]]) -> None:
    flush.anchor(anchors, tmp_path / "..")  # one per file system
    assert len(anchors) == 1
    assert flush.durable(written([tmp_path / f"f{n}" for n in range(20)]), anchors) == [None] * 20
    assert calls["syncfs"] == list(anchors.values()) and calls["fsync"] == []


def test_without_an_anchor_each_file_is_fsynced(tmp_path: Path, calls: dict[str, list[int]]) -> None:
    assert flush.durable(written([tmp_path / "a", tmp_path / "b", tmp_path / "c"]), {}) == [None] * 3
    assert calls["syncfs"] == [] and len(calls["fsync"]) == 3


@needs_syncfs
def test_no_anchor_is_kept_on_a_file_system_whose_syncfs_may_flush_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    looked: list[int] = []
    monkeypatch.setattr(flush, "type_of", lambda device: looked.append(device) or "fuse.sshfs")
    held: dict[int, int] = {}
    flush.anchor(held, tmp_path)
    flush.anchor(held, tmp_path)
    assert held == {os.stat(tmp_path).st_dev: -1} and len(looked) == 1  # looked up once, nothing held open
    real_fsync, fsyncs = os.fsync, []
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd))[1])
    assert flush.durable(written([tmp_path / "a", tmp_path / "b"]), held) == [None, None]
    assert len(fsyncs) == 2


def test_the_type_of_a_file_system_is_read_from_mountinfo(tmp_path: Path) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        "40 22 0:45 / /mnt/my\\040docs rw master:2 - fuse.sshfs me@box: rw,user_id=0\n"
        "41 22 0:46 / /srv rw - xfs /dev/sdb rw\n", encoding="utf-8")
    assert flush.type_of(os.makedev(8, 1), str(mountinfo)) == "ext4"
    assert flush.type_of(os.makedev(0, 45), str(mountinfo)) == "fuse.sshfs"
    assert flush.type_of(os.makedev(0, 46), str(mountinfo)) == "xfs"
    assert flush.type_of(os.makedev(9, 9), str(mountinfo)) == ""  # a device no mount names: no syncfs
    assert flush.type_of(os.makedev(8, 1), str(tmp_path / "none")) == ""


def test_a_lone_file_on_its_file_system_is_fsynced_on_its_own(tmp_path: Path, anchors: dict[int, int],
                                                               calls: dict[str, list[int]]) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a second file system")
    other = shm / f"qd-flush-{os.getpid()}"
    try:
        assert flush.durable(written([tmp_path / "a", tmp_path / "b", other]), anchors) == [None, None, None]
    finally:
        other.unlink()
    assert len(calls["syncfs"]) == 1 and len(calls["fsync"]) == 1


def test_one_file_is_fsynced_not_its_whole_file_system(tmp_path: Path, anchors: dict[int, int],
                                                       calls: dict[str, list[int]]) -> None:
    assert flush.durable(written([tmp_path / "one"]), anchors) == [None]
    assert calls["syncfs"] == [] and len(calls["fsync"]) == 1


def test_a_failed_syncfs_is_the_error_of_every_file_it_was_for(tmp_path: Path, anchors: dict[int, int],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(flush, "_syncfs", broken)
    errors = flush.durable(written([tmp_path / "a", tmp_path / "b"]), anchors)
    assert [e.errno if e else None for e in errors] == [errno.EIO, errno.EIO]


def test_a_missing_path_is_its_own_error_and_nothing_stays_open(tmp_path: Path) -> None:
    paths = [*written([tmp_path / "a"]), tmp_path / "missing", tmp_path]
    open_before = len(os.listdir("/proc/self/fd"))
    errors = flush.durable(paths, {})
    assert errors[0] is None and errors[2] is None
    assert errors[1] is not None and errors[1].errno == errno.ENOENT
    assert len(os.listdir("/proc/self/fd")) == open_before


@needs_syncfs
def test_syncfs_reports_a_bad_descriptor(tmp_path: Path) -> None:
    fd = os.open(tmp_path, os.O_RDONLY)
    os.close(fd)
    with pytest.raises(OSError) as raised:
        flush._syncfs(fd)
    assert raised.value.errno == errno.EBADF
