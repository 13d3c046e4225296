"""Every check reads a metric, labels and trap events that the agent really produces.

The sources are the agent's own code run for real (the host poller on this
machine, the buffer status poller, the scheduler turning a failed poll into
data) and the shipped SNMP profiles, so renaming a metric in a poller or a
profile breaks this test instead of silently blinding a check.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path

import pytest

import checks
from agent.buffer import DurableBuffer
from agent.config import HostPoller as HostConfig
from agent.pollers.buffer_status import BufferStatusPoller
from agent.pollers.host import HostPoller
from agent.pollers.snmp.profiles import load_profiles
from agent.samples import Poll
from agent.scheduler import Scheduler
from checks.rules import OnEvent
from checks.spec import Check

Produced = dict[str, set[str]]   # metric → every label name it is sent with


def _snmp(produced: Produced, events: dict[str, set[str]]) -> None:
    for profile in load_profiles().profiles.values():
        for group in (*profile.scalars.values(), *profile.tables.values()):
            for metric in group.metrics:
                labels = {metric.relabel.get(name, name) for name in group.labels} - {None}
                produced[metric.metric] |= labels | set(metric.labels) | {"index"}  # `index` on coinciding rows
        for trap in profile.traps.values():
            events[trap.event] |= set(trap.fields)


def _polls(produced: Produced, polls: list[Poll]) -> None:
    for poll in polls:
        for metric, labels, _ in poll.samples:
            produced[metric] |= {key for key, _ in labels}


class _Failing:
    kind, device_id, interval_s, timeout_s = "snmp", "sw-1", 60.0, 1.0

    async def poll(self) -> Poll:
        raise TimeoutError


async def _failed_poll() -> Poll:
    """What the scheduler sends for a poll that failed."""
    sent: list[Poll] = []
    task = asyncio.create_task(Scheduler([_Failing()], sent.append, jitter=0.0).run())  # type: ignore[list-item]
    while not sent:
        await asyncio.sleep(0.01)
    task.cancel()
    return sent[0]


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Produced, dict[str, set[str]]]:
    metrics: Produced = defaultdict(set)
    events: dict[str, set[str]] = defaultdict(set)
    _snmp(metrics, events)
    host = HostPoller(HostConfig(device_id="test-host", interval=1.0, timeout=5.0))
    buffer_dir: Path = tmp_path_factory.mktemp("buffer")
    buffer = DurableBuffer(buffer_dir, max_bytes=64 * 1024, max_age_s=0, segment_bytes=16 * 1024)
    _polls(metrics, [host.collect(), host.collect(), asyncio.run(BufferStatusPoller(buffer, "test-host", 30.0).poll()),
                     asyncio.run(_failed_poll())])
    buffer.close()
    return metrics, events


LIBRARY = checks.library()


@pytest.mark.parametrize("check", LIBRARY.values(), ids=list(LIBRARY))
def test_the_check_reads_what_the_agent_sends(check: Check, produced: tuple[Produced, dict[str, set[str]]]) -> None:
    metrics, events = produced
    applies = check.applies
    if isinstance(check.rule, OnEvent):
        assert applies.metric == "snmp_trap"
        for name in (*check.rule.fires, *check.rule.clears):
            assert name in events, f"{check.id}: no profile sends a trap named {name!r}"
            assert set(applies.instance) <= events[name], f"{check.id}: trap {name} has no field {applies.instance}"
        return
    assert applies.metric in metrics, f"{check.id}: nothing sends {applies.metric}"
    wanted = set(applies.instance) | {key for key, _ in applies.labels}
    if applies.only_if:
        assert applies.only_if[0] in metrics, f"{check.id}: nothing sends {applies.only_if[0]}"
    assert wanted <= metrics[applies.metric], f"{check.id}: {applies.metric} has labels {metrics[applies.metric]}"


def test_every_instance_label_a_metric_has_is_part_of_the_instance(produced: tuple[Produced, dict[str, set[str]]]) -> None:
    """Two series of one device that a check reads as one instance would interleave in one state machine."""
    metrics, _ = produced
    identity_free = {"alias", "device", "fstype", "index"}   # follow another label, or only split coinciding rows
    for check in LIBRARY.values():
        if isinstance(check.rule, OnEvent):
            continue
        fixed = {key for key, _ in check.applies.labels}
        distinguishing = metrics[check.applies.metric] - identity_free - fixed
        assert distinguishing <= set(check.applies.instance), f"{check.id}: {distinguishing - set(check.applies.instance)}"
