"""agent/buffer.py: the durable outbox — segment files, acks, limits, renumbering, start-up recovery.

Every test works on real files under tmp_path. Expectations about which batch
lives in which segment are read back from `entry().segment` rather than
assumed, so they do not depend on the exact size of a serialized batch.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from agent.buffer import DROP_LOG_INTERVAL_S, HEADER, DurableBuffer
from protos import serieskey
from protos.vigil.v1 import agent_pb2 as pb

LOGGER = "vigil.agent.buffer"
BIG = 64 * 1024 * 1024
BASE_TS_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z, any fixed instant in the past


def _ts(seq: int) -> tuple[int, int]:
    """The (min, max) timestamps of test batch `seq`: one second apart, 500 ms wide."""
    return BASE_TS_MS + seq * 1000, BASE_TS_MS + seq * 1000 + 500


def _points(seq: int) -> int:
    return 10 + seq


def _payload(seq: int, samples: int = 20) -> bytes:
    """A real serialized batch, as the batcher writes it."""
    message = pb.AgentMessage()
    message.batch.seq = seq
    message.batch.created_at_ms = BASE_TS_MS
    low, high = _ts(seq)
    step = (high - low) // max(samples - 1, 1)
    serieskey.add_series(
        message.batch, "host-1", "cpu_usage_percent", (("cpu", str(seq)),),
        [low + i * step for i in range(samples)], [float(seq * 100 + i) for i in range(samples)],
    )
    return message.SerializeToString()


def _open(directory: Path, max_bytes: int = BIG, max_age_s: float = 0, segment_bytes: int = 1024) -> DurableBuffer:
    return DurableBuffer(directory, max_bytes=max_bytes, max_age_s=max_age_s, segment_bytes=segment_bytes)


def _put(buffer: DurableBuffer, seqs: range | list[int], samples: int = 20) -> dict[int, bytes]:
    payloads = {}
    for seq in seqs:
        payloads[seq] = _payload(seq, samples)
        buffer.put(seq, payloads[seq], _points(seq), *_ts(seq))
    return payloads


def _segments(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.seg"))


def _everything(buffer: DurableBuffer) -> list[tuple[int, bytes]]:
    return buffer.after(0, 1_000_000)


def _record_bounds(buffer: DurableBuffer, seq: int) -> tuple[int, int]:
    """Where batch `seq`'s record (header + payload) starts and ends in its segment file."""
    entry = buffer.entry(seq)
    assert entry is not None
    return entry.offset - HEADER.size, entry.offset + entry.length


# --------------------------------------------------------------------- reading back


def test_put_then_read_back_exact_bytes_metadata_and_counters(tmp_path: Path) -> None:
    buffer = _open(tmp_path / "buffer", segment_bytes=BIG)
    assert (len(buffer), buffer.bytes, buffer.points) == (0, 0, 0)
    assert (buffer.oldest(), buffer.newest(), buffer.oldest_ts_ms()) == (0, 0, 0)
    assert buffer.after(0, 10) == []

    payloads = _put(buffer, range(1, 6))

    assert buffer.after(0, 10) == [(seq, payloads[seq]) for seq in range(1, 6)]
    assert buffer.after(0, 2) == [(1, payloads[1]), (2, payloads[2])]
    assert buffer.after(3, 10) == [(4, payloads[4]), (5, payloads[5])]
    assert buffer.after(5, 10) == []
    for seq in range(1, 6):
        entry = buffer.entry(seq)
        assert entry is not None
        assert (entry.points, entry.min_ts_ms, entry.max_ts_ms, entry.length) == (_points(seq), *_ts(seq), len(payloads[seq]))
        assert pb.AgentMessage.FromString(buffer.after(seq - 1, 1)[0][1]).batch.seq == seq
    assert buffer.entry(6) is None
    assert len(buffer) == 5
    assert buffer.bytes == sum(HEADER.size + len(p) for p in payloads.values())
    assert buffer.bytes == (tmp_path / "buffer" / _segments(tmp_path / "buffer")[0]).stat().st_size
    assert buffer.points == sum(_points(seq) for seq in range(1, 6))
    assert (buffer.oldest(), buffer.newest()) == (1, 5)
    assert buffer.oldest_ts_ms() == _ts(1)[1]  # the newest point of the oldest batch
    buffer.ack(2)
    assert (buffer.oldest(), buffer.oldest_ts_ms()) == (3, _ts(3)[1])
    buffer.close()


