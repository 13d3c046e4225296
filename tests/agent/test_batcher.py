"""agent/batcher.py: polls grouped into columnar, numbered batches."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from agent.batcher import Batcher
from types import SimpleNamespace

from agent.buffer import DurableBuffer
from agent.samples import NO_LABELS, Poll, labels
from agent.sequence import SequenceAllocator
from protos import serieskey
from protos.vigil.v1 import agent_pb2 as pb


def _batcher(tmp_path: Path, max_points: int = 1000, max_delay_s: float = 60.0) -> tuple[Batcher, DurableBuffer]:
    outbox = DurableBuffer(tmp_path / "buffer", max_bytes=64 * 1024 * 1024, max_age_s=0)
    return Batcher(outbox, SequenceAllocator(tmp_path), max_points, max_delay_s), outbox


def _pending(outbox: DurableBuffer, seq: int, payload: bytes) -> SimpleNamespace:
    """A buffered batch as the test reads it: its parsed message and the buffer's account of it."""
    entry = outbox.entry(seq)
    assert entry is not None
    message = pb.AgentMessage.FromString(payload)
    return SimpleNamespace(message=message, points=entry.points, min_ts_ms=entry.min_ts_ms, max_ts_ms=entry.max_ts_ms)


def _all(outbox: DurableBuffer) -> list[tuple[int, SimpleNamespace]]:
    return [(seq, _pending(outbox, seq, payload)) for seq, payload in outbox.after(0, 100)]


def _only(outbox: DurableBuffer) -> tuple[int, SimpleNamespace]:
    items = _all(outbox)
    assert len(items) == 1
    return items[0]


def test_points_are_grouped_into_series_with_packed_columns(tmp_path: Path) -> None:
    batcher, outbox = _batcher(tmp_path)
    eth0, eth1 = labels(interface="eth0"), labels(interface="eth1")
    batcher.add(Poll("h1", 1000, [("net_recv_bits_per_second", eth0, 1.0), ("net_recv_bits_per_second", eth1, 2.0)]))
    batcher.add(Poll("h1", 2000, [("net_recv_bits_per_second", eth0, 3.0), ("system_load1", NO_LABELS, 0.5)]))
    batcher.add(Poll("h2", 2000, [("system_load1", NO_LABELS, 7.0)]))
    assert batcher.points == 5 and len(outbox) == 0
    seq = batcher.flush()
    assert seq == 1 and batcher.points == 0
    _, pending = _only(outbox)
    assert (pending.points, pending.min_ts_ms, pending.max_ts_ms) == (5, 1000, 2000)
    series = list(serieskey.iter_series(pending.message.batch))
    assert series == [  # first-seen order
        ("h1", "net_recv_bits_per_second", (("interface", "eth0"),), [1000, 2000], [1.0, 3.0]),
        ("h1", "net_recv_bits_per_second", (("interface", "eth1"),), [1000], [2.0]),
        ("h1", "system_load1", (), [2000], [0.5]),
        ("h2", "system_load1", (), [2000], [7.0]),
    ]


def test_labels_are_encoded_sorted_by_key(tmp_path: Path) -> None:
    batcher, outbox = _batcher(tmp_path)
    disk = labels(path="/", fstype="ext4", device="/dev/sda1")
    assert [k for k, _ in disk] == ["device", "fstype", "path"]
    batcher.add(Poll("h1", 1000, [("disk_used_percent", disk, 42.0)]))
    batcher.flush()
    ((_, _, series_labels, _, _),) = serieskey.iter_series(_only(outbox)[1].message.batch)
    assert series_labels == (("device", "/dev/sda1"), ("fstype", "ext4"), ("path", "/"))


def test_empty_polls_and_empty_flushes_cost_nothing(tmp_path: Path) -> None:
    batcher, outbox = _batcher(tmp_path)
    batcher.add(Poll("h1", 1000, []))
    assert batcher.points == 0
    assert batcher.flush() is None
    assert len(outbox) == 0
    batcher.add(Poll("h1", 1000, [("x_y", NO_LABELS, 1.0)]))
    assert batcher.flush() == 1  # the empty flush did not use up a number


def test_batch_closes_when_it_reaches_max_points(tmp_path: Path) -> None:
    batcher, outbox = _batcher(tmp_path, max_points=4)
    batcher.add(Poll("h1", 1000, [("a_b", NO_LABELS, 1.0)] * 3))
    assert len(outbox) == 0 and batcher.points == 3
    batcher.add(Poll("h1", 2000, [("a_b", NO_LABELS, 2.0)] * 2))
    assert len(outbox) == 1 and batcher.points == 0
    assert _only(outbox)[1].points == 5


