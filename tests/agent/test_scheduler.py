"""agent/scheduler.py: every poller on its own schedule; a failing poll becomes data."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from agent.samples import NO_LABELS, Poll
from agent.scheduler import Scheduler

RUN_S = 0.525  # between ticks, so that stopping does not race a poll
INTERVAL_S = 0.05


@dataclass
class FakePoller:
    device_id: str
    behaviour: Callable[[FakePoller], Awaitable[Poll]]
    kind: str = "fake"
    interval_s: float = INTERVAL_S
    timeout_s: float = 1.0
    calls: int = 0
    cancelled: int = 0

    async def poll(self) -> Poll:
        self.calls += 1
        try:
            return await self.behaviour(self)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


async def healthy(poller: FakePoller) -> Poll:
    return Poll(poller.device_id, 1_000, [("fake_value", NO_LABELS, 42.0)])


async def broken(poller: FakePoller) -> Poll:
    raise RuntimeError("device said no")


async def hangs(poller: FakePoller) -> Poll:
    await asyncio.sleep(60)
    raise AssertionError("unreachable")


async def _stop(task: asyncio.Task[None]) -> None:
    """Cancel a scheduler; it must end within a second."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=1.0)
    assert done, "the scheduler did not stop when cancelled"
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _run(pollers: list[FakePoller]) -> tuple[list[Poll], Scheduler, bool]:
    """Run a scheduler for RUN_S; return what reached the sink, and whether it was still running."""
    received: list[Poll] = []

    async def scenario() -> tuple[Scheduler, bool]:
        scheduler = Scheduler(pollers, received.append, jitter=0.0)
        task = asyncio.create_task(scheduler.run())
        await asyncio.sleep(RUN_S)
        alive = not task.done()
        await _stop(task)
        return scheduler, alive

    scheduler, alive = asyncio.run(scenario())
    return received, scheduler, alive


def _by_device(polls: list[Poll], device: str) -> list[Poll]:
    return [p for p in polls if p.device == device]


def _values(poll: Poll) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(name, labels): value for name, labels, value in poll.samples}


def test_healthy_poller_gets_up_and_duration() -> None:
    poller = FakePoller("h1", healthy)
    received, scheduler, alive = _run([poller])
    assert alive
    assert len(received) >= 3  # polled on every tick, not once
    assert scheduler.polls == len(received) and scheduler.failures == 0
    # Fixed rate: about RUN_S / INTERVAL_S ticks, never a burst.
    assert len(received) <= RUN_S / INTERVAL_S + 2
    for poll in received:
        values = _values(poll)
        assert values[("fake_value", ())] == 42.0
        assert values[("vigil_poll_up", (("poller", "fake"),))] == 1.0
        duration = values[("vigil_poll_duration_seconds", (("poller", "fake"),))]
        assert 0.0 <= duration < poller.timeout_s


def test_cancel_arriving_as_a_poll_completes_stops_the_scheduler() -> None:
    received: list[Poll] = []

    async def scenario() -> bool:
        task: asyncio.Task[None] | None = None

        async def stop_while_answering(poller: FakePoller) -> Poll:
            if poller.calls == 2 and task is not None:
                task.cancel()  # SIGTERM arrives just as this device answers
            return await healthy(poller)

        scheduler = Scheduler([FakePoller("h1", stop_while_answering)], received.append, jitter=0.0)
        task = asyncio.create_task(scheduler.run())
        await asyncio.sleep(0.3)
        stopped = task.done()
        await _stop(task)
        return stopped

    assert asyncio.run(scenario()), "the scheduler was still polling after it was cancelled"
    assert len(received) == 2


def test_failing_poller_becomes_data_and_others_keep_polling() -> None:
    bad, good = FakePoller("sw1", broken), FakePoller("h1", healthy)
    received, scheduler, alive = _run([bad, good])
    assert alive  # the agent keeps running
    failed = _by_device(received, "sw1")
    assert len(failed) >= 3 and len(failed) == bad.calls  # it is retried on every tick
    assert len(_by_device(received, "h1")) >= 3
    assert scheduler.failures == bad.calls
    for poll in failed:
        assert poll.samples == [
            ("vigil_poll_up", (("poller", "fake"),), 0.0),
            ("vigil_poll_error_info", (("kind", "RuntimeError"), ("poller", "fake")), 1.0),
        ]
        assert poll.ts_ms > 1_600_000_000_000  # stamped now, in Unix ms


def test_failing_poll_is_logged_once_per_change(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("ERROR", logger="vigil.agent.scheduler"):
        received, _, _ = _run([FakePoller("sw1", broken)])
    assert len(received) >= 3
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["fake poller for sw1 failed: RuntimeError: device said no"]


def test_hanging_poller_times_out_and_others_keep_polling() -> None:
    stuck = FakePoller("ups1", hangs, timeout_s=0.05, interval_s=0.1)
    good = FakePoller("h1", healthy)
    received, _, alive = _run([stuck, good])
    assert alive
    timed_out = _by_device(received, "ups1")
    assert timed_out, "a hung poll must still produce a sample"
    for poll in timed_out:
        values = _values(poll)
        assert values[("vigil_poll_up", (("poller", "fake"),))] == 0.0
        assert values[("vigil_poll_error_info", (("kind", "timeout"), ("poller", "fake")))] == 1.0
    assert stuck.cancelled >= len(timed_out)  # the hung coroutine was cancelled, not leaked
    assert len(_by_device(received, "h1")) >= 3


def test_failure_then_recovery() -> None:
    async def flaky(poller: FakePoller) -> Poll:
        if poller.calls == 1:
            raise ConnectionError("link down")
        return await healthy(poller)

    poller = FakePoller("r1", flaky)
    received, scheduler, _ = _run([poller])
    ups = [_values(p)[("vigil_poll_up", (("poller", "fake"),))] for p in received]
    assert ups[0] == 0.0 and ups[1:] and all(u == 1.0 for u in ups[1:])
    assert ("vigil_poll_error_info", (("kind", "ConnectionError"), ("poller", "fake"))) in _values(received[0])
    assert scheduler.failures == 1