def test_put_sets_changed_event(tmp_path: Path) -> None:
    buffer = _open(tmp_path / "buffer")
    assert not buffer.changed.is_set()
    _put(buffer, [1])
    assert buffer.changed.is_set()
    buffer.changed.clear()
    assert buffer.ack(1) == 1
    assert buffer.changed.is_set()
    buffer.changed.clear()
    assert buffer.ack(1) == 0
    assert not buffer.changed.is_set()  # nothing released: nothing to wake the sender for
    buffer.close()


def test_after_with_zero_limit_returns_nothing(tmp_path: Path) -> None:
    buffer = _open(tmp_path / "buffer")
    _put(buffer, range(1, 4))
    assert buffer.after(0, 0) == []


# ------------------------------------------------------------------ acks and segments


def test_ack_is_cumulative_and_deletes_segments_once_empty(tmp_path: Path) -> None:
    directory = tmp_path / "buffer"
    buffer = _open(directory, segment_bytes=1024)
    payloads = _put(buffer, range(1, 13))
    segment_of = {seq: buffer.entry(seq).segment for seq in payloads}  # type: ignore[union-attr]
    writer = segment_of[12]
    assert len(set(segment_of.values())) >= 3, "segment_bytes=1024 should spread 12 batches over several segments"
    assert sorted(p.name for p in set(segment_of.values())) == _segments(directory)
    assert segment_of[1].name == f"{1:020d}.seg"  # a segment is named after its first batch

    assert buffer.ack(3) == 3
    assert buffer.ack(3) == 0
    assert buffer.ack(2) == 0  # cumulative: an older ack changes nothing
    for upto in range(4, 13):
        assert buffer.ack(upto) == 1
        live = {segment_of[seq].name for seq in range(upto + 1, 13)}
        assert _segments(directory) == sorted(live | {writer.name})
        assert [seq for seq, _ in _everything(buffer)] == list(range(upto + 1, 13))
        assert len(buffer) == 12 - upto

    # Everything is acknowledged, but the segment being written stays while open.
    assert (len(buffer), buffer.bytes, buffer.points) == (0, 0, 0)
    assert _segments(directory) == [writer.name]
    assert buffer.ack(100) == 0
    full = writer.stat().st_size >= 1024
    more = _put(buffer, [13])
    assert buffer.after(0, 10) == [(13, more[13])]
    now_writing = buffer.entry(13).segment  # type: ignore[union-attr]
    if full:  # the writer moved on, and the fully acked segment it left went with it
        assert now_writing.name == f"{13:020d}.seg"
        assert _segments(directory) == [now_writing.name]
    else:
        assert now_writing == writer
        assert _segments(directory) == [writer.name]
    buffer.close()


def test_acked_segment_is_deleted_when_the_writer_moves_on(tmp_path: Path) -> None:
    directory = tmp_path / "buffer"
    buffer = _open(directory, segment_bytes=1024)
    _put(buffer, [1])
    first = buffer.entry(1).segment  # type: ignore[union-attr]
    buffer.ack(1)
    assert first.exists()  # still the open segment
    for seq in range(2, 20):
        _put(buffer, [seq])
        segment = buffer.entry(seq).segment  # type: ignore[union-attr]
        if segment != first:
            break
        assert first.exists()
        buffer.ack(seq)
    else:
        pytest.fail("the writer never rolled over")
    # The writer rolled over to a new segment; the old one had nothing live left.
    assert not first.exists()
    assert _segments(directory) == [segment.name] == [f"{seq:020d}.seg"]
    buffer.close()


def test_segments_roll_over_at_segment_bytes(tmp_path: Path) -> None:
    directory = tmp_path / "buffer"
    buffer = _open(directory, segment_bytes=64 * 1024)  # the smallest the config allows
    payloads = _put(buffer, range(1, 41), samples=200)  # a few KiB each
    names = _segments(directory)
    assert len(names) >= 2
    record = max(HEADER.size + len(p) for p in payloads.values())
    for name in names[:-1]:
        size = (directory / name).stat().st_size
        assert 64 * 1024 <= size < 64 * 1024 + record  # closed once it passed segment_bytes, not before
    assert _everything(buffer) == sorted(payloads.items())
    buffer.close()


# ------------------------------------------------------------------------- restarts


