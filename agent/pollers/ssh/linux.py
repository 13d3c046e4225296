"""A Linux server over SSH, measured as the host poller measures the agent's own machine.

One exec per poll runs `SCRIPT`: a single `awk` prints the /proc files the
host poller's psutil calls read (stat, meminfo, loadavg, uptime, net/dev,
diskstats) and the mounts psutil's `disk_partitions(all=False)` would list,
then `df -P` and `df -Pi` run on exactly those mount points, and systemd's
failed units are listed where systemd runs. Each part starts with a marker
line `@@vigil:<part>`.

`LinuxFigures` turns that text into the host poller's metric names and label
sets, computed the same way (agent/pollers/host): CPU shares from tick
deltas with guest time counted once, `mem_used = total − available` with
psutil's rounding, `free` = what a non-root user may still write, counters
turned into rates by `agent.rates.CounterRates`, pseudo filesystems and
loop/ram devices skipped by the host poller's own lists. Two differences,
both for a remote machine: uptime is read from /proc/uptime (the agent's
clock and the server's need not agree), and a reboot (uptime went back)
forgets every counter so no rate spans it.

Only the /proc lines a figure needs cross the wire (awk drops /proc/stat's
interrupt lines, which run to kilobytes on big machines): the agent's CPU
per poll is mostly decryption and parsing, and both scale with the bytes.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from agent.pollers.host import _SKIP_DISK_PREFIXES as SKIP_DISK_PREFIXES
from agent.pollers.host import PSEUDO_FSTYPES
from agent.rates import CounterRates
from agent.samples import NO_LABELS, Labels, Sample

MARK = "@@vigil:"
SECTOR_BYTES = 512          # /proc/diskstats counts 512-byte sectors whatever the disk's own size (as psutil)
DF_TIMEOUT_S = 10           # a hung NFS mount must not hang the poll: df is cut, the rest is kept
_PROC_FILES = ("/proc/stat", "/proc/meminfo", "/proc/loadavg", "/proc/uptime", "/proc/net/dev", "/proc/diskstats")
# awk prints the /proc files, each after a marker, /proc/stat cut to its cpu lines and /proc/meminfo to
# what the figures need; then the mounts psutil's disk_partitions(all=False) keeps (a device, a filesystem
# type /proc/filesystems lists without "nodev", or zfs) minus those the poller ignores, as
# "device fstype path" with /proc's octal escapes (\040) kept; then runs df -P and df -Pi on exactly
# those mount points (decoded and quoted), each under `timeout` where there is one.
_AWK = r"""
BEGIN { n = split(skipfs, a, ","); for (i = 1; i <= n; i++) skip[a[i]] = 1
        n = split(skipmnt, b, ","); for (i = 1; i <= n; i++) skipm[b[i]] = 1 }
