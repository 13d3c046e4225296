"""The write side of the collector: group commit on one store thread.

Gateway streams hand decoded batches to `Ingest.enqueue()` and await the
result; one thread takes everything queued since its last transaction and
stores it in the next one. Under load transactions grow (fewer fsyncs per
point); when idle a batch is committed alone, at once. The same thread runs
the rollup and retention jobs between transactions, so SQLite never sees two
writers fight over its lock.

Listeners (`on_stored`) see every stored batch after its commit: this is
where the check engine will attach, evaluating points as they arrive.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Engine

from collector.decode import DecodedBatch
from collector.store import rollup
from collector.store.writer import MetricWriter

log = logging.getLogger("vigil.collector.ingest")

StoredListener = Callable[[DecodedBatch], None]


@dataclass(slots=True)
class StreamState:
    """One agent stream's standing with the writer: once a batch fails, the rest are refused."""

    failed: bool = False


Item = tuple[DecodedBatch, "asyncio.Future[bool]", StreamState]


class Ingest:
    def __init__(
        self,
        engine: Engine,
        *,
        max_batches_per_txn: int = 256,
        max_queued_batches: int = 2048,
        rollup_interval_s: float = 30.0,
        raw_retention_ms: int = 14 * 86_400_000,
        rollup_retention_ms: int = 800 * 86_400_000,
    ) -> None:
        self.engine = engine
        self.writer = MetricWriter(engine)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._queue: asyncio.Queue[Item] = asyncio.Queue(max_queued_batches)
        self._max_per_txn = max_batches_per_txn
        self._rollup_interval_s = rollup_interval_s
        self._raw_retention_ms = raw_retention_ms
        self._rollup_retention_ms = rollup_retention_ms
        self.listeners: list[StoredListener] = []
        self.points_stored = 0
        self.batches_stored = 0
        self.duplicates = 0
        self.transactions = 0

    @property
    def overloaded(self) -> bool:
        """Past three quarters of the queue: ask agents to slow down."""
        return self._queue.qsize() > self._queue.maxsize * 3 // 4

    async def run_in_store(self, function: Callable[..., object], *args: object) -> object:
        """Run `function(*args)` on the store thread, in order with the writes."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def enqueue(self, batch: DecodedBatch, stream: StreamState) -> asyncio.Future[bool]:
        """Queue `batch` behind its stream's earlier batches; the future says if it was stored.

        Await this from the stream's reader, one batch after the other: the
        queue's order is the store's order, and a batch stored before an
        earlier one of the same agent would make the earlier one look like a
        duplicate of an already-stored number.
        """
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        await self._queue.put((batch, future, stream))
        return future

    async def run(self) -> None:
        """The writer loop with the periodic jobs; runs until cancelled."""
        jobs = asyncio.create_task(self._jobs())
        try:
            while True:
                items = [await self._queue.get()]
                while len(items) < self._max_per_txn and not self._queue.empty():
                    items.append(self._queue.get_nowait())
                await self._commit(items)
        finally:
            jobs.cancel()

    async def _commit(self, items: list[Item]) -> None:
        # A stream whose earlier batch failed to store must store nothing after
        # it: a later number committed would raise the agent's high-water mark
        # over the hole, and the resend of the failed batch would be dropped.
        live = []
        for batch, future, stream in items:
            if stream.failed:
                future.set_exception(StoreUnavailable("an earlier batch of this stream was not stored"))
            else:
                live.append((batch, future, stream))
        if not live:
            return
        batches = [batch for batch, _, _ in live]
        try:
            stored = await self.run_in_store(self.writer.write, batches, int(time.time() * 1000))
        except Exception as exc:  # noqa: BLE001 - the database failed: every waiter must hear it
            log.error("storing %d batches failed: %s", len(batches), exc)
            for _, future, stream in live:
                stream.failed = True
                if not future.done():
                    future.set_exception(StoreUnavailable(str(exc)))
            return
        self.transactions += 1
        for (batch, future, _), was_stored in zip(live, stored):  # type: ignore[call-overload]
            if was_stored:
                self.batches_stored += 1
                self.points_stored += batch.points
                for listener in self.listeners:
                    try:
                        listener(batch)
                    except Exception:  # noqa: BLE001 - a listener must not undo a commit
                        log.exception("listener %r failed on batch %d of %s", listener, batch.seq, batch.agent_id)
            else:
                self.duplicates += 1
            if not future.done():
                future.set_result(was_stored)

    async def _jobs(self) -> None:
        last_expiry = 0.0
        while True:
            await asyncio.sleep(self._rollup_interval_s)
            try:
                await self.roll_up_all()
                if time.monotonic() - last_expiry > 600:
                    last_expiry = time.monotonic()
                    raw, hourly = await self.run_in_store(
                        rollup.expire, self.engine, int(time.time() * 1000),
                        self._raw_retention_ms, self._rollup_retention_ms,
                    )  # type: ignore[misc]
                    if raw or hourly:
                        log.info("retention: deleted %d raw blocks and %d hourly rollups", raw, hourly)
            except Exception as exc:  # noqa: BLE001 - try again next interval
                log.error("rollup/retention job failed: %s", exc)

    async def roll_up_all(self) -> int:
        """Fold every block not yet rolled up; returns how many."""
        total = 0
        while True:
            done = await self.run_in_store(rollup.roll_up, self.engine)
            total += int(done)  # type: ignore[call-overload]
            if not done:
                return total

    def close(self) -> None:
        self.executor.shutdown(wait=True)


class StoreUnavailable(RuntimeError):
    """The database refused a write; the batch was not stored and will be resent."""