def test_restart_returns_unacked_batches_with_identical_payloads_and_metadata(tmp_path: Path) -> None:
    directory = tmp_path / "buffer"
    buffer = _open(directory, segment_bytes=1024)
    payloads = _put(buffer, range(1, 11))
    segment_of = {seq: buffer.entry(seq).segment for seq in payloads}  # type: ignore[union-attr]
    acked = 5
    assert segment_of[acked] == segment_of[acked + 1], "the test needs a segment with acked and unacked batches"
    buffer.ack(acked)
    deleted = {seq for seq in payloads if not segment_of[seq].exists()}
    assert deleted and max(deleted) < acked
    buffer.close()

    again = _open(directory, segment_bytes=1024)
    back = dict(_everything(again))
    # Every unacked batch returns, byte for byte, with its metadata.
    for seq in range(acked + 1, 11):
        assert back[seq] == payloads[seq]
        entry = again.entry(seq)
        assert entry is not None
        assert (entry.points, entry.min_ts_ms, entry.max_ts_ms) == (_points(seq), *_ts(seq))
    # Nothing from a deleted segment returns.
    assert not deleted & set(back)
    # Acks are not written down: acked batches sharing a segment with live ones come back
    # too (the collector drops them as resends). That is exactly the rest of that segment.
    resent = {seq for seq in range(1, acked + 1) if segment_of[seq] == segment_of[acked + 1]}
    assert set(back) == resent | set(range(acked + 1, 11))
    assert sorted(back) == [seq for seq, _ in _everything(again)]  # still in seq order
    for seq in resent:
        assert back[seq] == payloads[seq]
    assert again.bytes == sum(HEADER.size + len(payloads[seq]) for seq in back)
    assert again.points == sum(_points(seq) for seq in back)
    assert (again.oldest(), again.newest()) == (min(back), 10)
    assert again.damaged_bytes == 0

    # The recovered buffer keeps working: acks delete recovered segments, puts go to a new one.
    new = _put(again, [11, 12])
    assert again.entry(11).segment.name == f"{11:020d}.seg"  # type: ignore[union-attr]
    again.ack(10)
    assert _everything(again) == [(11, new[11]), (12, new[12])]
    assert _segments(directory) == [f"{11:020d}.seg"]
    again.close()


