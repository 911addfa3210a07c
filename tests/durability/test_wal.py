"""WAL framing, writer, reader: torn tails, bit flips, power cuts, EIO, ENOSPC, group commit."""

import errno
import os
import struct
import threading
import time
import uuid
import zlib

import pytest
from crashfs import CrashFS
from hypothesis import given, settings
from hypothesis import strategies as st

from weftdb.basics.errors import DurabilityError, RecoveryError
from weftdb.durability import wal
from weftdb.durability.files import FileSystem
from weftdb.durability.wal_reader import DAMAGE, PADDING, TORN, SegmentScan, WalReader, truncate_tail
from weftdb.durability.wal_writer import WalWriter

UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def body(i: int, size: int = 0) -> bytes:
    return wal.encode_record(i, 1_700_000_000_000_000 + i, [("set", i, "x" * size)])


def write_wal(fs, d, n, segment_size=1 << 20, sizes=None):
    w = WalWriter(fs, d, UUID, segment_size_bytes=segment_size)
    bodies = []
    for i in range(n):
        b = body(i, sizes[i] if sizes else 5)
        bodies.append(b)
        w.wait_durable(w.append(b))
    w.close()
    return bodies


def read_all(fs, d, db_uuid=UUID):
    r = WalReader(fs, d, db_uuid)
    return [rec.body for rec in r.records()], r.torn_tail


# --- format ---------------------------------------------------------------


@given(st.binary(min_size=1, max_size=3000), st.integers(0, 2**32 - 1))
@settings(max_examples=200, deadline=None)
def test_frame_round_trip(b, seed):
    framed = wal.frame(b, seed)
    assert wal.unframe(framed, 0, seed) == (b, "")
    assert wal.unframe(b"xx" + framed, 2, seed) == (b, "")
    assert wal.unframe(framed, 0, seed ^ 1)[0] is None  # another segment's record does not pass


def test_frame_rejects_empty_and_checks_length_field():
    with pytest.raises(ValueError):
        wal.frame(b"", 0)
    framed = bytearray(wal.frame(b"abc", 7))
    framed[0] ^= 1  # length 3 -> 2: still inside the data, but the CRC covers the length
    assert wal.unframe(bytes(framed), 0, 7)[0] is None


def test_record_body_round_trip():
    ops = [("create_vertex", 1, ["Person"], {"name": "Ada", "n": 1.5}), ("delete_edge", 7)]
    assert wal.decode_record(wal.encode_record(5, 123, ops)) == (5, 123, [list(op) for op in ops])


def test_header_round_trip_and_refusals():
    h = wal.pack_header(UUID, 42)
    assert len(h) == wal.HEADER_SIZE
    version, u, seq, crc = wal.unpack_header(h)
    assert (version, u, seq, crc) == (wal.VERSION, UUID.bytes, 42, zlib.crc32(h[:-4]))
    for bad in (h[:-1], b"X" + h[1:], h[:-1] + bytes([h[-1] ^ 1])):
        with pytest.raises(wal.HeaderError):
            wal.unpack_header(bad)


# --- writer and reader ----------------------------------------------------


def test_rotation_and_restart_start_new_segments(tmp_path):
    fs, d = FileSystem(), str(tmp_path / "wal")
    bodies = write_wal(fs, d, 30, segment_size=300)
    names = sorted(os.listdir(d))
    assert len(names) > 3 and all(fs.size(os.path.join(d, n)) <= 300 for n in names)
    bodies += write_wal(fs, d, 3)  # a restarted writer never appends to an old segment
    assert sorted(os.listdir(d))[:-1] == names
    got, torn = read_all(fs, d)
    assert got == bodies and torn is None


def test_one_batch_that_starts_several_segments(tmp_path):
    fs, d = FileSystem(), str(tmp_path / "wal")
    w = WalWriter(fs, d, UUID, segment_size_bytes=300)
    bodies = [body(i) for i in range(30)]
    for b in bodies:
        w.append(b)
    w.sync()  # one leader writes all 30 records, starting a segment every few
    w.close()
    names = sorted(os.listdir(d))
    assert len(names) > 3 and all(fs.size(os.path.join(d, n)) <= 300 for n in names)
    got, torn = read_all(fs, d)
    assert got == bodies and torn is None


