"""The agent's account of its own durable buffer, as metrics of the host device.

Heartbeats tell the collector the same numbers for `vigil agents`; as
metrics they are also kept over time, so a report can show "site X lost
12:00–12:40 to buffer overflow" months later, and a check can watch the
backlog grow. Always on: it costs a few dict reads per interval.
"""

from __future__ import annotations

import time

from agent.buffer import DurableBuffer
from agent.samples import NO_LABELS, Poll


class BufferStatusPoller:
    kind = "buffer"

    def __init__(self, buffer: DurableBuffer, device_id: str, interval_s: float) -> None:
        self.device_id = device_id
        self.interval_s = interval_s
        self.timeout_s = interval_s
        self._buffer = buffer

    async def poll(self) -> Poll:
        buffer, now_ms = self._buffer, int(time.time() * 1000)
        oldest = buffer.oldest_ts_ms()
        dropped = buffer.dropped
        samples = [
            ("vigil_buffer_batches", NO_LABELS, float(len(buffer))),
            ("vigil_buffer_points", NO_LABELS, float(buffer.points)),
            ("vigil_buffer_bytes", NO_LABELS, float(buffer.bytes)),
            ("vigil_buffer_oldest_age_seconds", NO_LABELS, max(0.0, (now_ms - oldest) / 1000) if oldest else 0.0),
            ("vigil_buffer_dropped_points_total", NO_LABELS, float(dropped.points)),
            ("vigil_buffer_damaged_bytes_total", NO_LABELS, float(buffer.damaged_bytes)),
        ]
        if dropped.points:
            samples.append(("vigil_buffer_dropped_from_seconds", NO_LABELS, dropped.from_ms / 1000))
            samples.append(("vigil_buffer_dropped_to_seconds", NO_LABELS, dropped.to_ms / 1000))
        return Poll(self.device_id, now_ms, samples)