def test_restart_logs_what_it_recovered(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "buffer"
    buffer = _open(directory)
    _put(buffer, range(1, 4))
    buffer.close()
    caplog.set_level(logging.INFO, logger=LOGGER)
    _open(directory).close()
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert any("3 unacknowledged batches" in m for m in messages)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_empty_segment_left_by_a_crash_is_removed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "buffer"
    buffer = _open(directory)
    payloads = _put(buffer, range(1, 4))
    buffer.close()
    empty = directory / f"{4:020d}.seg"
    empty.write_bytes(b"")
    caplog.set_level(logging.INFO, logger=LOGGER)

    again = _open(directory)

    assert not empty.exists()
    assert _everything(again) == sorted(payloads.items())
    assert again.damaged_bytes == 0
    assert not (directory / "damaged").exists()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    again.close()


def test_directory_with_only_an_empty_segment(tmp_path: Path) -> None:
    directory = tmp_path / "buffer"
    directory.mkdir()
    (directory / f"{1:020d}.seg").write_bytes(b"")
    buffer = _open(directory)
    assert (len(buffer), _segments(directory)) == (0, [])
    buffer.close()


# --------------------------------------------------------------------------- limits


def test_max_bytes_drops_oldest_first_and_accounts_for_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    payloads = {seq: _payload(seq) for seq in range(1, 7)}
    record = HEADER.size + len(payloads[1])
    assert {HEADER.size + len(p) for p in payloads.values()} == {record}
    buffer = _open(tmp_path / "buffer", max_bytes=3 * record + record // 2, segment_bytes=BIG)
    caplog.set_level(logging.INFO, logger=LOGGER)

    for seq in range(1, 4):
        buffer.put(seq, payloads[seq], _points(seq), *_ts(seq))
    assert buffer.dropped.batches == 0
    for seq in range(4, 7):
        buffer.put(seq, payloads[seq], _points(seq), *_ts(seq))

    assert _everything(buffer) == [(seq, payloads[seq]) for seq in (4, 5, 6)]
    assert buffer.bytes == 3 * record <= buffer.max_bytes
    assert buffer.points == sum(_points(seq) for seq in (4, 5, 6))
    dropped = buffer.dropped
    assert dropped.batches == 3
    assert dropped.points == sum(_points(seq) for seq in (1, 2, 3))
    assert (dropped.from_ms, dropped.to_ms) == (_ts(1)[0], _ts(3)[1])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # the first drop; the next ones are summed up at most once a minute
    assert "buffer full: dropped batch 1 " in warnings[0]
    buffer._drop_logged_at -= DROP_LOG_INTERVAL_S  # a minute later
    buffer.put(7, payloads[4], _points(7), *_ts(7))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert f"dropped 3 batches ({sum(_points(seq) for seq in (2, 3, 4))} points, " in warnings[1]
    assert f"{buffer.dropped.points} points dropped since start" in warnings[1]
    buffer.close()


def test_max_bytes_never_drops_the_newest_batch(tmp_path: Path) -> None:
    buffer = _open(tmp_path / "buffer", max_bytes=2048, segment_bytes=BIG)
    _put(buffer, range(1, 3))
    huge = _payload(3, samples=1000)
    assert HEADER.size + len(huge) > 2048
    buffer.put(3, huge, _points(3), *_ts(3))
    assert _everything(buffer) == [(3, huge)]
    assert buffer.bytes == HEADER.size + len(huge) > buffer.max_bytes
    assert (buffer.dropped.batches, buffer.dropped.points) == (2, _points(1) + _points(2))
    buffer.close()


def test_max_age_drops_batches_older_than_max_age_on_next_put(tmp_path: Path) -> None:
    buffer = _open(tmp_path / "buffer", max_age_s=60)
    now = int(time.time() * 1000)
    stale = _payload(1)
    buffer.put(1, stale, 7, now - 300_000, now - 120_000)
    assert len(buffer) == 1  # too old, but the newest batch is never dropped
    buffer.put(2, _payload(2), 8, now - 200_000, now - 100_000)
    assert [seq for seq, _ in _everything(buffer)] == [2]  # 1 dropped; 2 is old too but now the newest
    buffer.put(3, _payload(3), 9, now - 30_000, now - 1_000)
    assert [seq for seq, _ in _everything(buffer)] == [3]
    buffer.put(4, _payload(4), 10, now - 50_000, now - 20_000)  # within max_age (max_ts counts)
    assert [seq for seq, _ in _everything(buffer)] == [3, 4]
    dropped = buffer.dropped
    assert (dropped.batches, dropped.points) == (2, 15)
    assert (dropped.from_ms, dropped.to_ms) == (now - 300_000, now - 100_000)
    assert buffer.points == 19
    buffer.close()


def test_max_age_zero_means_no_age_limit(tmp_path: Path) -> None:
    buffer = _open(tmp_path / "buffer", max_age_s=0)
    for seq in range(1, 6):
        buffer.put(seq, _payload(seq), 1, 1_000 * seq, 1_000 * seq + 1)  # January 1970
    assert len(buffer) == 5
    assert buffer.dropped.batches == 0
    buffer.close()


def test_reject_drops_that_batch_and_counts_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    buffer = _open(tmp_path / "buffer", segment_bytes=BIG)
    payloads = _put(buffer, range(1, 4))
    bytes_before = buffer.bytes
    buffer.reject(2, "series 0: timestamps and values differ in length")
    assert _everything(buffer) == [(1, payloads[1]), (3, payloads[3])]
    assert buffer.entry(2) is None
    assert buffer.bytes == bytes_before - HEADER.size - len(payloads[2])
    assert buffer.points == _points(1) + _points(3)
    dropped = buffer.dropped
    assert (dropped.batches, dropped.points, dropped.from_ms, dropped.to_ms) == (1, _points(2), *_ts(2))
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "batch 2" in errors[0] and "differ in length" in errors[0]

    buffer.reject(99, "unknown")  # not buffered (already acked, say): nothing happens
    assert len(buffer) == 2 and buffer.dropped.batches == 1
    buffer.close()


def test_reject_of_the_last_live_batch_in_a_segment_deletes_it(tmp_path: Path) -> None:
    directory = tmp_path / "buffer"
    buffer = _open(directory, segment_bytes=1024)
    _put(buffer, range(1, 9))
    first = buffer.entry(1).segment  # type: ignore[union-attr]
    in_first = [seq for seq in range(1, 9) if buffer.entry(seq).segment == first]  # type: ignore[union-attr]
    assert first != buffer.entry(8).segment and len(in_first) >= 2  # type: ignore[union-attr]
    buffer.ack(in_first[-2])
    assert first.exists()
    buffer.reject(in_first[-1], "malformed")
    assert not first.exists()
    buffer.close()


# ------------------------------------------------------------------------ renumbering


def test_renumber_rewrites_seq_in_payloads_and_keeps_order(tmp_path: Path) -> None:
    directory = tmp_path / "buffer"
    buffer = _open(directory, segment_bytes=1024)
    payloads = _put(buffer, range(1, 6))
    points, total_bytes = buffer.points, buffer.bytes

    mapping = buffer.renumber(101)

    assert mapping == {1: 101, 2: 102, 3: 103, 4: 104, 5: 105}
    items = _everything(buffer)
    assert [seq for seq, _ in items] == [101, 102, 103, 104, 105]
    for old in range(1, 6):
        assert buffer.entry(old) is None
        new, payload = items[old - 1]
        message = pb.AgentMessage.FromString(payload)
        assert message.batch.seq == new
        expected = pb.AgentMessage.FromString(payloads[old])
        expected.batch.seq = new
        assert message == expected  # only the number changed
        entry = buffer.entry(new)
        assert entry is not None
        assert (entry.points, entry.min_ts_ms, entry.max_ts_ms) == (_points(old), *_ts(old))
    assert (len(buffer), buffer.points, buffer.bytes) == (5, points, total_bytes)
    assert (buffer.oldest(), buffer.newest()) == (101, 105)
    assert buffer.dropped.batches == 0
    buffer.close()

    # The renumbered batches are durable under their new numbers.
    again = _open(directory, segment_bytes=1024)
    back = dict(_everything(again))
    for new, payload in items:
        assert back[new] == payload
    again.close()


def test_renumber_into_an_overlapping_range_keeps_every_batch(tmp_path: Path) -> None:
    # The transport renumbers from last_stored_seq + 1 whenever oldest <= last_stored_seq;
    # a fresh agent holding 1..5 meeting a collector that stored 2 does renumber(3).
    buffer = _open(tmp_path / "buffer")
    payloads = _put(buffer, range(1, 6))
    mapping = buffer.renumber(3)
    assert mapping == {1: 3, 2: 4, 3: 5, 4: 6, 5: 7}
    items = _everything(buffer)
    assert [seq for seq, _ in items] == [3, 4, 5, 6, 7]
    for (new, payload), old in zip(items, range(1, 6)):
        expected = pb.AgentMessage.FromString(payloads[old])
        expected.batch.seq = new
        assert pb.AgentMessage.FromString(payload) == expected
    buffer.close()


def test_renumber_when_limits_drop_batches_on_the_way(tmp_path: Path) -> None:
    directory = tmp_path / "buffer"
    buffer = _open(directory)
    _put(buffer, range(1, 4))
    record = buffer.bytes // 3
    buffer.close()
    # Limits are enforced on put, not at start: a smaller max_bytes (or batches past
    # max_age after a long stop) leaves the recovered buffer over its bounds.
    smaller = _open(directory, max_bytes=2 * record)
    assert len(smaller) == 3
    smaller.renumber(100)
    assert len(smaller) + smaller.dropped.batches == 3
    assert all(seq >= 100 for seq, _ in _everything(smaller))
    smaller.close()


# --------------------------------------------------------------------------- recovery


def _damaged_setup(tmp_path: Path) -> tuple[Path, Path, dict[int, bytes], dict[int, tuple[int, int]]]:
    """One segment holding batches 1–3; returns the directory, the segment, payloads, record bounds."""
    directory = tmp_path / "buffer"
    buffer = _open(directory, segment_bytes=BIG)
    payloads = _put(buffer, range(1, 4))
    segment = buffer.entry(1).segment  # type: ignore[union-attr]
    bounds = {seq: _record_bounds(buffer, seq) for seq in payloads}
    buffer.close()
    assert _segments(directory) == [segment.name]
    assert bounds[3][1] == segment.stat().st_size
    return directory, segment, payloads, bounds


def _check_recovery(
    directory: Path, segment: Path, damaged: bytes, at: int, kept: dict[int, bytes], caplog: pytest.LogCaptureFixture,
) -> None:
    """Open after damage at byte `at`: what is kept, what is moved aside, what is logged, and that it still works."""
    original = segment.read_bytes()
    caplog.set_level(logging.INFO, logger=LOGGER)

    buffer = _open(directory, segment_bytes=BIG)

    assert _everything(buffer) == sorted(kept.items())
    moved = directory / "damaged" / f"{segment.stem}.at-{at}.bad"
    assert [p.name for p in (directory / "damaged").iterdir()] == [moved.name]
    assert moved.read_bytes() == damaged == original[at:]
    assert buffer.damaged_bytes == len(damaged)
    if kept:
        assert segment.read_bytes() == original[:at]
    else:
        assert not segment.exists()
    assert buffer.bytes == at  # every byte before the damage is an intact record
    errors = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert segment.name in errors[0].getMessage() and f"byte {at}" in errors[0].getMessage()

    new = _put(buffer, [10, 11])
    assert _everything(buffer) == sorted((kept | new).items())
    buffer.close()
    caplog.clear()
    again = _open(directory, segment_bytes=BIG)
    assert _everything(again) == sorted((kept | new).items())
    assert again.damaged_bytes == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    again.close()


def test_recovery_truncated_in_a_payload(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory, segment, payloads, bounds = _damaged_setup(tmp_path)
    start, end = bounds[3]
    cut = start + HEADER.size + (end - start - HEADER.size) // 2
    torn = segment.read_bytes()[start:cut]
    with open(segment, "r+b") as f:
        f.truncate(cut)
    _check_recovery(directory, segment, torn, start, {1: payloads[1], 2: payloads[2]}, caplog)


def test_recovery_truncated_in_a_header(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory, segment, payloads, bounds = _damaged_setup(tmp_path)
    start, _ = bounds[3]
    cut = start + HEADER.size // 2
    torn = segment.read_bytes()[start:cut]
    with open(segment, "r+b") as f:
        f.truncate(cut)
    _check_recovery(directory, segment, torn, start, {1: payloads[1], 2: payloads[2]}, caplog)


def test_recovery_checksum_mismatch_in_a_middle_record(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory, segment, payloads, bounds = _damaged_setup(tmp_path)
    start, end = bounds[2]
    data = bytearray(segment.read_bytes())
    data[start + HEADER.size + 5] ^= 0x40
    segment.write_bytes(bytes(data))
    # Everything from the bad record on is moved aside, batch 3 with it: nothing after
    # a record that cannot be trusted is read as if it could.
    _check_recovery(directory, segment, bytes(data[start:]), start, {1: payloads[1]}, caplog)


def test_recovery_garbage_after_valid_records(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory, segment, payloads, bounds = _damaged_setup(tmp_path)
    garbage = bytes(range(256)) * 2
    with open(segment, "ab") as f:
        f.write(garbage)
    _check_recovery(directory, segment, garbage, bounds[3][1], payloads, caplog)


def test_recovery_short_garbage_after_valid_records(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory, segment, payloads, bounds = _damaged_setup(tmp_path)
    garbage = b"\x00" * 7  # shorter than a header: zero-filled blocks a crash can leave
    with open(segment, "ab") as f:
        f.write(garbage)
    _check_recovery(directory, segment, garbage, bounds[3][1], payloads, caplog)


def test_recovery_whole_segment_of_garbage(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "buffer"
    junk = directory / f"{1:020d}.seg"
    directory.mkdir()
    garbage = b"this is not a buffer segment\n" * 40
    junk.write_bytes(garbage)
    _check_recovery(directory, junk, garbage, 0, {}, caplog)
    assert _segments(directory) == [f"{10:020d}.seg"]


def test_recovery_garbage_segment_between_good_ones(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "buffer"
    buffer = _open(directory, segment_bytes=1024)
    payloads = _put(buffer, range(1, 13))
    segment_of = {seq: buffer.entry(seq).segment for seq in payloads}  # type: ignore[union-attr]
    buffer.close()
    segments = sorted(set(segment_of.values()))
    assert len(segments) >= 3
    middle = segments[1]
    garbage = b"\xff" * middle.stat().st_size
    middle.write_bytes(garbage)
    caplog.set_level(logging.INFO, logger=LOGGER)

    again = _open(directory, segment_bytes=1024)

    kept = {seq: p for seq, p in payloads.items() if segment_of[seq] != middle}
    assert _everything(again) == sorted(kept.items())
    assert (directory / "damaged" / f"{middle.stem}.at-0.bad").read_bytes() == garbage
    assert not middle.exists()
    assert again.damaged_bytes == len(garbage)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and middle.name in errors[0] and "byte 0" in errors[0]
    again.close()