def test_oversized_record_gets_its_own_segment(tmp_path):
    fs, d = FileSystem(), str(tmp_path / "wal")
    bodies = write_wal(fs, d, 3, segment_size=100, sizes=[5, 500, 5])
    assert len(os.listdir(d)) == 3
    assert read_all(fs, d)[0] == bodies


def test_reader_adopts_uuid_and_refuses_other_database(tmp_path):
    fs, d = FileSystem(), str(tmp_path / "wal")
    write_wal(fs, d, 2)
    r = WalReader(fs, d)
    assert len(list(r.records())) == 2 and r.db_uuid == UUID.bytes
    with pytest.raises(RecoveryError, match="belongs to database 12345678.*Choices"):
        read_all(fs, d, uuid.uuid4())


def test_gap_in_sequence_is_an_error(tmp_path):
    fs, d = FileSystem(), str(tmp_path / "wal")
    write_wal(fs, d, 20, segment_size=200)
    os.remove(os.path.join(d, wal.segment_name(2)))
    with pytest.raises(RecoveryError, match=r"gap.*segments 2\.\.2 are missing"):
        read_all(fs, d)


def test_unknown_version_and_renamed_segment_are_errors(tmp_path):
    fs, d = FileSystem(), str(tmp_path / "wal")
    write_wal(fs, d, 1)
    p = os.path.join(d, wal.segment_name(1))
    data = bytearray(open(p, "rb").read())
    struct.pack_into("<H", data, 8, 9)
    struct.pack_into("<I", data, 36, zlib.crc32(bytes(data[:36])))
    open(p, "wb").write(bytes(data))
    with pytest.raises(RecoveryError, match="format version 9; this WeftDB reads versions 1, 2"):
        read_all(fs, d)
    os.remove(p)
    write_wal(fs, d, 1, segment_size=1000)  # writes segment 1 again (directory empty)
    os.rename(os.path.join(d, wal.segment_name(1)), os.path.join(d, wal.segment_name(7)))
    with pytest.raises(RecoveryError, match="says it is segment 1"):
        read_all(fs, d)


def test_torn_tail_at_every_byte_of_the_last_record(tmp_path):
    fs, d = FileSystem(), str(tmp_path / "wal")
    bodies = write_wal(fs, d, 4, sizes=[5, 5, 5, 40])
    p = os.path.join(d, wal.segment_name(1))
    full = open(p, "rb").read()
    last = len(full) - wal.FRAME_HEADER_SIZE - len(bodies[-1])
    for cut in range(last, len(full)):
        open(p, "wb").write(full[:cut])
        got, torn = read_all(fs, d)
        assert got == bodies[:3], cut
        if cut == last:
            assert torn is None
        else:
            assert (torn.path, torn.offset, torn.dropped_bytes) == (p, last, cut - last)
            truncate_tail(fs, torn)
            assert read_all(fs, d) == (bodies[:3], None)
    open(p, "wb").write(full)
    assert read_all(fs, d) == (bodies, None)


def test_zero_padding_ends_a_segment_but_valid_record_after_damage_is_an_error(tmp_path):
    fs, d = FileSystem(), str(tmp_path / "wal")
    bodies = write_wal(fs, d, 3)
    p = os.path.join(d, wal.segment_name(1))
    full = open(p, "rb").read()
    open(p, "wb").write(full + bytes(4096))  # as a killed writer leaves its zero-filled segment
    r = WalReader(fs, d, UUID)
    assert [rec.body for rec in r.records()] == bodies
    assert r.torn_tail is None and (r.tail.torn, r.tail.offset, r.tail.dropped_bytes) == (False, len(full), 4096)
    second = wal.HEADER_SIZE + wal.FRAME_HEADER_SIZE + len(bodies[0])
    damaged = bytearray(full)
    damaged[second + 10] ^= 0x40
    open(p, "wb").write(bytes(damaged))
    with pytest.raises(RecoveryError, match=f"damaged at byte {second}.*valid record follows"):
        read_all(fs, d)


