"""Appending committed transactions to the WAL, with group commit.

Why this shape: DESIGN.md invariant 1 — a commit returns only after its record
is on stable storage, and concurrent commits share one fsync. The engine calls

    pos = wal.append(body)      # under its commit lock: file order = commit order
    wal.wait_durable(pos)       # outside the lock; returns once the record is fsynced

`append` only frames the record and queues it in memory (it never does I/O, so
the commit lock is held for microseconds). `wait_durable` is a leader/follower
scheme: the first waiter that finds no write in progress becomes the leader,
takes everything queued so far, writes it with one write() and one fsync, and
wakes the followers whose record was in that batch; the lead passes to the
oldest follower still waiting. So N concurrent commits cost about one fsync,
not N, and each follower is woken once. A lone committer (nobody writing, no
recent crowd) leads a batch of its own record by a short path under the same
rules (a hot path: docs/hot-paths.md).

With flush_every_n_tx = N > 1 (the explicit trade of safety for speed), records
are still written to the file (they survive a killed process) but fsynced only
when a batch reaches a multiple of N; `wait_durable` of other positions returns
after the write.

Invariants:
* records reach the file in `append` order; a segment's records are fsynced
  before the next segment is created, so only the newest segment can have a
  torn tail (which is what the reader assumes);
* a new segment appears under its final name only with a complete, fsynced
  header (`FileSystem.replacing`: written as `<name>.tmp`, fsynced, renamed,
  directory fsynced);
* a segment never grows past `segment_size_bytes` unless it holds one record
  larger than that;
* with `preallocate` (the default) a segment is created zero-filled to
  `segment_size_bytes` and records overwrite the zeros, so making a batch
  durable needs no metadata update — the trick that makes SQLite's and
  PostgreSQL's WAL commits cheap. With a sync per commit such a segment is
  written with direct I/O, each batch one durable write (RWF_DSYNC) with no
  fsync after (files.py); with flush_every_n_tx > 1 it is written through the
  page cache, as a direct write waits for the disk every time. A segment is
  cut to its last record ("sealed") before the next one is created and on
  `close`; a killed process leaves the padding, which the reader takes as the
  end of data;
* the writer never appends to a segment an earlier process wrote: it starts a
  new sequence number after the highest one in the directory;
* after any write or fsync failure the writer is dead: every later `append` or
  `wait_durable` raises the same DurabilityError (DESIGN.md invariant 3), and
  nothing is retried.
"""

from __future__ import annotations

import threading
import time

from weftdb.basics.errors import DurabilityError
from weftdb.durability import wal
from weftdb.durability.files import FileSystem


