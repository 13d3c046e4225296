"""The agent's durable outbox: every batch is on disk before it is sent.

Segment files rather than SQLite: the buffer is append-only, deleted from the
front, and read back in order — a log, which is what segment files are; it
also keeps `sqlite3` (≈2 MiB) out of an agent whose RSS budget has ~1 MiB to
spare. Layout under `<state_dir>/buffer/`:

    00000000000000000001.seg   records of batches 1…, appended and fsync'd
    00000000000000000412.seg   the next segment, opened when one passes `segment_bytes`
    damaged/                   whatever a start-up scan could not trust, moved aside

A record is a 40-byte header (magic, payload length, CRC-32 of the payload,
seq, points, oldest and newest timestamp) followed by the serialized
`AgentMessage`. A segment is deleted once every batch in it is acknowledged
or dropped. What was acknowledged is not written down: after a restart the
collector's Welcome says what it has, and the rest is sent again (the
collector drops anything it already stored).

Bounds: `max_bytes` and `max_age`. Past either, the oldest batches are
dropped first, and every dropped point is counted with the time range it
covered, so the loss is reported (heartbeat, `vigil_buffer_*` metrics) and
never silent. Memory holds only a small index entry per batch; payloads are
read back from the file (the page cache) when sent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger("vigil.agent.buffer")

MAGIC = b"VB"
HEADER = struct.Struct("<2sxxIIQIqq")  # magic, pad, length, crc, seq, points, min_ts, max_ts
MAX_RECORD_BYTES = 64 * 1024 * 1024
SUFFIX = ".seg"


@dataclass(slots=True)
class Entry:
    """Where one buffered batch lives, and what it holds."""

    segment: Path
    offset: int      # of the payload, after the header
    length: int
    points: int
    min_ts_ms: int
    max_ts_ms: int


DROP_LOG_INTERVAL_S = 60


@dataclass(slots=True)
class DropAccount:
    points: int = 0
    batches: int = 0
    from_ms: int = 0
    to_ms: int = 0

    def add(self, entry: Entry) -> None:
        self.points += entry.points
        self.batches += 1
        self.from_ms = min(self.from_ms, entry.min_ts_ms) if self.from_ms else entry.min_ts_ms
        self.to_ms = max(self.to_ms, entry.max_ts_ms)


class DurableBuffer:
    def __init__(self, directory: Path, max_bytes: int, max_age_s: float, segment_bytes: int = 4 * 1024 * 1024) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.max_age_ms = int(max_age_s * 1000)
        self.segment_bytes = segment_bytes
        self._entries: OrderedDict[int, Entry] = OrderedDict()
        self._live: dict[Path, int] = {}   # segment → batches in it not yet acked or dropped
        self._writer: tuple[Path, BinaryIO] | None = None
        self.bytes = 0
        self.points = 0
        self.dropped = DropAccount()
        self._unlogged = DropAccount()
        self._drop_logged_at = -float("inf")
        self.damaged_bytes = 0
        self.changed = asyncio.Event()
        directory.mkdir(parents=True, exist_ok=True)
        self._recover()

    # ------------------------------------------------------------ start-up

    def _recover(self) -> None:
        for segment in sorted(self.directory.glob(f"*{SUFFIX}")):
            self._scan(segment)
        if self._entries:
            log.info(
                "buffer: %d unacknowledged batches (%d points, %.1f MiB) from before the restart will be sent again",
                len(self._entries), self.points, self.bytes / 1048576,
            )

    def _scan(self, segment: Path) -> None:
        data = segment.read_bytes()
        offset = 0
        kept = 0
        while offset < len(data):
            problem = self._check_record(data, offset)
            if problem:
                self._move_aside(segment, data, offset, problem)
                break
            _, length, _, seq, points, min_ts, max_ts = HEADER.unpack_from(data, offset)
            self._index(seq, Entry(segment, offset + HEADER.size, length, points, min_ts, max_ts))
            offset += HEADER.size + length
            kept += 1
        if kept == 0:
            segment.unlink()

    @staticmethod
    def _check_record(data: bytes, offset: int) -> str:
        if len(data) - offset < HEADER.size:
            return "a torn header"
        magic, length, crc, *_ = HEADER.unpack_from(data, offset)
        if magic != MAGIC:
            return "no record marker"
        if length > MAX_RECORD_BYTES or offset + HEADER.size + length > len(data):
            return "a record cut short"
        start = offset + HEADER.size
        if zlib.crc32(data[start : start + length]) != crc:
            return "a checksum mismatch"
        return ""

    def _move_aside(self, segment: Path, data: bytes, offset: int, problem: str) -> None:
        damaged = self.directory / "damaged"
        damaged.mkdir(exist_ok=True)
        target = damaged / f"{segment.stem}.at-{offset}.bad"
        target.write_bytes(data[offset:])
        with open(segment, "r+b") as f:
            f.truncate(offset)
            f.flush()
            os.fsync(f.fileno())
        self.damaged_bytes += len(data) - offset
        log.error(
            "buffer: %s is damaged at byte %d (%s, likely a power cut mid-write): moved the last %d bytes to %s; "
            "the %d intact batches before it are kept",
            segment.name, offset, problem, len(data) - offset, target, self._live.get(segment, 0),
        )

    def _index(self, seq: int, entry: Entry) -> None:
        if seq in self._entries:  # the same batch twice on disk: keep the first copy
            return
        self._entries[seq] = entry
        self._live[entry.segment] = self._live.get(entry.segment, 0) + 1
        self.bytes += entry.length + HEADER.size
        self.points += entry.points

    # ------------------------------------------------------------- writing

    def put(self, seq: int, payload: bytes, points: int, min_ts_ms: int, max_ts_ms: int) -> None:
        """Append a batch and fsync it; only then may it be sent."""
        segment, handle = self._segment_for(seq)
        offset = handle.tell()
        handle.write(HEADER.pack(MAGIC, len(payload), zlib.crc32(payload), seq, points, min_ts_ms, max_ts_ms))
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
        self._index(seq, Entry(segment, offset + HEADER.size, len(payload), points, min_ts_ms, max_ts_ms))
        self._enforce_limits(int(time.time() * 1000))
        self.changed.set()

    def _segment_for(self, seq: int) -> tuple[Path, BinaryIO]:
        if self._writer is not None:
            segment, handle = self._writer
            if handle.tell() < self.segment_bytes:
                return self._writer
            handle.close()
            self._writer = None
            self._forget_if_empty(segment)
        segment = self.directory / f"{seq:020d}{SUFFIX}"
        handle = open(segment, "ab")
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)  # the new file's name must survive a power cut too
        finally:
            os.close(directory)
        self._writer = (segment, handle)
        return self._writer

    def _enforce_limits(self, now_ms: int) -> None:
        while self._entries:
            seq, entry = next(iter(self._entries.items()))
            too_big = self.bytes > self.max_bytes
            too_old = self.max_age_ms and entry.max_ts_ms < now_ms - self.max_age_ms
            if not (too_big or too_old) or len(self._entries) == 1:
                return
            self._release(seq)
            self.dropped.add(entry)
            self._log_drop(seq, entry, "full" if too_big else "past max_age")

    def _log_drop(self, seq: int, entry: Entry, why: str) -> None:
        """The first drop at once, then at most one summary a minute: a long outage drops thousands.

        The exact totals are never lost to this: they are in the heartbeat
        and the vigil_buffer_dropped_* metrics.
        """
        self._unlogged.add(entry)
        now = time.monotonic()
        if now - self._drop_logged_at < DROP_LOG_INTERVAL_S:
            return
        unlogged, self._unlogged, self._drop_logged_at = self._unlogged, DropAccount(), now
        if unlogged.batches == 1:
            what = f"batch {seq} ({entry.points} points, {_range(entry.min_ts_ms, entry.max_ts_ms)})"
        else:
            what = f"{unlogged.batches} batches ({unlogged.points} points, {_range(unlogged.from_ms, unlogged.to_ms)})"
        log.warning(
            "buffer %s: dropped %s; %d points dropped since start; next report in %ds at most",
            why, what, self.dropped.points, DROP_LOG_INTERVAL_S,
        )

    # ------------------------------------------------------------- reading

    def __len__(self) -> int:
        return len(self._entries)

    def oldest(self) -> int:
        return next(iter(self._entries), 0)

    def entry(self, seq: int) -> Entry | None:
        return self._entries.get(seq)

    def newest(self) -> int:
        return next(reversed(self._entries), 0)

    def oldest_ts_ms(self) -> int:
        """Newest timestamp of the oldest unacknowledged batch: how far behind delivery is."""
        first = next(iter(self._entries.values()), None)
        return first.max_ts_ms if first else 0

    def after(self, seq: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to `limit` batches numbered above `seq`, oldest first, with their bytes."""
        return [(s, self.payload(s)) for s in self.select(set(), limit, lo=seq + 1)]

    def has(self, seq: int) -> bool:
        return seq in self._entries

    def select(self, exclude: set[int], limit: int, lo: int = 0, hi: int | None = None) -> list[int]:
        """Up to `limit` batch numbers in [lo, hi), oldest first, skipping `exclude`.

        Numbers only: the sender reads each payload just before writing it,
        so a replay holds one batch in memory, not a window of them.
        """
        found: list[int] = []
        if limit <= 0:
            return found
        for s in self._entries:
            if hi is not None and s >= hi:
                break
            if s >= lo and s not in exclude:
                found.append(s)
                if len(found) >= limit:
                    break
        return found

    def first_newer_than(self, ts_ms: int) -> int:
        """The first number of the run of newest batches whose points are all newer than `ts_ms`."""
        first = self.newest() + 1
        for seq in reversed(self._entries):
            if self._entries[seq].min_ts_ms <= ts_ms:
                break
            first = seq
        return first

    def payload(self, seq: int) -> bytes:
        """The batch's serialized AgentMessage, read back from its segment."""
        return self._read(self._entries[seq])

    def _read(self, entry: Entry) -> bytes:
        with open(entry.segment, "rb") as f:
            f.seek(entry.offset)
            return f.read(entry.length)

    # --------------------------------------------------------- acknowledging

    def ack(self, seq: int) -> int:
        """Forget every batch numbered `seq` or below; delete segments that empties."""
        released = 0
        while self._entries:
            first = next(iter(self._entries))
            if first > seq:
                break
            self._release(first)
            released += 1
        if released:
            self.changed.set()
        return released

    def forget(self, seqs: list[int]) -> int:
        """The collector stored these (out of order, above its watermark): delete them."""
        released = 0
        for seq in seqs:
            if seq in self._entries:
                self._release(seq)
                released += 1
        if released:
            self.changed.set()
        return released

    def reject(self, seq: int, reason: str) -> None:
        """The collector refused this batch as malformed: resending cannot help."""
        entry = self._entries.get(seq)
        if entry is not None:
            self._release(seq)
            self.dropped.add(entry)
            log.error("collector rejected batch %d (%d points), dropped it: %s", seq, entry.points, reason)

    def _release(self, seq: int) -> None:
        entry = self._entries.pop(seq)
        self.bytes -= entry.length + HEADER.size
        self.points -= entry.points
        self._live[entry.segment] -= 1
        self._forget_if_empty(entry.segment)

    def _forget_if_empty(self, segment: Path) -> None:
        if self._live.get(segment, 0) > 0 or (self._writer is not None and self._writer[0] == segment):
            return
        self._live.pop(segment, None)
        segment.unlink(missing_ok=True)

    def renumber(self, first: int) -> dict[int, int]:
        """Give every buffered batch a new number from `first` on (our state directory was new
        but the collector already knows this agent, so our numbers would look like duplicates)."""
        from protos.vigil.v1 import agent_pb2 as pb

        # Read everything first and release it all, so new numbers that overlap
        # old ones never collide, and limits enforced by put() drop only new entries.
        old = [(seq, entry, self._read(entry)) for seq, entry in self._entries.items()]
        for seq, _, _ in old:
            self._release(seq)
        mapping: dict[int, int] = {}
        for offset, (seq, entry, payload) in enumerate(old):
            message = pb.AgentMessage.FromString(payload)
            message.batch.seq = first + offset
            self.put(first + offset, message.SerializeToString(), entry.points, entry.min_ts_ms, entry.max_ts_ms)
            mapping[seq] = first + offset
        return mapping

    def close(self) -> None:
        if self._writer is not None:
            self._writer[1].close()
            self._writer = None


def _range(from_ms: int, to_ms: int) -> str:
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return f"{time.strftime(fmt, time.gmtime(from_ms / 1000))}–{time.strftime(fmt, time.gmtime(to_ms / 1000))}"
