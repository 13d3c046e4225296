"""Group polls into columnar batches: one `Series` per (device, metric, labels).

A batch closes when it holds `max_points` points or when its oldest point is
`max_delay` old, whichever comes first; then it gets its sequence number and
goes to the durable outbox (written and fsync'd before it can be sent). Series are kept in first-seen order so the same host
yields byte-identical layouts poll after poll.
"""

from __future__ import annotations

import asyncio
import time

from agent.buffer import DurableBuffer
from agent.samples import Labels, Poll
from agent.sequence import SequenceAllocator
from protos.vigil.v1 import agent_pb2 as pb

SeriesKey = tuple[str, str, Labels]


class Batcher:
    def __init__(self, outbox: DurableBuffer, sequence: SequenceAllocator, max_points: int, max_delay_s: float) -> None:
        self._outbox = outbox
        self._sequence = sequence
        self._max_points = max_points
        self._max_delay_s = max_delay_s
        self._series: dict[SeriesKey, tuple[list[int], list[float]]] = {}
        self._points = 0
        self._opened_at: float | None = None
        self._min_ts = 0
        self._max_ts = 0
        self._due = asyncio.Event()

    @property
    def points(self) -> int:
        return self._points

    def add(self, poll: Poll) -> None:
        if not poll.samples:
            return
        series = self._series
        device, ts = poll.device, poll.ts_ms
        for metric, labels, value in poll.samples:
            key = (device, metric, labels)
            columns = series.get(key)
            if columns is None:
                columns = series[key] = ([], [])
            columns[0].append(ts)
            columns[1].append(value)
        self._points += len(poll.samples)
        if self._opened_at is None:
            self._opened_at = time.monotonic()
            self._min_ts = self._max_ts = ts
        self._min_ts = min(self._min_ts, ts)
        self._max_ts = max(self._max_ts, ts)
        if self._points >= self._max_points:
            self.flush()
        else:
            self._due.set()

    def flush(self) -> int | None:
        """Close the open batch, if any; return its sequence number."""
        if not self._points:
            return None
        message = pb.AgentMessage()
        batch = message.batch
        batch.seq = seq = self._sequence.next()
        batch.created_at_ms = int(time.time() * 1000)
        add_series = batch.series.add
        for (device, metric, labels), (timestamps, values) in self._series.items():
            series = add_series(device=device, metric=metric, timestamps_ms=timestamps, values=values)
            for key, value in labels:
                series.labels.add(key=key, value=value)
        self._outbox.put(seq, message.SerializeToString(), self._points, self._min_ts, self._max_ts)
        self._series = {}
        self._points = 0
        self._opened_at = None
        return seq

    async def run(self) -> None:
        """Flush batches that have waited `max_delay`; runs until cancelled."""
        while True:
            await self._due.wait()
            self._due.clear()
            if self._opened_at is None:
                continue
            wait = self._opened_at + self._max_delay_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if self._opened_at is not None and time.monotonic() >= self._opened_at + self._max_delay_s:
                self.flush()
            elif self._opened_at is not None:
                self._due.set()
