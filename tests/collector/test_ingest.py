"""Group commit keeps each agent's batches in order and never stores past a failed one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from collector.ingest import Ingest, StoreUnavailable, StreamState
from collector.store import database, registry, schema
from tests.collector.store.helpers import T0, batch, hello


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = database.open_store(f"sqlite:///{tmp_path / 'vigil.db'}")
    for agent in ("a1", "a2", "a3"):
        registry.register(engine, hello(agent, "sw1"), "peer", T0)
    return engine


def _marks(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with engine.connect() as c:
        return dict(c.execute(select(schema.agents.c.agent_id, schema.agents.c.last_seq)).all())


def test_a_full_queue_keeps_each_streams_order(tmp_path: Path) -> None:
    """With a tiny queue, many streams wait for slots at once; nothing may overtake its own stream."""
    engine = _engine(tmp_path)
    ingest = Ingest(engine, max_queued_batches=2, max_batches_per_txn=3)

    async def stream(agent: str, count: int) -> list[bool]:
        state, futures = StreamState(), []
        for seq in range(1, count + 1):
            futures.append(await ingest.enqueue(batch(agent, seq, [("sw1", "cpu_usage_percent", {}, [T0 + seq], [1.0])]), state))
        return list(await asyncio.gather(*futures))

    async def main() -> list[list[bool]]:
        writer = asyncio.create_task(ingest.run())
        try:
            return await asyncio.wait_for(asyncio.gather(stream("a1", 60), stream("a2", 40), stream("a3", 40)), 60)
        finally:
            writer.cancel()

    results = asyncio.run(main())
    assert all(all(r) for r in results), "a batch was judged a duplicate: a later one overtook it"
    assert _marks(engine) == {"a1": 60, "a2": 40, "a3": 40}
    assert ingest.points_stored == 140 and ingest.duplicates == 0
    ingest.close()
    engine.dispose()


def test_after_a_failed_commit_the_stream_stores_nothing_more(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _engine(tmp_path)
    ingest = Ingest(engine, max_batches_per_txn=1)
    real_write = ingest.writer.write
    calls = {"n": 0}

    def flaky_write(batches, now_ms):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real_write(batches, now_ms)

    monkeypatch.setattr(ingest.writer, "write", flaky_write)

    async def main() -> list[object]:
        writer = asyncio.create_task(ingest.run())
        try:
            state = StreamState()
            futures = [
                await ingest.enqueue(batch("a1", seq, [("sw1", "mem_used_percent", {}, [T0 + seq], [1.0])]), state)
                for seq in (1, 2, 3, 4)
            ]
            other = await ingest.enqueue(batch("a2", 1, [("sw1", "mem_used_percent", {}, [T0], [1.0])]), StreamState())
            return list(await asyncio.wait_for(asyncio.gather(*futures, other, return_exceptions=True), 30))
        finally:
            writer.cancel()

    first, second, third, fourth, other = asyncio.run(main())
    assert first is True
    assert all(isinstance(r, StoreUnavailable) for r in (second, third, fourth))
    assert other is True, "another agent's stream is not affected"
    # The mark stays at 1: the agent's resend of 2, 3, 4 will be stored, not dropped as duplicates.
    assert _marks(engine)["a1"] == 1
    ingest.close()
    engine.dispose()