FNR == 1 && FILENAME ~ /^.proc.(stat|meminfo|loadavg|uptime|net.dev|diskstats)$/ { print "@@vigil:" FILENAME }
FILENAME == "/proc/stat" { if ($1 ~ /^cpu/) print; next }
FILENAME == "/proc/meminfo" { if ($1 ~ /^(MemTotal|MemFree|MemAvailable|Buffers|Cached|SReclaimable|SwapTotal|SwapFree):$/) print; next }
FILENAME == "/proc/filesystems" { if ($1 == "nodev") { if ($2 == "zfs") fs["zfs"] = 1 } else fs[$1] = 1; next }
FILENAME ~ /mounts$/ {
    if (FNR == 1) print "@@vigil:mounts"
    if ($1 == "none" || ($3 in fs) == 0 || ($3 in skip) || ($2 in skipm) || ($2 in done)) next
    done[$2] = 1; print $1 " " $3 " " $2
    p = $2; gsub(/\\040/, " ", p); gsub(/\\011/, "\t", p); gsub(/\\012/, "\n", p); gsub(/\\134/, "\\", p)
    gsub(/'/, "'\\''", p); args = args " '" p "'"
    next
}
{ print }
END {
    print "@@vigil:df"; fflush(); if (args != "") system(t "df -P" args " 2>/dev/null")
    print "@@vigil:dfi"; fflush(); if (args != "") system(t "df -Pi" args " 2>/dev/null")
}
"""


def script(ignore_fstypes: Iterable[str] = (), ignore_mounts: Iterable[str] = ()) -> str:
    """The one command a poll runs, for /bin/sh whatever the user's login shell is."""
    skip_fs = ",".join(sorted(PSEUDO_FSTYPES | set(ignore_fstypes)))
    skip_mounts = ",".join(m.replace(" ", "\\040") for m in ignore_mounts)
    awk = (f"awk -v t=\"$T\" -v skipfs={shlex.quote(skip_fs)} -v skipmnt={shlex.quote(skip_mounts)} "
           f"{shlex.quote(_AWK.strip())} {' '.join(_PROC_FILES)} /proc/filesystems /proc/self/mounts")
    body = (
        f"export LC_ALL=C; T=; command -v timeout >/dev/null 2>&1 && T='timeout {DF_TIMEOUT_S} '; {awk}; "
        "set -- /proc/[0-9]*; echo @@vigil:processes; echo $#; "
        "if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then echo @@vigil:units; "
        "systemctl list-units --state=failed --no-legend --plain --no-pager 2>/dev/null; fi; "
        "echo @@vigil:end"
    )
    return f"exec /bin/sh -c {shlex.quote(body)}"


def sections(text: str) -> dict[str, list[str]]:
    """The script's output by part: `stat`, `meminfo`, … (the file name's last part), `mounts`, `df`, …"""
    parts: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        if line.startswith(MARK):
            name = line[len(MARK):].strip()
            name = {"/proc/net/dev": "netdev"}.get(name, name.rsplit("/", 1)[-1])
            current = parts.setdefault(name, [])
        elif current is not None and line:
            current.append(line)
    return parts


def _unescape(path: str) -> str:
    """/proc/mounts' octal escapes (`\\040` for a space) decoded, as getmntent does."""
    if "\\" not in path:
        return path
    out, i = [], 0
    while i < len(path):
        if path[i] == "\\" and len(path[i + 1:i + 4]) == 3 and path[i + 1:i + 4].isdigit():
            out.append(chr(int(path[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(path[i])
            i += 1
    return "".join(out)


class LinuxFigures:
    """One server's polls → samples; keeps its counters and CPU ticks between polls."""

    def __init__(self, per_cpu: bool = True, ignore_interfaces: Iterable[str] = ("lo",)) -> None:
        self.per_cpu = per_cpu
        self.ignore_interfaces = frozenset(ignore_interfaces)
        self._rates = CounterRates()
        self._cpu_before: dict[str, list[int]] | None = None
        self._uptime: float | None = None
        self._labels: dict[tuple[str, str], Labels] = {}
        self.rebooted = False

    def _label(self, key: str, value: str) -> Labels:
        labels = self._labels.get((key, value))
        if labels is None:
            if len(self._labels) > 10_000:
                self._labels.clear()
            labels = self._labels[(key, value)] = ((key, value),)
        return labels

    def samples(self, text: str, at_s: float) -> list[Sample]:
        """Every figure in one poll's output; raises ValueError when the output is not the script's."""
        parts = sections(text)
        if "end" not in parts or "stat" not in parts or "meminfo" not in parts:
            raise ValueError("the poll's output lacks /proc/stat, /proc/meminfo or its end mark "
                             "(not a Linux host, or a login shell that printed something else)")
        out: list[Sample] = []
        self._uptime_and_reboot(parts.get("uptime", []), out)
        self._cpu(parts["stat"], out)
        self._system(parts, out)
        self._memory(parts["meminfo"], out)
        self._filesystems(parts.get("mounts", []), parts.get("df", []), parts.get("dfi", []), out)
        self._disk_io(parts.get("diskstats", []), at_s, out)
        self._network(parts.get("netdev", []), at_s, out)
        if "units" in parts:
            self._units(parts["units"], out)
        return out

    def _uptime_and_reboot(self, lines: list[str], out: list[Sample]) -> None:
        self.rebooted = False
        if not lines:
            return
        uptime = float(lines[0].split()[0])
        if self._uptime is not None and uptime < self._uptime:
            self.rebooted = True
            self._rates.forget()
            self._cpu_before = None
        self._uptime = uptime
        out.append(("system_uptime_seconds", NO_LABELS, uptime))

    def _cpu(self, lines: list[str], out: list[Sample]) -> None:
        now: dict[str, list[int]] = {}
        for line in lines:
            fields = line.split()
            name = fields[0]
            if name == "cpu":
                name = "cpu-total"
            elif not self.per_cpu:
                continue
            now[name] = [int(v) for v in fields[1:11]]
        before, self._cpu_before = self._cpu_before, now
        if before is None:
            return
        for name, ticks in now.items():
            previous = before.get(name)
            if previous is None or len(previous) != len(ticks):
                continue
            # As the host poller: clamped deltas (iowait can step back), guest time counted once.
            deltas = [max(0, b - a) for a, b in zip(previous, ticks)]
            total = sum(deltas) - sum(deltas[8:10])
            if total <= 0:
                continue
            idle = deltas[3]
            iowait = deltas[4] if len(deltas) > 4 else 0
            labels = self._label("cpu", name)
            out.append(("cpu_usage_percent", labels, 100.0 * (total - idle - iowait) / total))
            out.append(("cpu_iowait_percent", labels, 100.0 * iowait / total))
            if name == "cpu-total":
                out.append(("cpu_user_percent", labels, 100.0 * deltas[0] / total))
                out.append(("cpu_system_percent", labels, 100.0 * deltas[2] / total))

    def _system(self, parts: dict[str, list[str]], out: list[Sample]) -> None:
        loadavg = parts.get("loadavg")
        if loadavg:
            load1, load5, load15 = (float(v) for v in loadavg[0].split()[:3])
            out.append(("system_load1", NO_LABELS, load1))
            out.append(("system_load5", NO_LABELS, load5))
            out.append(("system_load15", NO_LABELS, load15))
        cpus = sum(1 for line in parts["stat"] if line.startswith("cpu") and not line.startswith("cpu "))
        out.append(("system_n_cpus", NO_LABELS, float(cpus)))
        processes = parts.get("processes")
        if processes and processes[0].strip().isdigit():
            count = int(processes[0])
            # An empty glob stays unexpanded and counts 1: no /proc/<pid> at all is 0 processes.
            out.append(("processes_total", NO_LABELS, float(count)))

    def _memory(self, lines: list[str], out: list[Sample]) -> None:
        mem: dict[str, int] = {}
        for line in lines:
            fields = line.split()
            if len(fields) >= 2 and fields[1].isdigit():
                mem[fields[0].rstrip(":")] = int(fields[1]) * 1024
        total = mem.get("MemTotal")
        if not total:
            return
        free = mem.get("MemFree", 0)
        available = mem.get("MemAvailable", 0)
        if not available:   # kernels before 3.14 (psutil estimates it alike, from free and the caches)
            available = free + mem.get("Buffers", 0) + mem.get("Cached", 0) + mem.get("SReclaimable", 0)
        if available > total:       # inside some containers (psutil does the same)
            available = free
        out.append(("mem_total_bytes", NO_LABELS, float(total)))
        out.append(("mem_available_bytes", NO_LABELS, float(available)))
        out.append(("mem_used_bytes", NO_LABELS, float(total - available)))
        out.append(("mem_used_percent", NO_LABELS, round(100.0 * (total - available) / total, 1)))
        swap_total = mem.get("SwapTotal", 0)
        swap_used = swap_total - mem.get("SwapFree", 0)
        out.append(("swap_total_bytes", NO_LABELS, float(swap_total)))
        out.append(("swap_used_bytes", NO_LABELS, float(swap_used)))
        out.append(("swap_used_percent", NO_LABELS, round(100.0 * swap_used / swap_total, 1) if swap_total else 0.0))

    def _filesystems(self, mounts: list[str], df: list[str], dfi: list[str], out: list[Sample]) -> None:
        space = _df_rows(df)
        inodes = _df_rows(dfi)
        seen: set[str] = set()
        for line in mounts:
            fields = line.split(" ")
            if len(fields) != 3:
                continue
            device, fstype, path = _unescape(fields[0]), fields[1], _unescape(fields[2])
            if path in seen or path not in space:
                continue
            seen.add(path)
            blocks, used, available = space[path]
            total, used, free = blocks * 1024, used * 1024, available * 1024
            labels = (("device", device), ("fstype", fstype), ("path", path))
            out.append(("disk_total_bytes", labels, float(total)))
            out.append(("disk_used_bytes", labels, float(used)))
            out.append(("disk_free_bytes", labels, float(free)))
            out.append(("disk_used_percent", labels, 100.0 * used / (used + free) if used + free else 0.0))
            files = inodes.get(path)
            if files and files[0]:
                out.append(("disk_inodes_used_percent", labels, 100.0 * files[1] / files[0]))

    def _disk_io(self, lines: list[str], at_s: float, out: list[Sample]) -> None:
        rate = self._rates.rate
        for line in lines:
            fields = line.split()
            if len(fields) < 14:
                continue
            name = fields[2]
            if name.startswith(SKIP_DISK_PREFIXES):
                continue
            labels = self._label("name", name)
            for metric, counter, scale, width in (
                ("diskio_reads_per_second", fields[3], 1.0, 64),
                ("diskio_writes_per_second", fields[7], 1.0, 64),
                ("diskio_read_bytes_per_second", fields[5], SECTOR_BYTES, 64),
                ("diskio_write_bytes_per_second", fields[9], SECTOR_BYTES, 64),
                ("diskio_busy_percent", fields[12], 0.1, 32),      # io_ticks, ms: an unsigned int in the kernel
            ):
                value = rate((metric, name), int(counter), at_s, width)
                if value is not None:
                    out.append((metric, labels, value * scale))

    def _network(self, lines: list[str], at_s: float, out: list[Sample]) -> None:
        rate = self._rates.rate
        for line in lines:
            name, colon, rest = line.partition(":")
            if not colon or "|" in rest:        # the two header lines
                continue
            name = name.strip()
            if name in self.ignore_interfaces:
                continue
            fields = rest.split()
            if len(fields) < 16:
                continue
            labels = self._label("interface", name)
            for metric, index, scale in (
                ("net_recv_bits_per_second", 0, 8.0), ("net_sent_bits_per_second", 8, 8.0),
                ("net_recv_packets_per_second", 1, 1.0), ("net_sent_packets_per_second", 9, 1.0),
                ("net_errors_in_per_second", 2, 1.0), ("net_errors_out_per_second", 10, 1.0),
                ("net_drops_in_per_second", 3, 1.0), ("net_drops_out_per_second", 11, 1.0),
            ):
                value = rate((metric, name), int(fields[index]), at_s)
                if value is not None:
                    out.append((metric, labels, value * scale))

    def _units(self, lines: list[str], out: list[Sample]) -> None:
        failed = []
        for line in lines:
            fields = line.replace("●", " ").split()
            if fields and "." in fields[0]:
                failed.append(fields[0])
        out.append(("systemd_units_failed", NO_LABELS, float(len(failed))))
        for unit in failed:
            out.append(("systemd_unit_failed", (("unit", unit[:200]),), 1.0))


def _df_rows(lines: list[str]) -> dict[str, tuple[int, int, int]]:
    """`df -P` (or `-Pi`) lines by mount point → (total, used, available) in KiB blocks (or inodes)."""
    rows: dict[str, tuple[int, int, int]] = {}
    for line in lines:
        fields = line.split(None, 5)
        if len(fields) < 6 or not fields[1].isdigit():
            continue                                   # the header, or an error message
        try:
            rows[fields[5]] = (int(fields[1]), int(fields[2]), int(fields[3]))
        except ValueError:
            continue
    return rows