def test_a_scan_tells_padding_a_torn_tail_and_damage_apart(tmp_path):
    """The one scan every reader of segments uses: what follows the records, and where."""
    fs, d = FileSystem(), str(tmp_path / "wal")
    bodies = write_wal(fs, d, 3)
    p = os.path.join(d, wal.segment_name(1))
    full = open(p, "rb").read()
    (segment,) = WalReader(fs, d).segments()
    second = wal.HEADER_SIZE + wal.FRAME_HEADER_SIZE + len(bodies[0])
    last = len(full) - wal.FRAME_HEADER_SIZE - len(bodies[-1])

    def scan(data, start=wal.HEADER_SIZE):
        s = SegmentScan(segment, data, start)
        return [(r.offset, r.body) for r in s], s.end

    records, end = scan(full)
    assert [b for _, b in records] == bodies and records[1][0] == second and end is None
    records, end = scan(full + bytes(100))
    assert len(records) == 3 and (end.kind, end.offset, end.size) == (PADDING, len(full), 100)
    records, end = scan(full[:-3])
    assert len(records) == 2 and (end.kind, end.offset, end.size) == (TORN, last, len(full) - 3 - last)
    damaged = bytearray(full)
    damaged[second + 10] ^= 0x40
    records, end = scan(bytes(damaged))
    assert len(records) == 1 and (end.kind, end.offset, end.follower) == (DAMAGE, second, last)
    assert end.why == "record checksum mismatch" and "valid record follows at byte" in end.reason
    records, end = scan(bytes(damaged), end.follower)  # a scan can start at the record after damage
    assert [b for _, b in records] == bodies[2:] and end is None
    records, end = scan(full[:second] + b"\x00\x00\x08\x00" * (1 << 18))  # more to search than the budget
    assert (end.kind, end.offset, end.follower) == (DAMAGE, second, None) and "too much data" in end.reason


def test_a_reader_of_given_files_checks_them_as_a_directory(tmp_path):
    fs, d = FileSystem(), str(tmp_path / "wal")
    bodies = write_wal(fs, d, 20, segment_size=200)
    paths = [os.path.join(d, n) for n in sorted(os.listdir(d))]
    assert len(paths) > 3
    elsewhere = str(tmp_path / "elsewhere")
    os.mkdir(elsewhere)
    for path in paths[1:3]:
        os.rename(path, os.path.join(elsewhere, os.path.basename(path)))
    given = [os.path.join(elsewhere, os.path.basename(path)) for path in reversed(paths[1:3])]
    r = WalReader.of_files(fs, given, UUID)
    assert [s.sequence for s in r.segments()] == [2, 3]
    got = [rec.body for rec in r.records()]
    assert got and set(got) <= set(bodies) and r.tail is None
    with pytest.raises(RecoveryError, match="belongs to database"):
        list(WalReader.of_files(fs, given, uuid.uuid4()).records())
    with pytest.raises(RecoveryError, match=r"gap.*segments 2\.\.3 are missing"):
        WalReader.of_files(fs, [paths[0], paths[3]]).segments()
    other = os.path.join(elsewhere, "copy.wal")
    os.rename(given[0], other)
    with pytest.raises(RecoveryError, match="not named as a WAL segment"):
        WalReader.of_files(fs, [other]).segments()


def test_killed_writer_leaves_padding_and_the_next_writer_continues(tmp_path):
    fs, d = FileSystem(), str(tmp_path / "wal")
    w = WalWriter(fs, d, UUID, segment_size_bytes=4096)
    first = [body(i) for i in range(3)]
    for b in first:
        w.wait_durable(w.append(b))
    seg1 = os.path.join(d, wal.segment_name(1))
    assert fs.size(seg1) == 4096  # zero-filled up front
    w._fs.close(w._file)  # the process dies: no close(), the padding stays
    r = WalReader(fs, d, UUID)
    assert [rec.body for rec in r.records()] == first and r.tail.torn is False and r.torn_tail is None
    w = WalWriter(fs, d, UUID, segment_size_bytes=4096)
    w.wait_durable(w.append(body(3)))
    w.close()
    assert fs.size(os.path.join(d, wal.segment_name(2))) < 4096  # sealed by close()
    assert read_all(fs, d) == (first + [body(3)], None)  # padding inside an older segment is its end
    data = bytearray(open(seg1, "rb").read())
    data[3000] = 7  # but garbage in it is damage: only the newest segment may be torn
    open(seg1, "wb").write(bytes(data))
    with pytest.raises(RecoveryError, match="not the newest segment"):
        read_all(fs, d)


