"""agent/pollers/host: the agent's own host, read with the real psutil of this machine."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import namedtuple
from typing import Any

import psutil
import pytest

from agent.config import HostPoller as HostConfig
from agent.pollers.host import PSEUDO_FSTYPES, HostPoller, PollBusy
from agent.samples import Poll

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# measurement → what its fields may be called (README "Metric names": measurement_field, unit last).
MEASUREMENTS = {"cpu", "system", "mem", "swap", "disk", "diskio", "net", "processes", "sensors"}
UNITS = ("_percent", "_bytes", "_seconds", "_per_second", "_celsius", "_total", "_cpus", "load1", "load5", "load15")


def _poller(**overrides: Any) -> HostPoller:
    settings: dict[str, Any] = {"device_id": "test-host", "interval": 1.0, "timeout": 5.0}
    settings.update(overrides)
    return HostPoller(HostConfig(**settings))


def _samples(poll: Poll, metric: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: value for name, labels, value in poll.samples if name == metric}


def _label_values(poll: Poll, prefix: str, key: str) -> set[str]:
    return {dict(labels)[key] for name, labels, _ in poll.samples if name.startswith(prefix)}


@pytest.fixture(scope="module")
def two_polls() -> tuple[Poll, Poll]:
    """One poller's first and second collection, 0.2 s apart (module-scoped: psutil is slow-ish)."""
    poller = _poller()
    first = poller.collect()
    time.sleep(0.2)
    return first, poller.collect()


def test_first_collection_has_gauges_but_no_rates(two_polls: tuple[Poll, Poll]) -> None:
    first, _ = two_polls
    assert first.device == "test-host"
    assert abs(first.ts_ms - time.time() * 1000) < 60_000
    names = {name for name, _, _ in first.samples}
    assert not {n for n in names if n.startswith(("cpu_", "net_", "diskio_"))}
    assert _samples(first, "mem_total_bytes")[()] == pytest.approx(psutil.virtual_memory().total)
    assert _samples(first, "system_load1")[()] >= 0.0
    assert _samples(first, "system_n_cpus")[()] == psutil.cpu_count()
    assert _samples(first, "processes_total")[()] > 0
    assert _samples(first, "system_uptime_seconds")[()] > 0
    assert 0.0 <= _samples(first, "mem_used_percent")[()] <= 100.0


def test_root_filesystem_is_reported_with_sorted_labels(two_polls: tuple[Poll, Poll]) -> None:
    first, _ = two_polls
    root = {labels: v for labels, v in _samples(first, "disk_used_percent").items() if dict(labels)["path"] == "/"}
    assert len(root) == 1
    ((labels, used_percent),) = root.items()
    assert [k for k, _ in labels] == ["device", "fstype", "path"]
    assert 0.0 <= used_percent <= 100.0
    assert _samples(first, "disk_total_bytes")[labels] >= _samples(first, "disk_used_bytes")[labels] > 0


def test_second_collection_has_cpu_percentages(two_polls: tuple[Poll, Poll]) -> None:
    _, second = two_polls
    usage = {dict(labels)["cpu"]: value for labels, value in _samples(second, "cpu_usage_percent").items()}
    assert "cpu-total" in usage
    cores = {name for name in usage if name != "cpu-total"}
    assert cores and cores <= {f"cpu{i}" for i in range(len(psutil.cpu_times(percpu=True)))}
    for value in usage.values():
        assert 0.0 <= value <= 100.0
    for metric in ("cpu_iowait_percent", "cpu_user_percent", "cpu_system_percent"):
        assert all(0.0 <= v <= 100.0 for v in _samples(second, metric).values())
    user = _samples(second, "cpu_user_percent")
    assert list(user) == [(("cpu", "cpu-total"),)]  # user/system only for the total


