"""VictoriaMetrics is stopped for 30 s during steady ingest: nothing lost, nothing doubled, acks as fast.

The real write path runs in one event loop, as in the collector: `Ingest`
with its group-commit store thread (SQLite, synchronous=FULL, rollups every
second), the sink's runner beside it. A producer enqueues a batch every
100 ms the way the gateway does for an agent and times each one from
`enqueue` to the store's answer — the moment the agent's ack would be sent.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import pytest

from collector.ingest import Ingest, StreamState
from tests.collector.sinks.conftest import open_store, runner_for, sink_config
from tests.collector.sinks.test_victoria import expected_points
from tests.collector.store.helpers import T0, batch
from tests.peers.victoria import VictoriaMetrics

pytestmark = pytest.mark.integration

OUTAGE_S = 30.0
STEADY_S = 3.0
BATCH_EVERY_S = 0.1


def _batch(seq: int):  # type: ignore[no-untyped-def]
    stamps = [T0 + seq * 1000 + k * 100 for k in range(5)]
    series = [("host-1", "vigil_poll_duration_seconds", {"poller": f"p{i:02d}"}, stamps, [seq + i / 8 + k / 64 for k in range(5)])
              for i in range(20)]
    series.append(("host-1", "mem_total_bytes", {}, stamps[:1], [8e9 + seq]))
    return batch("a1", seq, series)


def test_outage_of_30s_loses_and_doubles_nothing_and_never_slows_an_ack(tmp_path: Path) -> None:
    engine, _ = open_store(f"sqlite:///{tmp_path / 'vigil.db'}")
    # Raw retention far beyond the test's timestamps (2026): here nothing may expire before it is sent.
    ingest = Ingest(engine, rollup_interval_s=1.0, raw_retention_ms=100 * 365 * 86_400_000)
    victoria = VictoriaMetrics(tmp_path / "victoria").start()
    runner = runner_for(engine, sink_config(victoria.url, flush_interval="200ms", max_retry_interval="1s"))
    latencies: dict[str, list[float]] = {"before": [], "outage": [], "after": []}
    lag_at_end_of_outage = 0.0

    async def produce(seconds: float, phase: str, state: StreamState, seq: int, waits: list[asyncio.Task[None]]) -> int:
        async def timed(started: float, future: asyncio.Future[bool]) -> None:
            assert await future
            latencies[phase].append(time.monotonic() - started)

        end = time.monotonic() + seconds
        while time.monotonic() < end:
            seq += 1
            started = time.monotonic()
            waits.append(asyncio.create_task(timed(started, await ingest.enqueue(_batch(seq), state))))
            await asyncio.sleep(max(0.0, started + BATCH_EVERY_S - time.monotonic()))
        return seq

    async def main() -> int:
        nonlocal lag_at_end_of_outage
        writer = asyncio.create_task(ingest.run())
        sink = asyncio.create_task(runner.run())
        state, waits = StreamState(), []
        try:
            seq = await produce(STEADY_S, "before", state, 0, waits)
            await asyncio.to_thread(victoria.stop)
            seq = await produce(OUTAGE_S, "outage", state, seq, waits)
            await asyncio.sleep(0.5)  # let the status watcher see the last of it
            lag_at_end_of_outage = runner.lag_seconds()
            await asyncio.to_thread(victoria.start)
            seq = await produce(STEADY_S, "after", state, seq, waits)
            await asyncio.gather(*waits)
            deadline = time.monotonic() + 30
            while runner.status is None or runner.status.unsent_points or runner.position[0] < ingest.batches_stored:
                assert time.monotonic() < deadline, f"the sink did not catch up: {runner.status}, {runner.last_error}"
                await asyncio.sleep(0.1)
            return seq
        finally:
            for task in (writer, sink):
                task.cancel()
            await asyncio.gather(writer, sink, return_exceptions=True)

    try:
        batches = asyncio.run(main())
        runner.close()
        ingest.close()
        stored = victoria.points()
        expected = expected_points(engine, ("a1",))
    finally:
        victoria.stop()

    # Every point, once: VictoriaMetrics (unlike InfluxDB) keeps a point sent twice twice, so a resend would show.
    assert len(expected) == batches * 101
    assert stored == expected
    assert runner.retries >= 5, "the sink never noticed the outage"
    assert lag_at_end_of_outage >= OUTAGE_S - 5, f"the lag was {lag_at_end_of_outage:.1f}s at the end of a {OUTAGE_S:.0f}s outage"
    # Acks: as fast during the outage as before it (SQLite fsyncs each commit; the sink is not in that path).
    summary = {phase: (statistics.median(v), max(v)) for phase, v in latencies.items()}
    print("enqueue → stored, median and max seconds:", summary)
    assert len(latencies["outage"]) >= OUTAGE_S / BATCH_EVERY_S * 0.9
    assert summary["outage"][1] < 0.5, f"an ack took {summary['outage'][1]:.3f}s during the outage: {summary}"
    assert summary["outage"][0] < summary["before"][0] * 3 + 0.02, f"acks were slower during the outage: {summary}"
    assert summary["after"][1] < 0.5, f"an ack took {summary['after'][1]:.3f}s while the sink caught up: {summary}"