def test_bit_flips_anywhere_never_load_wrong_data(tmp_path):
    fs, d = FileSystem(), str(tmp_path / "wal")
    bodies = write_wal(fs, d, 8, segment_size=120)
    paths = [os.path.join(d, n) for n in sorted(os.listdir(d))]
    originals = {p: open(p, "rb").read() for p in paths}
    outcomes = {"error": 0, "torn": 0}
    for p in paths:
        data = originals[p]
        for i in range(len(data)):
            for bit in (0x01, 0x80):
                flipped = bytearray(data)
                flipped[i] ^= bit
                open(p, "wb").write(bytes(flipped))
                try:
                    got, torn = read_all(fs, d)
                except RecoveryError as e:
                    assert p in str(e) and "byte" in str(e)
                    outcomes["error"] += 1
                    continue
                # Not refused: only a torn tail of the newest segment may explain a missing record.
                assert torn is not None and torn.path == paths[-1] == p
                assert got == bodies[: len(got)] and len(got) < len(bodies)
                outcomes["torn"] += 1
        open(p, "wb").write(data)
    assert outcomes["error"] > 0 and outcomes["torn"] > 0


# --- power cuts -----------------------------------------------------------


class PowerCut(BaseException):
    pass


class CuttingFS(CrashFS):
    """Counts sync points (file and directory fsyncs); cuts the power at number `at`."""

    def __init__(self, root, at=None, after=False):
        super().__init__(root)
        self.at, self.after, self.count = at, after, 0

    def _point(self):
        self.count += 1
        if self.count == self.at:
            raise PowerCut()

    def _fsync(self, fd):
        if not self.after:
            self._point()
        super()._fsync(fd)
        if self.after:
            self._point()

    def fsync_dir(self, path):
        if not self.after:
            self._point()
        super().fsync_dir(path)
        if self.after:
            self._point()


def scripted_workload(fs, d, acked, appended):
    try:
        w = WalWriter(fs, d, UUID, segment_size_bytes=160)
        for i in range(12):
            b = body(i, 3 * (i % 4))
            appended.append(b)
            pos = w.append(b)
            if i % 3 != 1:  # some commits wait together with the next one
                w.wait_durable(pos)
                acked[:] = appended
        w.close()
    except (DurabilityError, PowerCut):  # the writer turns a cut inside its I/O into DurabilityError
        pass


def test_crash_at_every_fsync_boundary_loses_nothing_acknowledged(tmp_path):
    probe = CuttingFS(tmp_path / "probe")
    scripted_workload(probe, str(tmp_path / "probe" / "wal"), [], [])
    total = probe.count
    assert total > 15
    runs = 0
    for after in (False, True):
        for at in range(1, total + 1):
            for tear in (None, 5, 1000):
                root = tmp_path / f"r{int(after)}-{at}-{tear}"
                fs = CuttingFS(root, at, after)
                d = str(root / "wal")
                acked, appended = [], []
                scripted_workload(fs, d, acked, appended)
                fs.crash(tear=tear)
                r = WalReader(fs, d, UUID)
                got = [rec.body for rec in r.records()]
                assert got[: len(acked)] == acked, (after, at, tear)
                assert got == appended[: len(got)]  # nothing invented, nothing reordered
                if r.torn_tail:
                    truncate_tail(fs, r.torn_tail)
                # The restarted writer continues after whatever survived.
                w = WalWriter(fs, d, UUID, segment_size_bytes=160)
                w.wait_durable(w.append(body(99)))
                w.close()
                assert [rec.body for rec in WalReader(fs, d, UUID).records()] == got + [body(99)]
                runs += 1
    assert runs == 6 * total


# --- disk errors ----------------------------------------------------------


