"""Drive one sink: read its outbox, send, retry, split, dead-letter, move its cursor.

One asyncio task per sink, beside ingest in the collector's event loop; the
blocking work runs on three threads of the sink's own: a reader (store
reads, line formatting, and the sink's `pack()`, i.e. gzip), a sender (HTTP)
and a committer (the cursor's transaction, an fsync on SQLite). While a
batch is being sent the reader already prepares the next ones, and while a
batch's cursor is being committed the next one is already being sent (zlib
and sockets release the GIL). Commits run one at a time, in order, so the
stored cursor only ever moves forward past batches the server took. Nothing
here ever waits on ingest, and ingest never waits on a sink: a server that
is down, slow or refusing only makes the sink's lag grow.

A batch is whole blocks, up to `REQUESTS_PER_BATCH` requests' worth (one
store read and one cursor commit for several requests), formatted block by
block and joined into requests of at most `batch_points` lines at block
boundaries (`cut_requests`; a larger block is cut). Its delivery is a stack
of pending requests:

* sent → next; the cursor moves only once the stack is empty;
* `RetryLater` → the same request again after `Retry-After`, or after an
  exponential backoff with jitter (0.5 s, 1 s, 2 s … up to
  `max_retry_interval`, each drawn from [½, 1] of that);
* `TooLarge` → the request is split in halves, down to single lines;
* `Rejected` → the lines the server named become dead letters (and the rest
  is sent again unless the server stored it); when it named none, the request
  is split in halves until each bad line stands alone;
* a single line still refused becomes a dead letter with the server's reason.

Dead letters are written in the cursor's transaction (see `outbox.commit`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Engine

from collector.sinks import Lines, MetricSink, Rejected, RetryLater, SinkError, TooLarge, text_of
from collector.sinks.outbox import DeadLetter, Outbox, OutboxBatch, SinkStatus, status

log = logging.getLogger("vigil.collector.sinks")
T = TypeVar("T")
Request = tuple[Sequence[bytes], "bytes | None"]  # records, and their packed body (None: pack when sending)

FIRST_RETRY_S = 0.5
REQUESTS_PER_BATCH = 4  # a batch read from the outbox: up to this many full requests (one store read, one cursor commit)
PREPARED_BATCHES = 2  # read and packed ahead of the sender (about 1 MB of text and 0.1 MB packed per 5,000 points)
FAILURE_LOG_INTERVAL_S = 60.0
SERIES_CACHE_S = 600.0  # names are looked up again after this long (a customer renamed, an address changed)


class SinkRunner:
    def __init__(
        self,
        engine: Engine,
        sink: MetricSink,
        *,
        batch_points: int = 5000,
        flush_interval_s: float = 1.0,
        max_retry_interval_s: float = 60.0,
        status_interval_s: float = 5.0,
    ) -> None:
        self.engine = engine
        self.sink = sink
        self.name = sink.name
        self.batch_points = batch_points
        self.flush_interval_s = flush_interval_s
        self.max_retry_interval_s = max_retry_interval_s
        self.status_interval_s = status_interval_s
        self.outbox = Outbox(engine, sink.name, batch_points * REQUESTS_PER_BATCH)
        self._reader = ThreadPoolExecutor(1, thread_name_prefix=f"sink-{sink.name}-read")
        self._sender = ThreadPoolExecutor(1, thread_name_prefix=f"sink-{sink.name}-send")
        self._committer = ThreadPoolExecutor(1, thread_name_prefix=f"sink-{sink.name}-commit")
        # What /metrics shows (this process's counts; the store's view is `status`).
        self.points_sent = 0
        self.requests_sent = 0
        self.retries = 0
        self.skipped = 0
        self.last_success_ms = 0
        self.last_error = ""
        self.status: SinkStatus | None = None
        self.position: tuple[int, int] = (0, 0)  # the committed cursor
        self._failing_since = 0.0
        self._failure_logged = 0.0
        self._logged_status = -1
        self._series_loaded = time.monotonic()
        self._closing = False

    async def run(self) -> None:
        """Send until cancelled."""
        self.position = start = await self._on(self._reader, self.outbox.position)
        log.info("sink %s: sending to %r after block %d", self.name, self.sink, start[0])
        ready: asyncio.Queue[tuple[OutboxBatch, list[Request]]] = asyncio.Queue(PREPARED_BATCHES)
        producer = asyncio.create_task(self._produce(start, ready), name=f"sink-{self.name}-read")
        watcher = asyncio.create_task(self._watch_status(), name=f"sink-{self.name}-status")
        loop = asyncio.get_running_loop()
        try:
            while True:
                batch, requests = await ready.get()
                dead = await self._deliver(requests)
                # Not awaited: the next batch is sent while this cursor is saved (in order, on its own thread).
                loop.run_in_executor(self._committer, self._commit, batch, dead)
        finally:
            producer.cancel()
            watcher.cancel()
            await asyncio.gather(producer, watcher, return_exceptions=True)

    async def _produce(self, after: tuple[int, int], ready: asyncio.Queue[tuple[OutboxBatch, list[Request]]]) -> None:
        """Read and pack batches ahead of the sender; wait `flush_interval` whenever less than a full batch is stored."""
        delay = 0.5
        while True:
            try:
                batch, requests = await self._on(self._reader, self._prepare, after)
            except Exception as exc:  # noqa: BLE001 - the store is busy or down: try again, never end the sink
                log.error("sink %s: cannot read the store (%s: %s); retrying in %.0f s",
                          self.name, exc.__class__.__name__, str(exc).splitlines()[0][:300], delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = 0.5
            if not batch.empty:
                await ready.put((batch, requests))
                after = batch.end
            if not batch.full:
                await asyncio.sleep(self.flush_interval_s)

    def close(self) -> None:
        """After `run()` ended: wait for the threads (an HTTP request in flight ends within its timeout).

        Commits already queued are completed: those batches were delivered.
        """
        self._closing = True
        self._reader.shutdown(wait=True, cancel_futures=True)
        self._sender.shutdown(wait=True, cancel_futures=True)
        self._committer.shutdown(wait=True)
        self.sink.close()

    def _commit(self, batch: OutboxBatch, dead: list[DeadLetter]) -> None:
        """Committer thread: move the cursor past a delivered batch; a store that refuses is tried again."""
        delay = 0.5
        while True:
            try:
                self.outbox.commit(batch, dead)
                self.position = batch.end
                return
            except Exception as exc:  # noqa: BLE001 - the store is busy or down: the batch stays delivered, keep trying
                reason = f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:300]}"
                if self._closing:
                    log.error("sink %s: cannot save its cursor while stopping (%s); blocks after %d will be sent again",
                              self.name, reason, self.position[0])
                    return
                log.error("sink %s: cannot save its cursor (%s); retrying in %.0f s", self.name, reason, delay)
                time.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _on(self, executor: ThreadPoolExecutor, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(executor, function, *args)

    def _prepare(self, after: tuple[int, int]) -> tuple[OutboxBatch, list[Request]]:
        """Reader thread: the next batch, encoded and packed into requests of at most `batch_points` records."""
        if time.monotonic() - self._series_loaded > SERIES_CACHE_S:
            self.outbox.forget_series()
            forget = getattr(getattr(self.sink, "encoder", None), "forget", None)
            if forget:
                forget()
            self._series_loaded = time.monotonic()
        batch = self.outbox.read(after)
        if batch.empty:
            return batch, []
        encoded = self.sink.encode(batch)
        self.skipped += encoded.skipped
        return batch, [(lines, self.sink.pack(lines.text)) for lines in cut_requests(encoded.parts, self.batch_points)]

    def _send(self, chunk: Sequence[bytes], body: bytes | None) -> None:
        """Sender thread: one request (packed here when it is a part the runner split off)."""
        self.sink.send(chunk, self.sink.pack(text_of(chunk)) if body is None else body)

    async def _deliver(self, requests: list[Request]) -> list[DeadLetter]:
        pending: list[Request] = requests[::-1]
        dead: list[DeadLetter] = []
        attempt = 0
        while pending:
            chunk, body = pending[-1]
            try:
                await self._on(self._sender, self._send, chunk, body)
            except RetryLater as exc:
                attempt += 1
                await asyncio.sleep(self._retry(exc, attempt))
                continue
            except TooLarge as exc:
                pending.pop()
                self._split(chunk, exc, pending, dead)
            except Rejected as exc:
                pending.pop()
                if exc.culprits:
                    named = set(exc.culprits)
                    dead.extend(DeadLetter(exc.status, exc.reason, _text(chunk[i])) for i in sorted(named))
                    rest = [line for i, line in enumerate(chunk) if i not in named]
                    if rest and not exc.rest_stored:
                        pending.append((rest, None))
                    log.warning("sink %s: %d line(s) refused (%s); kept as dead letters", self.name, len(named), exc.reason[:300])
                else:
                    self._split(chunk, exc, pending, dead)
            except Exception as exc:  # noqa: BLE001 - a fault in the sink must not end the task: retry
                attempt += 1
                log.exception("sink %s: unexpected failure while sending", self.name)
                await asyncio.sleep(self._retry(RetryLater(f"{exc.__class__.__name__}: {exc}"), attempt))
                continue
            else:
                pending.pop()
                self.points_sent += len(chunk)
                self.requests_sent += 1
                self.last_success_ms = int(time.time() * 1000)
                if attempt or self._failing_since:
                    self._recovered()
                attempt = 0
        return dead

    def _split(self, chunk: Sequence[bytes], exc: SinkError, pending: list[Request], dead: list[DeadLetter]) -> None:
        if len(chunk) == 1:
            dead.append(DeadLetter(exc.status, exc.reason, _text(chunk[0])))
            log.warning("sink %s: a line was refused (%s); kept as a dead letter", self.name, exc.reason[:300])
            return
        middle = len(chunk) // 2
        pending.append((chunk[middle:], None))
        pending.append((chunk[:middle], None))

    def _retry(self, exc: RetryLater, attempt: int) -> float:
        """Count and log a failed attempt; return how long to wait before the next."""
        self.retries += 1
        self.last_error = exc.reason
        if exc.after_s is not None:
            delay = max(exc.after_s, 0.1)
        else:
            ceiling = min(self.max_retry_interval_s, FIRST_RETRY_S * 2 ** min(attempt - 1, 30))
            delay = random.uniform(ceiling / 2, ceiling)
        now = time.monotonic()
        if not self._failing_since:
            self._failing_since = now
        if now - self._failure_logged >= FAILURE_LOG_INTERVAL_S or attempt == 1 or exc.status != self._logged_status:
            self._failure_logged, self._logged_status = now, exc.status
            level = logging.ERROR if exc.config_problem else logging.WARNING
            log.log(level, "sink %s: %s; attempt %d, next in %.1f s%s", self.name, exc.reason[:500], attempt, delay,
                    " (Retry-After)" if exc.after_s is not None else "")
        return delay

    def _recovered(self) -> None:
        if self._failing_since:
            log.info("sink %s: delivering again after %.0f s", self.name, time.monotonic() - self._failing_since)
        self._failing_since = 0.0
        self._failure_logged = 0.0
        self._logged_status = -1
        self.last_error = ""

    async def _watch_status(self) -> None:
        while True:
            try:
                self.status = await asyncio.to_thread(status, self.engine, self.name)
            except Exception as exc:  # noqa: BLE001 - the store may be busy; try again next time
                log.debug("sink %s: status query failed: %s", self.name, exc)
            await asyncio.sleep(self.status_interval_s)

    def lag_seconds(self, now_ms: int | None = None) -> float:
        if self.status is None:
            return 0.0
        return self.status.lag_seconds(int(time.time() * 1000) if now_ms is None else now_ms)


def cut_requests(parts: list[Lines], batch_points: int) -> Iterator[Lines]:
    """Consecutive parts joined into requests of at most `batch_points` records; a larger part is cut."""
    group: list[Lines] = []
    count = 0
    for part in parts:
        if not part.count:
            continue
        if count + part.count > batch_points and group:
            yield Lines.join(group)
            group, count = [], 0
        if part.count > batch_points:
            records = part.records()
            yield from (Lines.of(records[i : i + batch_points]) for i in range(0, len(records), batch_points))
            continue
        group.append(part)
        count += part.count
    if group:
        yield Lines.join(group)


def _text(record: bytes) -> str:
    return record.decode("utf-8", "replace")
