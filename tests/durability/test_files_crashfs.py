"""The file layer (real disk) and its crash-simulating twin."""

import errno
import fcntl
import os

import pytest
from crashfs import CrashFS

from weftdb.basics.errors import DurabilityError
from weftdb.durability.files import FileSystem


def read(path):
    with open(path, "rb") as fh:
        return fh.read()


def test_write_atomic_replaces_and_leaves_no_temporary(tmp_path):
    fs = FileSystem()
    p = str(tmp_path / "f")
    fs.write_atomic(p, b"one")
    fs.write_atomic(p, b"two")
    assert read(p) == b"two"
    assert os.listdir(tmp_path) == ["f"]
    assert fs.stats["fsync"] == 2 and fs.stats["fsync_dir"] == 2


def test_append_read_truncate(tmp_path):
    fs = FileSystem()
    p = str(tmp_path / "f")
    f = fs.create(p)
    fs.write(f, b"hello ")
    fs.write(f, b"world")
    fs.fsync(f)
    fs.close(f)
    f = fs.open_append(p)
    assert f.size == 11
    fs.close(f)
    assert fs.read(p, 6, 3) == b"wor" and fs.size(p) == 11
    fs.truncate_path(p, 5)
    assert fs.read(p) == b"hello"


def test_enospc_mid_write_cuts_back_and_names_file(tmp_path, monkeypatch):
    fs = FileSystem()
    p = str(tmp_path / "seg")
    f = fs.create(p)
    fs.write(f, b"good record|")
    real = os.pwrite
    calls = []

    def partial_then_full(fd, data, offset):
        calls.append(len(data))
        if len(calls) == 1:
            return real(fd, bytes(data)[:3], offset)  # part fits
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "pwrite", partial_then_full)
    with pytest.raises(DurabilityError) as e:
        fs.write(f, b"half written record")
    monkeypatch.undo()
    assert p in str(e.value) and "No space left" in str(e.value) and "ENOSPC" in str(e.value)
    assert read(p) == b"good record|"  # no partial record left
    assert f.size == 12


