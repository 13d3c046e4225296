"""The agent's own host, read with psutil.

The psutil calls are blocking and one of them (`statvfs` on a hung NFS mount)
can block for minutes, so a collection runs in a worker thread and the
scheduler's timeout abandons it; the event loop, and every other poller,
carries on. Metric names follow README "Metric names": `measurement_field`
with the unit last, so `cpu_usage_percent` is measurement `cpu`, field
`usage_percent` in InfluxDB, as Telegraf users expect.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING, Any

import psutil

from agent.pollers import register
from agent.rates import CounterRates
from agent.samples import NO_LABELS, Labels, Poll, Sample

if TYPE_CHECKING:
    from agent.config import AgentConfig, HostPoller as HostConfig

# Filesystems that hold no user data: counting them would fill reports with
# 100 %-full tmpfs and squashfs snaps.
PSEUDO_FSTYPES = frozenset(
    "autofs binfmt_misc bpf cgroup cgroup2 configfs debugfs devpts devtmpfs efivarfs fusectl "
    "fuse.lxcfs fuse.gvfsd-fuse hugetlbfs iso9660 mqueue nsfs overlay proc pstore ramfs "
    "rpc_pipefs securityfs selinuxfs squashfs sysfs tmpfs tracefs udf".split()
)
# Block devices that are not disks.
_SKIP_DISK_PREFIXES = ("loop", "ram", "zram", "fd", "sr")


class PollBusy(RuntimeError):
    """The previous collection has not returned yet; do not start another thread."""


class HostPoller:
    kind = "host"

    def __init__(self, config: HostConfig) -> None:
        self.device_id = config.device_id
        self.interval_s = config.interval
        self.timeout_s = config.timeout
        self._config = config
        self._rates = CounterRates()
        self._cpu_before: dict[str, Any] | None = None
        self._inflight: asyncio.Future[Poll] | None = None
        self._ignore_fstypes = PSEUDO_FSTYPES | set(config.ignore_fstypes)
        self._label_cache: dict[tuple[str, str], Labels] = {}

    async def poll(self) -> Poll:
        if self._inflight is not None and not self._inflight.done():
            raise PollBusy("the previous collection is still running (a hung mount?)")
        self._inflight = asyncio.get_running_loop().run_in_executor(None, self.collect)
        # Shielded: the scheduler's timeout must not mark the still-running
        # thread as finished, or the next tick would start a second one.
        return await asyncio.shield(self._inflight)

    def collect(self) -> Poll:
        now = time.time()
        samples: list[Sample] = []
        self._cpu(samples)
        self._system(samples, now)
        self._memory(samples)
        self._filesystems(samples)
        self._disk_io(samples, now)
        self._network(samples, now)
        if self._config.temperatures:
            self._temperatures(samples)
        return Poll(self.device_id, int(now * 1000), samples)

    def _label(self, key: str, value: str) -> Labels:
        labels = self._label_cache.get((key, value))
        if labels is None:
            labels = self._label_cache[(key, value)] = ((key, value),)
        return labels

    def _cpu(self, out: list[Sample]) -> None:
        now = {"cpu-total": psutil.cpu_times()}
        if self._config.per_cpu:
            for index, times in enumerate(psutil.cpu_times(percpu=True)):
                now[f"cpu{index}"] = times
        before, self._cpu_before = self._cpu_before, now
        if before is None:
            return
        for name, times in now.items():
            previous = before.get(name)
            if previous is None:
                continue
            # Clamped: Linux's iowait counter can step backwards (psutil clamps too).
            deltas = [max(0.0, b - a) for a, b in zip(previous, times)]
            fields = times._fields
            total = sum(deltas)
            # guest and guest_nice are already inside user and nice: count them once.
            for name_ in ("guest", "guest_nice"):
                if name_ in fields:
                    total -= deltas[fields.index(name_)]
            if total <= 0:
                continue
            idle = deltas[fields.index("idle")]
            iowait = deltas[fields.index("iowait")] if "iowait" in fields else 0.0
            labels = self._label("cpu", name)
            out.append(("cpu_usage_percent", labels, 100.0 * (total - idle - iowait) / total))
            out.append(("cpu_iowait_percent", labels, 100.0 * iowait / total))
            if name == "cpu-total":
                out.append(("cpu_user_percent", labels, 100.0 * deltas[fields.index("user")] / total))
                out.append(("cpu_system_percent", labels, 100.0 * deltas[fields.index("system")] / total))

    def _system(self, out: list[Sample], now: float) -> None:
        load1, load5, load15 = os.getloadavg()
        out.append(("system_load1", NO_LABELS, load1))
        out.append(("system_load5", NO_LABELS, load5))
        out.append(("system_load15", NO_LABELS, load15))
        out.append(("system_n_cpus", NO_LABELS, float(psutil.cpu_count() or 0)))
        out.append(("system_uptime_seconds", NO_LABELS, now - psutil.boot_time()))
        out.append(("processes_total", NO_LABELS, float(len(psutil.pids()))))

    def _memory(self, out: list[Sample]) -> None:
        memory = psutil.virtual_memory()
        out.append(("mem_total_bytes", NO_LABELS, float(memory.total)))
        out.append(("mem_available_bytes", NO_LABELS, float(memory.available)))
        out.append(("mem_used_bytes", NO_LABELS, float(memory.total - memory.available)))
        out.append(("mem_used_percent", NO_LABELS, memory.percent))
        swap = psutil.swap_memory()
        out.append(("swap_total_bytes", NO_LABELS, float(swap.total)))
        out.append(("swap_used_bytes", NO_LABELS, float(swap.used)))
        out.append(("swap_used_percent", NO_LABELS, swap.percent))

    def _filesystems(self, out: list[Sample]) -> None:
        seen: set[str] = set()
        for part in psutil.disk_partitions(all=False):
            if part.fstype in self._ignore_fstypes or part.mountpoint in self._config.ignore_mounts:
                continue
            if part.mountpoint in seen:
                continue
            seen.add(part.mountpoint)
            try:
                st = os.statvfs(part.mountpoint)
            except OSError:
                continue  # unmounted between listing and reading: not an error worth a sample
            used = (st.f_blocks - st.f_bfree) * st.f_frsize
            free = st.f_bavail * st.f_frsize  # what a non-root user can still write
            labels = (("device", part.device), ("fstype", part.fstype), ("path", part.mountpoint))
            out.append(("disk_total_bytes", labels, float(st.f_blocks * st.f_frsize)))
            out.append(("disk_used_bytes", labels, float(used)))
            out.append(("disk_free_bytes", labels, float(free)))
            out.append(("disk_used_percent", labels, 100.0 * used / (used + free) if used + free else 0.0))
            if st.f_files:
                inodes_used = st.f_files - st.f_ffree
                out.append(("disk_inodes_used_percent", labels, 100.0 * inodes_used / st.f_files))

    def _disk_io(self, out: list[Sample], now: float) -> None:
        for name, io in (psutil.disk_io_counters(perdisk=True) or {}).items():
            if name.startswith(_SKIP_DISK_PREFIXES):
                continue
            fields = [
                ("diskio_reads_per_second", io.read_count, 1.0),
                ("diskio_writes_per_second", io.write_count, 1.0),
                ("diskio_read_bytes_per_second", io.read_bytes, 1.0),
                ("diskio_write_bytes_per_second", io.write_bytes, 1.0),
            ]
            if hasattr(io, "busy_time"):  # ms busy per s / 10 = percent of the time busy
                fields.append(("diskio_busy_percent", io.busy_time, 0.1))
            self._rates_of(out, self._label("name", name), name, fields, now)

    def _network(self, out: list[Sample], now: float) -> None:
        ignore = self._config.ignore_interfaces
        for name, io in psutil.net_io_counters(pernic=True).items():
            if name in ignore:
                continue
            fields = [
                ("net_recv_bits_per_second", io.bytes_recv, 8.0),
                ("net_sent_bits_per_second", io.bytes_sent, 8.0),
                ("net_recv_packets_per_second", io.packets_recv, 1.0),
                ("net_sent_packets_per_second", io.packets_sent, 1.0),
                ("net_errors_in_per_second", io.errin, 1.0),
                ("net_errors_out_per_second", io.errout, 1.0),
                ("net_drops_in_per_second", io.dropin, 1.0),
                ("net_drops_out_per_second", io.dropout, 1.0),
            ]
            self._rates_of(out, self._label("interface", name), name, fields, now)

    def _rates_of(
        self, out: list[Sample], labels: Labels, name: str, fields: list[tuple[str, int, float]], now: float
    ) -> None:
        """Append `metric = rate(counter) × scale` for each field that has a rate yet."""
        rate = self._rates.rate
        for metric, counter, scale in fields:
            value = rate((metric, name), counter, now)
            if value is not None:
                out.append((metric, labels, value * scale))

    def _temperatures(self, out: list[Sample]) -> None:
        try:
            chips = psutil.sensors_temperatures()
        except (AttributeError, OSError):
            return  # no sensors interface on this host
        for chip, readings in chips.items():
            for index, reading in enumerate(readings):
                sensor = reading.label or f"temp{index + 1}"
                out.append(
                    ("sensors_temperature_celsius", (("chip", chip), ("sensor", sensor)), reading.current)
                )


@register("host")
def build(config: AgentConfig) -> list[HostPoller]:
    return [HostPoller(config.pollers.host)]