def test_fsync_eio_is_fatal_for_the_writer(tmp_path):
    fs, d = CrashFS(tmp_path), str(tmp_path / "wal")
    w = WalWriter(fs, d, UUID)
    w.wait_durable(w.append(body(0)))
    fs.fail_fsync(errno.EIO)
    pos = w.append(body(1))
    with pytest.raises(DurabilityError) as e:
        w.wait_durable(pos)
    msg = str(e.value)
    assert msg.startswith(f"the write-ahead log failed at {os.path.join(d, wal.segment_name(1))}: Input/output error")
    assert "refuses writes; restart after fixing the disk" in msg
    fs.clear_faults()  # even if the disk recovers, nothing is retried
    with pytest.raises(DurabilityError, match="write-ahead log failed"):
        w.append(body(2))
    with pytest.raises(DurabilityError, match="write-ahead log failed"):
        w.wait_durable(pos)
    w.close()


def test_enospc_leaves_no_partial_record_and_restart_resumes(tmp_path):
    fs, d = CrashFS(tmp_path), str(tmp_path / "wal")
    w = WalWriter(fs, d, UUID)
    good = [body(i) for i in range(3)]
    for b in good:
        w.wait_durable(w.append(b))
    seg = os.path.join(d, wal.segment_name(1))
    good_end = wal.HEADER_SIZE + sum(wal.FRAME_HEADER_SIZE + len(b) for b in good)
    fs.fail_writes_after(7)  # part of the next batch fits, then the disk is full (e.g. copy-on-write fs)
    positions = [w.append(body(i, 50)) for i in range(3, 6)]
    with pytest.raises(DurabilityError, match="No space left on device"):
        w.wait_durable(positions[-1])
    assert fs.size(seg) == good_end  # cut back to the last good record
    assert read_all(fs, d) == (good, None)
    with pytest.raises(DurabilityError):
        w.append(body(9))
    w.close()
    fs.clear_faults()  # the operator frees space and restarts
    w = WalWriter(fs, d, UUID)
    w.wait_durable(w.append(body(10)))
    w.close()
    assert read_all(fs, d) == (good + [body(10)], None)


# --- group commit ---------------------------------------------------------


class SyncHookFS(FileSystem):
    """Calls `on_sync()` before every sync of file data: an fsync, an
    fdatasync, or a durable write (the WAL's batch with a sync per commit)."""

    def on_sync(self):
        pass

    def _pwrite(self, fd, data, offset, durable=False):
        if durable:
            self.on_sync()
        return super()._pwrite(fd, data, offset, durable)

    def _fsync(self, fd):
        self.on_sync()
        super()._fsync(fd)

    def _fdatasync(self, fd):
        self.on_sync()
        super()._fdatasync(fd)


class SlowFsyncFS(SyncHookFS):
    """A disk whose syncs take 2 ms, like a real one under load."""

    def on_sync(self):
        time.sleep(0.002)


def test_group_commit_16_threads_share_fsyncs(tmp_path):
    fs, d = SlowFsyncFS(), str(tmp_path / "wal")
    w = WalWriter(fs, d, UUID)
    commit_lock = threading.Lock()
    per_thread, threads = 40, 16
    expected = set()

    def client(t):
        for i in range(per_thread):
            b = body(t * 1000 + i)
            with commit_lock:
                pos = w.append(b)
            w.wait_durable(pos)
            assert w.durable_position >= pos

    for t in range(threads):
        for i in range(per_thread):
            expected.add(body(t * 1000 + i))
    fsyncs_before = fs.stats["fsync"]
    ts = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    w.close()
    commits = threads * per_thread
    fsyncs = fs.stats["fsync"] - fsyncs_before
    assert fsyncs < commits / 4, (fsyncs, commits)
    got, torn = read_all(fs, d)
    assert set(got) == expected and len(got) == commits and torn is None


class HeldFsyncFS(SyncHookFS):
    """A disk whose syncs wait for the test's gate once it is armed, then
    fail with EIO if `fail` (followers are waiting on the leader when the WAL dies)."""

    def __init__(self, fail=False):
        super().__init__()
        self.entered, self.gate, self.armed, self.fail = threading.Event(), threading.Event(), False, fail

    def on_sync(self):
        if self.armed:
            self.entered.set()
            self.gate.wait()
            if self.fail:
                raise OSError(errno.EIO, "Input/output error")