def test_fsync_error_is_durability_error(tmp_path, monkeypatch):
    fs = FileSystem()
    f = fs.create(str(tmp_path / "x"))

    def eio(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", eio)
    with pytest.raises(DurabilityError, match="Input/output error"):
        fs.fsync(f)
    with pytest.raises(DurabilityError, match="directory"):
        fs.fsync_dir(str(tmp_path))


def test_crash_drops_unsynced_data_and_can_tear(tmp_path):
    fs = CrashFS(tmp_path)
    p = str(tmp_path / "f")
    f = fs.create(p)
    fs.write(f, b"synced")
    fs.fsync(f)
    fs.fsync_dir(str(tmp_path))
    fs.write(f, b"+unsynced")
    fs.crash()
    assert read(p) == b"synced"
    f = fs.open_append(p)
    fs.write(f, b"+unsynced")
    fs.crash(tear=3)
    assert read(p) == b"synced+un"


def test_crash_drops_entries_without_directory_fsync(tmp_path):
    fs = CrashFS(tmp_path)
    new = str(tmp_path / "new")
    f = fs.create(new)
    fs.write(f, b"data")
    fs.fsync(f)  # data synced, but the entry never was
    fs.close(f)
    fs.crash()
    assert not os.path.exists(new)


def test_crash_undoes_rename_and_remove_without_directory_fsync(tmp_path):
    fs = CrashFS(tmp_path)
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    fs.write_atomic(a, b"A")
    fs.write_atomic(b, b"B")
    fs.rename(a, b)
    fs.crash()
    assert read(a) == b"A" and read(b) == b"B"
    fs.remove(a)
    fs.crash()
    assert read(a) == b"A"
    fs.remove(a)
    fs.fsync_dir(str(tmp_path))
    fs.crash()
    assert not os.path.exists(a)


def test_write_atomic_survives_crash_either_old_or_new(tmp_path):
    fs = CrashFS(tmp_path)
    p = str(tmp_path / "f")
    fs.write_atomic(p, b"old")
    fs.write_atomic(p, b"new")
    fs.crash()
    assert read(p) == b"new"
    assert sorted(os.listdir(tmp_path)) == ["f"]


def test_injected_faults(tmp_path):
    fs = CrashFS(tmp_path)
    f = fs.create(str(tmp_path / "f"))
    fs.fail_fsync(after=1)
    fs.fsync(f)
    with pytest.raises(DurabilityError, match="Input/output error"):
        fs.fsync(f)
    fs.clear_faults()
    fs.fail_writes_after(4)
    fs.write(f, b"1234")
    with pytest.raises(DurabilityError, match="No space left"):
        fs.write(f, b"5678")
    assert read(str(tmp_path / "f")) == b"1234"


def test_write_atomic_failure_keeps_old_file_and_no_temporary(tmp_path):
    fs = CrashFS(tmp_path)
    p = str(tmp_path / "f")
    fs.write_atomic(p, b"old")
    fs.fail_writes_after(2)
    with pytest.raises(DurabilityError):
        fs.write_atomic(p, b"new content")
    assert read(p) == b"old" and os.listdir(tmp_path) == ["f"]


# --- direct I/O: whole-block appends ------------------------------------------------------------


@pytest.mark.parametrize("fs_class", [FileSystem, CrashFS])
@pytest.mark.parametrize("zero_fill", [0, 3 * 4096 + 100])
def test_direct_appends_read_back_as_written(tmp_path, fs_class, zero_fill):
    """Appends of every awkward size (empty, within a block, ending on a block
    boundary, spanning many blocks) read back byte for byte, followed only by
    zeros, whether or not the file was zero-filled first."""
    fs = fs_class(str(tmp_path)) if fs_class is CrashFS else fs_class()
    p = str(tmp_path / "seg")
    f = fs.create(p, zero_fill=zero_fill, direct=True)
    assert f.block is not None and f.size == 0
    sizes = [40, 1, 4055, 0, 4096, 3, 5000, 4096 * 20 + 7, 17, 4096 - 24]
    expected = b""
    for i, n in enumerate(sizes):
        data = bytes((i * 7 + j) % 251 + 1 for j in range(n))
        fs.write(f, data, durable=i % 2 == 0)
        expected += data
        on_disk = read(p)
        assert on_disk[: len(expected)] == expected
        assert not on_disk[len(expected):].strip(b"\0")
        assert f.size == len(expected)
        assert not f.block[f.size % 4096:].strip(b"\0")  # the buffer past the data stays zero
        assert len(f.block) == 4096  # longer writes go through the scratch buffer
    assert f.spare is None or len(f.spare) <= 16 * 4096  # a large write did not leave its buffer behind
    fs.truncate(f, f.size)
    fs.fsync(f)
    fs.close(f)
    assert read(p) == expected


def test_direct_io_opens_with_o_direct_and_falls_back_where_refused(tmp_path, monkeypatch):
    fs = FileSystem()
    f = fs.create(str(tmp_path / "a"), direct=True)  # ext4 under tmp_path: really O_DIRECT
    assert os.O_DIRECT & fcntl.fcntl(f.fd, fcntl.F_GETFL)
    fs.close(f)
    real_open, real_pwrite = os.open, os.pwrite

    def refused_at_open(path, flags, mode=0o777):  # as tmpfs did
        if flags & os.O_DIRECT:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        return real_open(path, flags, mode)

    def refused_at_write(fd, data, offset):  # as some FUSE file systems do
        if os.O_DIRECT & fcntl.fcntl(fd, fcntl.F_GETFL):
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        return real_pwrite(fd, data, offset)

    for name, refusal in (("open", refused_at_open), ("pwrite", refused_at_write)):
        with monkeypatch.context() as m:
            m.setattr(os, name, refusal)
            p = str(tmp_path / name)
            f = fs.create(p, zero_fill=8192, direct=True)
            assert not os.O_DIRECT & fcntl.fcntl(f.fd, fcntl.F_GETFL)
            fs.write(f, b"still whole blocks", durable=True)
            fs.close(f)
        assert read(p) == b"still whole blocks" + bytes(8192 - 18)


def test_failed_durable_write_is_cut_back_durably(tmp_path):
    """A durable write that fails part-way may have put its part on disk; the
    cut back is fsynced, so a power cut does not bring back a write the caller
    was told failed."""
    fs = CrashFS(str(tmp_path))
    p = str(tmp_path / "seg")
    f = fs.create(p, zero_fill=8192, direct=True)
    fs.fsync(f)
    fs.fsync_dir(str(tmp_path))
    fs.write(f, b"acknowledged|", durable=True)
    fs.fail_writes_after(100)
    with pytest.raises(DurabilityError, match="ENOSPC"):
        fs.write(f, b"refused" * 20, durable=True)
    assert f.size == 13
    fs.crash()
    assert read(p) == b"acknowledged|"