def test_sequence_numbers_are_assigned_in_order(tmp_path: Path) -> None:
    batcher, outbox = _batcher(tmp_path)
    seqs = []
    for i in range(3):
        batcher.add(Poll("h1", 1000 * i, [("a_b", NO_LABELS, float(i))]))
        seqs.append(batcher.flush())
    assert seqs == [1, 2, 3]
    assert [(s, p.message.batch.seq) for s, p in _all(outbox)] == [(1, 1), (2, 2), (3, 3)]


def test_each_batch_reports_its_own_time_range(tmp_path: Path) -> None:
    batcher, outbox = _batcher(tmp_path)
    batcher.add(Poll("h1", 5000, [("a_b", NO_LABELS, 1.0)]))
    batcher.flush()
    batcher.add(Poll("slow", 3000, [("a_b", NO_LABELS, 2.0)]))  # a slow poller's late answer
    batcher.flush()
    _, second = _all(outbox)[1]
    assert (second.min_ts_ms, second.max_ts_ms) == (3000, 3000)


def test_serialized_batch_round_trips(tmp_path: Path) -> None:
    batcher, outbox = _batcher(tmp_path)
    before_ms = int(time.time() * 1000)
    batcher.add(Poll("h1", 1_700_000_000_123, [("cpu_usage_percent", labels(cpu="cpu-total"), 12.5)]))
    batcher.add(Poll("h1", 1_700_000_030_123, [("cpu_usage_percent", labels(cpu="cpu-total"), 99.75)]))
    batcher.flush()
    message = _only(outbox)[1].message
    decoded = pb.AgentMessage.FromString(message.SerializeToString())
    assert decoded == message
    assert decoded.WhichOneof("body") == "batch"
    assert decoded.batch.seq == 1
    assert before_ms <= decoded.batch.created_at_ms <= int(time.time() * 1000)
    ((_, _, _, timestamps, values),) = serieskey.iter_series(decoded.batch)
    assert timestamps == [1_700_000_000_123, 1_700_000_030_123]
    assert values == [12.5, 99.75]


def test_run_flushes_after_max_delay(tmp_path: Path) -> None:
    async def wait_for_batches(outbox: DurableBuffer, count: int) -> float:
        deadline = time.monotonic() + 2.0
        while len(outbox) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        return time.monotonic()

    async def scenario() -> list[float]:
        batcher, outbox = _batcher(tmp_path, max_delay_s=0.05)
        runner = asyncio.create_task(batcher.run())
        await asyncio.sleep(0)
        delays = []
        for batch in (1, 2):  # the second batch, opened later, gets its own full delay
            added = time.monotonic()
            batcher.add(Poll("h1", 1000 * batch, [("a_b", NO_LABELS, 1.0)]))
            assert len(outbox) == batch - 1  # not flushed on add
            delays.append(await wait_for_batches(outbox, batch) - added)
            assert len(outbox) == batch
        assert not runner.done()  # run() keeps going until cancelled
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        return delays

    for delay in asyncio.run(scenario()):
        assert 0.045 <= delay < 1.0


def test_an_event_closes_the_open_batch_at_once(tmp_path: Path) -> None:
    batcher, outbox = _batcher(tmp_path)
    batcher.add(Poll("sw1", 1000, [("net_oper_up", labels(interface="ge0/1"), 1.0)]))
    batcher.add_event(pb.Event(device="sw1", at_ms=1500, source="snmp_trap", name="link_down", severity="major"))
    _, pending = _only(outbox)
    assert (pending.points, pending.min_ts_ms, pending.max_ts_ms) == (1, 1000, 1500)
    assert [e.name for e in pending.message.batch.events] == ["link_down"]
    assert batcher.points == 0

    batcher.add_event(pb.Event(device="", at_ms=2000, source="snmp_trap", name="cold_start", severity="warning"))
    (_, first), (_, second) = _all(outbox)
    assert (second.points, second.min_ts_ms, second.max_ts_ms) == (0, 2000, 2000)
    assert list(second.message.batch.series_keys) == [] and second.message.batch.events[0].name == "cold_start"
    assert batcher.flush() is None  # nothing left open
