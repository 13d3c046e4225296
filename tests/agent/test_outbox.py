"""agent/outbox.py: bounded, ordered, cumulative acks, and counted loss."""

from __future__ import annotations

import logging

import pytest

from agent.outbox import Outbox, Pending
from protos.vigil.v1 import agent_pb2 as pb


def _pending(seq: int, points: int, from_ms: int, to_ms: int) -> Pending:
    message = pb.AgentMessage()
    message.batch.seq = seq
    return Pending(message, points, from_ms, to_ms)


def _filled(max_batches: int = 100, count: int = 3) -> Outbox:
    """Batches 1..count holding 10, 20, 30 … points, batch n covering [n000, n999] ms."""
    outbox = Outbox(max_batches)
    for seq in range(1, count + 1):
        outbox.put(seq, _pending(seq, 10 * seq, seq * 1000, seq * 1000 + 999))
    return outbox


def test_put_counts_batches_and_points() -> None:
    outbox = _filled()
    assert len(outbox) == 3
    assert outbox.points == 60
    assert outbox.oldest() == 1
    assert outbox.dropped.points == 0


def test_ack_is_cumulative() -> None:
    outbox = _filled()
    outbox.changed.clear()
    assert outbox.ack(2) == 2
    assert outbox.changed.is_set()
    assert len(outbox) == 1 and outbox.points == 30 and outbox.oldest() == 3
    assert outbox.ack(2) == 0  # a repeated ack releases nothing
    assert outbox.ack(0) == 0
    assert outbox.ack(99) == 1
    assert len(outbox) == 0 and outbox.points == 0 and outbox.oldest() == 0
    assert outbox.dropped.points == 0  # acked is delivered, not dropped


def test_full_outbox_drops_the_oldest_and_accounts_for_it(caplog: pytest.LogCaptureFixture) -> None:
    outbox = _filled(max_batches=2, count=2)
    with caplog.at_level(logging.WARNING, logger="vigil.agent.outbox"):
        outbox.put(3, _pending(3, 30, 3000, 3999))
    assert len(outbox) == 2 and outbox.oldest() == 2
    assert outbox.points == 50
    assert (outbox.dropped.points, outbox.dropped.from_ms, outbox.dropped.to_ms) == (10, 1000, 1999)
    assert "dropped batch 1 with 10 points" in caplog.text
    outbox.put(4, _pending(4, 40, 4000, 4999))
    assert [seq for seq, _ in outbox.after(0, 10)] == [3, 4]
    assert outbox.points == 70
    assert (outbox.dropped.points, outbox.dropped.from_ms, outbox.dropped.to_ms) == (30, 1000, 2999)


def test_reject_counts_as_dropped() -> None:
    outbox = _filled()
    outbox.reject(2, "malformed")
    assert [seq for seq, _ in outbox.after(0, 10)] == [1, 3]
    assert outbox.points == 40
    assert (outbox.dropped.points, outbox.dropped.from_ms, outbox.dropped.to_ms) == (20, 2000, 2999)
    outbox.reject(2, "again")  # unknown now: nothing changes
    outbox.reject(42, "never existed")
    assert outbox.points == 40 and outbox.dropped.points == 20


def test_after_returns_up_to_limit_batches_above_seq_in_order() -> None:
    outbox = _filled(count=5)
    assert [seq for seq, _ in outbox.after(1, 2)] == [2, 3]
    assert [seq for seq, _ in outbox.after(0, 100)] == [1, 2, 3, 4, 5]
    assert outbox.after(5, 10) == []
    seq, item = outbox.after(3, 1)[0]
    assert seq == 4 and item.points == 40 and item.message.batch.seq == 4


def test_count_upto_counts_pending_batches_at_or_below_seq() -> None:
    outbox = _filled(count=5)
    assert outbox.count_upto(0) == 0
    assert outbox.count_upto(2) == 2
    assert outbox.count_upto(100) == 5
    outbox.ack(3)
    assert outbox.count_upto(4) == 1


def test_renumber_gives_new_numbers_in_order_and_updates_the_messages() -> None:
    outbox = _filled()
    mapping = outbox.renumber(101)
    assert mapping == {1: 101, 2: 102, 3: 103}
    assert [(seq, item.message.batch.seq, item.points) for seq, item in outbox.after(0, 10)] == [
        (101, 101, 10),
        (102, 102, 20),
        (103, 103, 30),
    ]
    assert outbox.oldest() == 101 and outbox.points == 60
    assert outbox.ack(101) == 1
    assert outbox.oldest() == 102