def test_second_collection_has_network_rates_without_loopback(two_polls: tuple[Poll, Poll]) -> None:
    _, second = two_polls
    interfaces = _label_values(second, "net_", "interface")
    if not set(psutil.net_io_counters(pernic=True)) - {"lo"}:
        pytest.skip("this machine has no interface but lo")
    assert interfaces and "lo" not in interfaces
    for name, labels, value in second.samples:
        if name.startswith("net_"):
            assert value >= 0.0, (name, labels)
    assert _label_values(second, "net_recv_bits_per_second", "interface") == interfaces


def test_loopback_is_reported_when_not_ignored() -> None:
    if "lo" not in psutil.net_io_counters(pernic=True):
        pytest.skip("no lo interface here")
    poller = _poller(ignore_interfaces=())
    poller.collect()
    time.sleep(0.05)
    assert "lo" in _label_values(poller.collect(), "net_", "interface")


def test_metric_names_and_labels_follow_the_conventions(two_polls: tuple[Poll, Poll]) -> None:
    for poll in two_polls:
        for name, labels, value in poll.samples:
            assert NAME.match(name), name
            measurement, _, field = name.partition("_")
            assert measurement in MEASUREMENTS and field, name
            assert name.endswith(UNITS), f"{name}: unit last"
            assert list(labels) == sorted(labels), (name, labels)
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in labels)
            assert isinstance(value, float), (name, value)
        series = [(name, labels) for name, labels, _ in poll.samples]
        assert len(series) == len(set(series)), "a series appears twice in one poll"


def test_no_pseudo_filesystems(two_polls: tuple[Poll, Poll]) -> None:
    fstypes = {dict(labels)["fstype"] for labels in _samples(two_polls[0], "disk_total_bytes")}
    assert fstypes
    assert not fstypes & (PSEUDO_FSTYPES | {"tmpfs", "proc", "overlay", "sysfs", "cgroup2", "squashfs"})


def _fake_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    part = namedtuple("sdiskpart", "device mountpoint fstype opts")  # noqa: PYI024 - as psutil's

    def make(device: str, mountpoint: str, fstype: str) -> Any:
        return part(device, mountpoint, fstype, "rw")

    fake = [
        make("/dev/vda", "/", "ext4"),
        make("/dev/vda", "/", "ext4"),  # listed twice (bind mount): reported once
        make("tmpfs", "/dev/shm", "tmpfs"),
        make("proc", "/proc", "proc"),
        make("overlay", "/tmp", "overlay"),
        make("gone", "/no/such/mount", "ext4"),  # unmounted since listing: skipped, not an error
    ]
    monkeypatch.setattr(psutil, "disk_partitions", lambda all=False: fake)


def test_pseudo_duplicate_and_vanished_filesystems_are_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_partitions(monkeypatch)
    poll = _poller(temperatures=False).collect()
    assert list(_samples(poll, "disk_total_bytes")) == [(("device", "/dev/vda"), ("fstype", "ext4"), ("path", "/"))]


@pytest.mark.parametrize("setting", [{"ignore_fstypes": ("ext4",)}, {"ignore_mounts": ("/",)}])
def test_configured_filesystems_are_ignored(monkeypatch: pytest.MonkeyPatch, setting: dict[str, Any]) -> None:
    _fake_partitions(monkeypatch)
    poll = _poller(temperatures=False, **setting).collect()
    assert not [name for name, _, _ in poll.samples if name.startswith("disk_")]


# ------------------------------------------------------------- CPU arithmetic