def test_followers_waiting_on_a_failing_batch_all_raise(tmp_path):
    fs, d = HeldFsyncFS(fail=True), str(tmp_path / "wal")
    w = WalWriter(fs, d, UUID)
    w.wait_durable(w.append(body(0)))
    fs.armed = True
    outcomes = {}

    def client(t, pos):
        try:
            w.wait_durable(pos)
            outcomes[t] = "durable"
        except DurabilityError:
            outcomes[t] = "refused"

    leader = threading.Thread(target=client, args=(0, w.append(body(1))))
    leader.start()
    assert fs.entered.wait(10)  # the leader is inside its fsync
    followers = [threading.Thread(target=client, args=(t, w.append(body(t + 1)))) for t in range(1, 6)]
    for t in followers:
        t.start()
    deadline = time.monotonic() + 10
    while len(w._waiters) < 5 and time.monotonic() < deadline:
        time.sleep(0.001)
    fs.gate.set()
    for t in [leader, *followers]:
        t.join(10)
        assert not t.is_alive()  # nobody is left asleep
    assert outcomes == {t: "refused" for t in range(6)}
    assert w.durable_position == 1
    w.close()


def test_records_appended_during_a_batch_get_the_next_leader(tmp_path):
    """Records queued while a leader fsyncs are written by one of their own
    waiters, handed the lead, without any later commit to push them out."""
    fs, d = SlowFsyncFS(), str(tmp_path / "wal")
    w = WalWriter(fs, d, UUID)
    w.wait_durable(w.append(body(0)))
    before = fs.stats["fsync"]
    first = w.append(body(1))
    leader = threading.Thread(target=w.wait_durable, args=(first,))
    leader.start()
    time.sleep(0.0005)  # the leader has taken its batch of one and sleeps in fsync
    later = [w.append(body(i)) for i in range(2, 8)]
    followers = [threading.Thread(target=w.wait_durable, args=(pos,)) for pos in later]
    for t in followers:
        t.start()
    for t in [leader, *followers]:
        t.join(10)
        assert not t.is_alive()
    assert w.durable_position == later[-1]
    assert fs.stats["fsync"] - before <= 3  # the first batch, then one (or two) for the six
    w.close()


class Interrupted(Exception):
    pass


def test_a_follower_interrupted_in_its_sleep_leaves_the_wal_working(tmp_path):
    """Ctrl-C (here a timer signal) in a thread asleep on the leader's batch:
    that thread gets the exception, and later commits are not left without a
    leader; the interrupted record goes out with the next batch."""
    import signal

    fs, d = HeldFsyncFS(), str(tmp_path / "wal")
    w = WalWriter(fs, d, UUID)
    w.wait_durable(w.append(body(0)))
    fs.armed = True
    leader = threading.Thread(target=w.wait_durable, args=(w.append(body(1)),))
    leader.start()
    assert fs.entered.wait(10)
    interrupted = w.append(body(2))

    def on_alarm(signum, frame):
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(Interrupted):
            w.wait_durable(interrupted)  # the main thread sleeps as a follower
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert w._waiters == []
    fs.armed = False
    fs.gate.set()
    leader.join(10)
    later = threading.Thread(target=w.wait_durable, args=(w.append(body(3)),))
    later.start()
    later.join(10)
    assert not later.is_alive() and w.durable_position == 4
    w.close()
    assert read_all(FileSystem(), d) == ([body(i) for i in range(4)], None)


def test_a_lead_handed_to_an_interrupted_follower_passes_on(tmp_path):
    from weftdb.durability.wal_writer import _Waiter

    w = WalWriter(FileSystem(), str(tmp_path / "wal"), UUID)
    gone, heir = _Waiter(1, False), _Waiter(2, False)
    w._leader, gone.lead, w._waiters = True, True, [heir]  # the lead was handed to `gone`, which was interrupted
    w._leave(gone)
    assert heir.lead and heir.wake.acquire(blocking=False) and w._leader
    w._waiters = []
    w._leave(heir)  # the heir is interrupted too, with nobody left: the lead is dropped
    assert not w._leader
    w.close()


