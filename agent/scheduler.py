"""Run every poller on its own interval, with jitter, and never let one kill the agent.

Each poller gets its own task and a fixed-rate schedule (ticks at start +
k × interval), so a slow poll delays nobody else and does not drift the
poller's own timeline. A poll that raises or overruns its timeout becomes
data: `vigil_poll_up = 0` and `vigil_poll_error_info{kind=…} = 1` for that
device, plus one log line, instead of a dead task. Missed ticks are skipped,
not queued, so a stuck device cannot cause a burst when it recovers.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable

from agent.pollers import Poller
from agent.samples import Poll, Sample

log = logging.getLogger("vigil.agent.scheduler")

Sink = Callable[[Poll], None]


class Scheduler:
    def __init__(self, pollers: list[Poller], sink: Sink, jitter: float = 0.1) -> None:
        self._pollers = pollers
        self._sink = sink
        self._jitter = jitter
        self.polls = 0
        self.failures = 0

    async def run(self) -> None:
        """Poll until cancelled. With no pollers it idles: the agent still serves its stream."""
        if not self._pollers:
            log.warning("no pollers enabled: this agent sends heartbeats only")
            await asyncio.Event().wait()
        async with asyncio.TaskGroup() as group:
            for poller in self._pollers:
                group.create_task(self._loop(poller), name=f"poll-{poller.kind}-{poller.device_id}")

    async def _loop(self, poller: Poller) -> None:
        loop = asyncio.get_running_loop()
        interval = poller.interval_s
        next_at = loop.time() + random.uniform(0, self._jitter * interval)
        last_error = ""
        while True:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            last_error = await self._poll_once(poller, last_error)
            next_at += interval
            now = loop.time()
            if next_at <= now:
                missed = int((now - next_at) // interval) + 1
                next_at += missed * interval
                log.warning("%s poller for %s overran: skipped %d tick(s)", poller.kind, poller.device_id, missed)

    async def _poll_once(self, poller: Poller, last_error: str) -> str:
        started = time.perf_counter()
        labels = (("poller", poller.kind),)
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
            # cancellation that arrives as the poll completes, and then the
            # agent would not stop on SIGTERM.
            async with asyncio.timeout(poller.timeout_s):
                poll = await poller.poll()
        except Exception as exc:  # noqa: BLE001 - any failure of a poller is data, not a crash
            self.failures += 1
            # A poller's own errors say their kind (SnmpError.kind: "timeout", "auth", "bad_reply").
            kind = getattr(exc, "kind", None) or ("timeout" if isinstance(exc, TimeoutError) else type(exc).__name__)
            error = f"{kind}: {exc}" if str(exc) else kind
            if error != last_error:  # one line per change, not one per tick
                log.error("%s poller for %s failed: %s", poller.kind, poller.device_id, error)
            samples: list[Sample] = [
                ("vigil_poll_up", labels, 0.0),
                ("vigil_poll_error_info", (("kind", kind), ("poller", poller.kind)), 1.0),
            ]
            self._sink(Poll(poller.device_id, int(time.time() * 1000), samples))
            return error
        self.polls += 1
        if last_error:
            log.info("%s poller for %s recovered", poller.kind, poller.device_id)
        poll.samples.append(("vigil_poll_up", labels, 1.0))
        poll.samples.append(("vigil_poll_duration_seconds", labels, time.perf_counter() - started))
        self._sink(poll)
        return ""