def _cpu_after(monkeypatch: pytest.MonkeyPatch, before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """cpu-total percentages computed from two fake /proc/stat readings."""
    times = type(psutil.cpu_times())
    readings = iter([before, after])

    def fake_cpu_times(percpu: bool = False) -> Any:
        assert not percpu
        values = next(readings)
        return times(**{f: values.get(f, 0.0) for f in times._fields})

    monkeypatch.setattr(psutil, "cpu_times", fake_cpu_times)
    poller = _poller(per_cpu=False, temperatures=False)
    poller.collect()
    second = poller.collect()
    return {
        name: value
        for name, labels, value in second.samples
        if name.startswith("cpu_") and labels == (("cpu", "cpu-total"),)
    }


def test_cpu_percentages_from_known_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    before = {"user": 100.0, "system": 50.0, "idle": 800.0, "iowait": 10.0}
    after = {"user": 130.0, "system": 60.0, "idle": 850.0, "iowait": 20.0}  # 100 ticks: 30/10/50/10
    cpu = _cpu_after(monkeypatch, before, after)
    assert cpu["cpu_usage_percent"] == pytest.approx(40.0)
    assert cpu["cpu_user_percent"] == pytest.approx(30.0)
    assert cpu["cpu_system_percent"] == pytest.approx(10.0)
    assert cpu["cpu_iowait_percent"] == pytest.approx(10.0)


def test_no_cpu_sample_when_no_time_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    same = {"user": 100.0, "idle": 800.0}
    assert _cpu_after(monkeypatch, same, same) == {}


def test_guest_time_is_not_counted_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    before = {"user": 100.0, "idle": 800.0, "guest": 0.0}
    after = {"user": 150.0, "idle": 850.0, "guest": 50.0}  # 100 ticks: 50 user (all of it a guest), 50 idle
    assert _cpu_after(monkeypatch, before, after)["cpu_usage_percent"] == pytest.approx(50.0)


def test_iowait_going_backwards_gives_no_negative_percentage(monkeypatch: pytest.MonkeyPatch) -> None:
    before = {"user": 100.0, "idle": 800.0, "iowait": 10.0}
    after = {"user": 110.0, "idle": 880.0, "iowait": 5.0}
    cpu = _cpu_after(monkeypatch, before, after)
    assert all(0.0 <= value <= 100.0 for value in cpu.values()), cpu


# ------------------------------------------------------------- poll() and threads


def test_poll_runs_collect_in_a_worker_thread() -> None:
    poller = _poller(temperatures=False)
    threads: list[str] = []
    real_collect = poller.collect

    def collect() -> Poll:
        threads.append(threading.current_thread().name)
        return real_collect()

    poller.collect = collect  # type: ignore[method-assign]
    poll = asyncio.run(poller.poll())
    assert poll.device == "test-host" and poll.samples
    assert threads and threads[0] != threading.main_thread().name


def test_poll_busy_while_the_previous_collection_still_runs() -> None:
    poller = _poller()

    def slow_collect() -> Poll:
        time.sleep(0.3)
        return Poll("test-host", 1, [])

    poller.collect = slow_collect  # type: ignore[method-assign]

    async def scenario() -> None:
        # The scheduler's timeout abandons the first poll; its thread keeps running.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(poller.poll(), 0.05)
        with pytest.raises(PollBusy, match="still running"):
            await poller.poll()
        await asyncio.sleep(0.4)  # the hung collection has returned by now
        assert (await poller.poll()).device == "test-host"

    asyncio.run(scenario())


def test_two_concurrent_polls_the_second_is_busy() -> None:
    poller = _poller()

    def slow_collect() -> Poll:
        time.sleep(0.2)
        return Poll("test-host", 1, [])

    poller.collect = slow_collect  # type: ignore[method-assign]

    async def scenario() -> list[object]:
        first = asyncio.create_task(poller.poll())
        await asyncio.sleep(0.02)
        second = asyncio.create_task(poller.poll())
        return await asyncio.gather(first, second, return_exceptions=True)

    first, second = asyncio.run(scenario())
    assert isinstance(first, Poll)
    assert isinstance(second, PollBusy)


def test_registered_factory_builds_one_host_poller(tmp_path: Any) -> None:
    from agent import config as agent_config, pollers

    path = tmp_path / "agent.yaml"
    path.write_text(
        "agent: {id: a1, customer: c, site: s}\n"
        "collector: {address: 'c:1', insecure: true}\n"
        "pollers: {host: {device_id: box-1, interval: 15s}}\n"
    )
    built = pollers.build(agent_config.load(path))
    assert len(built) == 1
    (poller,) = built
    assert isinstance(poller, HostPoller)
    assert (poller.kind, poller.device_id, poller.interval_s, poller.timeout_s) == ("host", "box-1", 15.0, 10.0)
