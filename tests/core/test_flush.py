"""``quarterdeck.core.flush.durable`` on real files: one syncfs for the descriptors of one file system,
an fsync for a lone one, and each descriptor told the error of its own flush."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from quarterdeck.core import flush

needs_syncfs = pytest.mark.skipif(not flush.syncfs_available(), reason="syncfs is Linux's")


def opened(paths: list[Path]) -> list[int]:
    fds = []
    for path in paths:
        path.write_text("x", encoding="utf-8")
        fds.append(os.open(path, os.O_RDONLY))
    return fds


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    """Which descriptors went to syncfs and to fsync (the real calls still made)."""
    seen: dict[str, list[int]] = {"syncfs": [], "fsync": []}
    real_syncfs, real_fsync = flush._syncfs, os.fsync
    monkeypatch.setattr(flush, "_syncfs", lambda fd: (seen["syncfs"].append(fd), real_syncfs(fd))[1])
    monkeypatch.setattr(os, "fsync", lambda fd: (seen["fsync"].append(fd), real_fsync(fd))[1])
    return seen


@needs_syncfs
def test_many_files_of_one_file_system_take_one_syncfs(tmp_path: Path, calls: dict[str, list[int]]) -> None:
    fds = opened([tmp_path / f"f{n}" for n in range(20)])
    try:
        assert flush.durable(fds) == [None] * 20
    finally:
        for fd in fds:
            os.close(fd)
    assert len(calls["syncfs"]) == 1 and calls["fsync"] == []


@needs_syncfs
def test_a_lone_file_on_its_file_system_is_fsynced_on_its_own(tmp_path: Path, calls: dict[str, list[int]]) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a second file system")
    other = shm / f"qd-flush-{os.getpid()}"
    fds = opened([tmp_path / "a", tmp_path / "b", other])
    try:
        assert flush.durable(fds) == [None, None, None]
    finally:
        for fd in fds:
            os.close(fd)
        other.unlink()
    assert len(calls["syncfs"]) == 1 and calls["syncfs"][0] in fds[:2]
    assert calls["fsync"] == [fds[2]]


def test_one_file_is_fsynced_not_its_whole_file_system(tmp_path: Path, calls: dict[str, list[int]]) -> None:
    fds = opened([tmp_path / "one"])
    try:
        assert flush.durable(fds) == [None]
    finally:
        os.close(fds[0])
    assert calls["syncfs"] == [] and calls["fsync"] == fds


@needs_syncfs
def test_a_failed_syncfs_is_the_error_of_every_file_it_was_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(flush, "_syncfs", broken)
    fds = opened([tmp_path / "a", tmp_path / "b"])
    try:
        errors = flush.durable(fds)
    finally:
        for fd in fds:
            os.close(fd)
    assert [e.errno if e else None for e in errors] == [errno.EIO, errno.EIO]


def test_a_closed_descriptor_is_its_own_error_only(tmp_path: Path) -> None:
    fds = opened([tmp_path / "a", tmp_path / "b", tmp_path / "c"])
    os.close(fds[1])
    try:
        errors = flush.durable(fds)
    finally:
        os.close(fds[0])
        os.close(fds[2])
    assert errors[0] is None and errors[2] is None
    assert errors[1] is not None and errors[1].errno == errno.EBADF


@needs_syncfs
def test_syncfs_reports_a_bad_descriptor(tmp_path: Path) -> None:
    fd = os.open(tmp_path, os.O_RDONLY)
    os.close(fd)
    with pytest.raises(OSError) as raised:
        flush._syncfs(fd)
    assert raised.value.errno == errno.EBADF


@needs_syncfs
def test_a_file_system_that_refuses_syncfs_gets_an_fsync_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  calls: dict[str, list[int]]) -> None:
    def refused(fd: int) -> None:
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

    monkeypatch.setattr(flush, "_syncfs", refused)
    fds = opened([tmp_path / "a", tmp_path / "b"])
    try:
        assert flush.durable(fds) == [None, None]
    finally:
        for fd in fds:
            os.close(fd)
    assert calls["fsync"] == fds


def test_paths_are_opened_flushed_and_closed_and_one_missing_is_its_own_error(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x", encoding="utf-8")
    fds = opened([tmp_path / "b"])
    open_before = len(os.listdir("/proc/self/fd"))
    try:
        errors = flush.durable(fds, [tmp_path / "a", tmp_path / "missing", tmp_path])
    finally:
        os.close(fds[0])
    assert errors[0] is None and errors[1] is None and errors[3] is None
    assert errors[2] is not None and errors[2].errno == errno.ENOENT
    assert len(os.listdir("/proc/self/fd")) == open_before - 1