class WalWriter:
    def __init__(
        self,
        fs: FileSystem,
        directory: str,
        db_uuid,
        segment_size_bytes: int = 20480 * 1024,
        flush_every_n_tx: int = 1,
        next_sequence: int | None = None,
        preallocate: bool = True,
    ):
        if flush_every_n_tx < 1:
            raise ValueError("flush_every_n_tx must be at least 1")
        self._fs = fs
        self._dir = directory
        self._uuid = wal.uuid_bytes(db_uuid)
        self._segment_size = segment_size_bytes
        self._n = flush_every_n_tx
        self._preallocate = preallocate
        fs.makedirs(directory)
        if next_sequence is None:
            seqs = [wal.sequence_of_name(n) for n in fs.listdir(directory)]
            next_sequence = 1 + max((s for s in seqs if s is not None), default=0)
        self._next_seq = next_sequence

        # A commit takes this lock three times (append, then take and finish its
        # batch), on the hot path by acquire()/release() in try/finally, not by
        # `with` (docs/hot-paths.md).
        self._lock = threading.Lock()
        self._more = threading.Condition(self._lock)  # a gathering leader waits here for appends
        # Guarded by _lock:
        self._pending: list[bytes] = []  # framed records
        self._starts: list[tuple[int, int, bytes]] = []  # (index in _pending, sequence, header) of new segments
        self._seed = 0  # header CRC of the segment records are now assigned to
        self._seg_left = -1  # bytes the segment records are assigned to can still take; -1: none yet
        self._appended = 0  # positions are 1, 2, 3, ... in append order
        self._written = 0
        self._durable = 0
        self._leader = False  # a thread is writing a batch, or was handed the lead
        self._waiters: list[_Waiter] = []  # followers, in the order they came
        self._gathering = False
        self._peak = 1  # recent most clients waiting at once: the expected batch
        self._sync_time = 0.0  # duration of the last write+fsync
        self._failed: DurabilityError | None = None
        self._closed = False
        # Owned by the current leader:
        self._file = None

    # --- the engine's side --------------------------------------------------

    def append(self, body: bytes) -> int:
        """Queue one committed transaction's record; returns its position for wait_durable."""
        size = wal.FRAME_HEADER_SIZE + len(body)
        lock = self._lock
        lock.acquire()  # not `with`: a hot path (docs/hot-paths.md)
        try:
            if self._failed or self._closed:
                raise self._refusal() if self._failed else DurabilityError("the write-ahead log is closed")
            if size > self._seg_left:  # a segment takes a record that does not fit only as its first
                seq = self._next_seq
                self._next_seq += 1
                header = wal.pack_header(self._uuid, seq)
                self._seed = int.from_bytes(header[-4:], "little")
                self._starts.append((len(self._pending), seq, header))
                self._seg_left = self._segment_size - wal.HEADER_SIZE
            self._pending.append(wal.frame(body, self._seed))
            self._seg_left -= size
            position = self._appended = self._appended + 1
            if self._gathering and position - self._written >= self._peak:
                self._more.notify()
            return position
        finally:
            lock.release()

    def wait_durable(self, position: int) -> None:
        """Return once the record at `position` is as durable as the flush policy promises.

        The lone committer's way (one client, a sync per commit): nobody is
        writing, no recent crowd to gather for (`_peak` 1) and no segment to
        start, so the caller takes what is queued and writes it durably at
        once, without `_flush`'s general machinery; its record is almost
        always the only one. Anyone who comes meanwhile queues as a follower
        and is woken (or handed the lead) as after any batch. Such a write is
        not timed: `_sync_time` only sets how long a leader gathers for a
        crowd, and crowds are led by `_flush`, which times every batch."""
        if self._durable >= position and not self._failed:
            return  # a later batch already covered it (reading an int needs no lock)
        lock = self._lock
        lock.acquire()  # not `with`, as in append
        try:
            if (self._leader or self._failed or self._starts or self._peak > 1 or self._n > 1
                    or self._durable >= position or position > self._appended):
                lone = False
            else:
                lone = self._leader = True
                records, self._pending = self._pending, []
                upto = self._appended
        finally:
            lock.release()
        if not lone:
            self._flush(position, False)
            return
        try:
            self._fs.write(self._file, records[0] if len(records) == 1 else b"".join(records), True)
        except BaseException as e:
            self._die(e)
        lock.acquire()
        try:
            woken = self._batch_written(upto, True)
        finally:
            lock.release()
        for waiter in woken:
            waiter.wake.release()

    def sync(self) -> None:
        """Write and fsync everything appended so far (shutdown, snapshot boundaries)."""
        self._flush(self._appended, force=True)

    def close(self) -> None:
        """Sync, cut the current segment's zero padding off (seal it) and close."""
        try:
            if not self._failed:
                self.sync()
                with self._lock:
                    if self._file is not None:
                        self._seal()
        finally:
            with self._lock:
                if self._file is not None:
                    self._fs.close(self._file)
                    self._file = None
                self._closed = True

    @property
    def position(self) -> int:
        return self._appended

    @property
    def durable_position(self) -> int:
        return self._durable

    @property
    def failed(self) -> DurabilityError | None:
        return self._failed

    @property
    def current_segment(self) -> str | None:
        return self._file.path if self._file is not None else None

    @property
    def current_segment_bytes(self) -> int:
        """Bytes of the current segment that hold the header and records (the
        rest is zero padding); exact once `sync` returned and nothing is appended."""
        return self._file.size if self._file is not None else 0

    # --- group commit -------------------------------------------------------

    def _done(self, position: int, force: bool) -> bool:
        if self._durable >= position:
            return True
        return not force and self._n > 1 and position % self._n != 0 and self._written >= position

    def _flush(self, position: int, force: bool) -> None:
        """Lead a batch, or sleep until a leader's batch covers `position`.

        A thread that finds the lead free takes it and its batch in the same
        hold of the lock, and takes the lock once more after its write. A
        follower sleeps on a lock of its own that the leader releases once the
        batch holding its record is written, and leaves without touching the
        shared lock again: with the GIL every wake-up is a thread switch, and
        waking all waiters to re-check (a Condition's notify_all) cost more
        than the commit itself with 16 clients. Records appended after a
        leader took its batch wait for the next one, whose lead the leader
        hands to the oldest such waiter."""
        with self._lock:
            if position > self._appended:
                raise ValueError(f"position {position} was never appended")
            if self._failed:
                raise self._refusal()
            if self._done(position, force):
                return
            if self._leader:
                waiter = _Waiter(position, force)
                self._waiters.append(waiter)
            else:
                self._leader, waiter = True, None
                records, starts, upto, sync = self._take(force)
        if waiter is not None:
            try:
                waiter.wake.acquire()  # released by the leader
            except BaseException:  # e.g. KeyboardInterrupt in the main thread
                self._leave(waiter)
                raise
            if not waiter.lead:
                if self._done(position, force):
                    return
                raise self._refusal()  # woken without the lead and not done: the WAL failed
            with self._lock:
                records, starts, upto, sync = self._take(force)
        self._lead(records, starts, upto, sync)

    def _leave(self, waiter: _Waiter) -> None:
        """A follower interrupted in its sleep goes; a lead it was handed passes
        on, or nobody would ever write again. (Its record stays queued: the
        next batch writes it, as the caller cannot know whether it did.)"""
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif waiter.lead:
                self._pass_lead()

    def _pass_lead(self) -> None:
        """Under the lock: hand the lead to the oldest waiter, or drop it."""
        if self._waiters:
            heir = self._waiters.pop(0)
            heir.lead = True
            heir.wake.release()
        else:
            self._leader = False

    def _take(self, force: bool) -> tuple[list[bytes], list[tuple[int, int, bytes]], int, bool]:
        """Under the lock, by the leader: the batch to write (everything
        queued: records and the segments they start), the position it ends
        at, and whether to fsync it."""
        try:
            self._gather()
        except BaseException:  # interrupted while gathering: nothing taken yet
            self._pass_lead()
            raise
        records, starts = self._pending, self._starts
        self._pending, self._starts = [], []
        upto = self._appended
        return records, starts, upto, force or self._n == 1 or upto // self._n > self._durable // self._n

    def _lead(self, records: list[bytes], starts: list[tuple[int, int, bytes]], upto: int, sync: bool) -> None:
        """Write the batch `_take` gave (and fsync it), then wake whom it covers."""
        t0 = time.monotonic()
        try:
            self._write_batch(records, starts, sync)
        except BaseException as e:
            self._die(e)
        with self._lock:
            self._sync_time = time.monotonic() - t0
            woken = self._batch_written(upto, sync)
        for waiter in woken:
            waiter.wake.release()

    def _batch_written(self, upto: int, sync: bool) -> list[_Waiter] | tuple[()]:
        """Under the lock, by the leader whose batch ending at `upto` is written
        (and, with `sync`, durable): record the positions, take out the
        followers the batch covered (for the caller to wake once it let go of
        the lock) and hand the lead to the oldest one still waiting: no
        election. With nobody waiting (a lone committer, mostly) the lead is
        simply dropped."""
        self._written = upto
        if sync:
            self._durable = upto
        if not self._waiters:
            self._leader = False
            return ()
        woken = [w for w in self._waiters if self._done(w.position, w.force)]
        self._waiters = [w for w in self._waiters if not self._done(w.position, w.force)]
        self._pass_lead()
        return woken

    def _die(self, e: BaseException) -> None:
        """The leader's write or fsync failed: the writer is dead for good; wake
        every follower (each raises) and raise."""
        with self._lock:
            self._failed = self._fatal(e)
            self._failed.__cause__ = e
            self._leader = False
            woken, self._waiters = self._waiters, []
        for waiter in woken:
            waiter.wake.release()
        raise self._refusal() from e

    def _gather(self) -> None:
        """Give clients whose commit was just made durable a moment to append their next one.

        Without this, clients split into two groups that alternate (one waits on
        the fsync while the other appends), halving the records per fsync. The
        wait ends as soon as as many records are queued as clients were recently
        seen waiting, and never lasts more than a quarter of the last fsync or
        200 µs; a lone client never waits."""
        waiting, fading = len(self._waiters) + 1, self._peak * 7 // 8  # forget a past burst slowly
        self._peak = waiting if waiting > fading else fading  # max(): no call, this runs every commit
        if self._appended - self._written >= self._peak:
            return
        deadline = time.monotonic() + min(0.0002, self._sync_time / 4)
        self._gathering = True
        try:
            while self._appended - self._written < self._peak:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._more.wait(left)
        finally:
            self._gathering = False

    def _refusal(self) -> DurabilityError:
        # A fresh exception per raise: the same object raised in many threads would share a traceback.
        err = DurabilityError(str(self._failed))
        err.__cause__ = self._failed.__cause__
        return err

    def _fatal(self, e: BaseException) -> DurabilityError:
        path = getattr(e, "path", None) or self.current_segment or self._dir
        reason = getattr(e, "reason", None) or f"{type(e).__name__}: {e}"
        return DurabilityError(
            f"the write-ahead log failed at {path}: {reason}; "
            "the database refuses writes; restart after fixing the disk"
        )

    def _write_batch(self, records: list[bytes], starts: list[tuple[int, int, bytes]], sync: bool) -> None:
        # With a sync per commit every earlier write is durable, so a durable
        # write of the batch is enough; else write, then fdatasync them all.
        through = sync and self._n == 1
        done = 0
        for first, sequence, header in starts:  # records[first] is the first of a new segment
            self._write(records[done:first], through)
            self._start_segment(sequence, header)
            done = first
        self._write(records[done:], through)
        if sync and not through and self._file is not None:
            self._fs.fsync(self._file, data_only=True)  # overwriting zero-filled blocks: no metadata

    def _write(self, chunk: list[bytes], durable: bool) -> None:
        if chunk:
            self._fs.write(self._file, b"".join(chunk), durable)

    def _seal(self) -> None:
        """Cut the zero padding after the last record and fsync: the segment is final."""
        fs, f = self._fs, self._file
        if self._preallocate:
            fs.truncate(f, f.size)
        fs.fsync(f)

    def _start_segment(self, sequence: int, header: bytes) -> None:
        """Seal the current segment and close it, then create the next one atomically."""
        fs = self._fs
        if self._file is not None:
            self._seal()
            fs.close(self._file)
            self._file = None
        path = wal.segment_path(self._dir, sequence)
        with fs.replacing(path, zero_fill=self._segment_size if self._preallocate else 0,
                          direct=self._preallocate and self._n == 1, keep_open=True) as f:
            fs.write(f, header)
        self._file = f


class _Waiter:
    """A follower in `wait_durable`: `wake` is held until the leader releases it."""

    __slots__ = ("position", "force", "wake", "lead")

    def __init__(self, position: int, force: bool):
        self.position, self.force = position, force
        self.wake = threading.Lock()
        self.wake.acquire()
        self.lead = False
