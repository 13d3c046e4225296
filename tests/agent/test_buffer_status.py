"""agent/pollers/buffer_status.py: the buffer's account as metrics."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from agent.buffer import DurableBuffer
from agent.pollers.buffer_status import BufferStatusPoller


def test_status_reports_backlog_age_and_drops(tmp_path: Path) -> None:
    buffer = DurableBuffer(tmp_path / "buffer", max_bytes=64 * 1024, max_age_s=0, segment_bytes=16 * 1024)
    now = int(time.time() * 1000)
    for seq in range(1, 40):  # 39 × ~2 KiB: the oldest overflow the 64 KiB limit
        buffer.put(seq, b"x" * 2000, 10, now - 60_000 + seq, now - 60_000 + seq)
    poll = asyncio.run(BufferStatusPoller(buffer, "host-1", 30.0).poll())
    values = {metric: value for metric, _, value in poll.samples}
    assert poll.device == "host-1"
    assert values["vigil_buffer_batches"] == len(buffer) and values["vigil_buffer_bytes"] == buffer.bytes
    assert values["vigil_buffer_points"] == 10 * len(buffer)
    assert 59 < values["vigil_buffer_oldest_age_seconds"] < 120
    assert values["vigil_buffer_dropped_points_total"] == buffer.dropped.points > 0
    assert values["vigil_buffer_dropped_from_seconds"] == buffer.dropped.from_ms / 1000
    buffer.close()