def test_flush_every_n_tx_fsyncs_every_nth(tmp_path):
    fs, d = FileSystem(), str(tmp_path / "wal")
    w = WalWriter(fs, d, UUID, flush_every_n_tx=4)
    w.wait_durable(w.append(body(0)))  # creates the segment (its own fsyncs)
    before = fs.stats["fsync"]
    for i in range(1, 21):
        pos = w.append(body(i))
        w.wait_durable(pos)
        assert (w.durable_position >= pos) == (pos % 4 == 0)
    assert fs.stats["fsync"] - before == 5
    assert len(read_all(fs, d)[0]) == 21  # written (a killed process loses nothing), not all fsynced
    # Through the page cache: a direct write would wait for the disk at every commit.
    assert w._file.block is None
    w.close()


def test_a_lone_committer_makes_each_commit_one_durable_write(tmp_path):
    """One client: each commit is written by its own thread at once, one
    durable write and nothing else, and a commit appended while another's
    write is in flight still goes out (the lead passes to its waiter)."""
    fs, d = HeldFsyncFS(), str(tmp_path / "wal")
    w = WalWriter(fs, d, UUID)
    w.wait_durable(w.append(body(0)))  # creates the segment (its own fsyncs)
    before = dict(fs.stats)
    for i in range(1, 11):
        w.wait_durable(w.append(body(i)))
        assert w.durable_position == i + 1
    assert (fs.stats["write"] - before["write"], fs.stats["fsync"] - before["fsync"]) == (10, 10)
    fs.armed = True
    lone = threading.Thread(target=w.wait_durable, args=(w.append(body(11)),))
    lone.start()
    assert fs.entered.wait(10)  # the lone committer is inside its write
    fs.armed = False
    second = threading.Thread(target=w.wait_durable, args=(w.append(body(12)),))
    second.start()
    deadline = time.monotonic() + 10
    while not w._waiters and time.monotonic() < deadline:
        time.sleep(0.001)
    assert len(w._waiters) == 1  # it waits on the write in flight
    fs.gate.set()
    for t in (lone, second):
        t.join(10)
        assert not t.is_alive()
    assert w.durable_position == 13 and not w._leader
    w.close()
    assert read_all(fs, d) == ([body(i) for i in range(13)], None)


def test_a_sync_per_commit_writes_the_segment_with_direct_io(tmp_path):
    fs, d = FileSystem(), str(tmp_path / "wal")
    w = WalWriter(fs, d, UUID)
    w.wait_durable(w.append(body(0)))
    assert w._file.block is not None  # the aligned buffer of a direct-I/O file
    w.close()


def test_enospc_while_creating_a_segment_leaves_no_file(tmp_path):
    fs, d = CrashFS(tmp_path), str(tmp_path / "wal")
    fs.fail_writes_after(10)  # not even the 40-byte header fits
    w = WalWriter(fs, d, UUID)
    pos = w.append(body(0))
    with pytest.raises(DurabilityError, match=r"failed at .*0000000000000001\.wal\.tmp: No space left"):
        w.wait_durable(pos)
    assert os.listdir(d) == []
    w.close()


def test_flush_every_n_tx_power_cut_keeps_every_nth_boundary(tmp_path):
    fs, d = CrashFS(tmp_path), str(tmp_path / "wal")
    w = WalWriter(fs, d, UUID, flush_every_n_tx=4)
    bodies = [body(i) for i in range(10)]
    for b in bodies:
        w.wait_durable(w.append(b))
    fs.crash()  # records 9 and 10 were written, acknowledged under N=4, never fsynced
    assert read_all(fs, d) == (bodies[:8], None)


def test_append_after_close_is_refused(tmp_path):
    w = WalWriter(FileSystem(), str(tmp_path / "wal"), UUID)
    w.wait_durable(w.append(body(0)))
    w.close()
    with pytest.raises(DurabilityError, match="closed"):
        w.append(body(1))
    w.close()  # twice is fine
