"""agent/pollers/ssh/linux.py: the Linux poll script's output read into the host poller's metric names.

Recorded outputs (agent/pollers/ssh/testdata) stand for the machines; the
live comparison with psutil on this very machine is in test_linux_live.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agent.pollers.ssh.linux import LinuxFigures, script, sections

TESTDATA = Path(__file__).resolve().parents[3] / "agent" / "pollers" / "ssh" / "testdata"
RHEL = (TESTDATA / "rhel8-server.txt").read_text()
DEBIAN = (TESTDATA / "debian12-container.txt").read_text()


def _by_name(samples: list[tuple[str, tuple[tuple[str, str], ...], float]]) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for name, labels, value in samples:
        out.setdefault(name, {})[labels] = value
    return out


def _advance(text: str, cpu_ticks: int = 0, uptime: str = "8812394.21", net_bytes: int = 0) -> str:
    """The same machine a minute later: busier CPUs, more traffic."""
    lines = []
    for line in text.split("\n"):
        if line.startswith("cpu"):
            fields = line.split()
            fields[1] = str(int(fields[1]) + cpu_ticks * 3)      # user
            fields[3] = str(int(fields[3]) + cpu_ticks)          # system
            fields[4] = str(int(fields[4]) + cpu_ticks * 6)      # idle
            line = " ".join(fields)
        elif line.startswith("8812334.21"):
            line = f"{uptime} 33012281.45"
        elif line.strip().startswith("ens192:"):
            name, rest = line.split(":", 1)
            fields = rest.split()
            fields[0] = str(int(fields[0]) + net_bytes)
            line = f"{name}: " + " ".join(fields)
        lines.append(line)
    return "\n".join(lines)


def test_gauges_from_a_recorded_server() -> None:
    figures = LinuxFigures()
    got = _by_name(figures.samples(RHEL, 1000.0))
    assert got["mem_total_bytes"][()] == 16266368 * 1024
    assert got["mem_available_bytes"][()] == 9123456 * 1024
    assert got["mem_used_bytes"][()] == (16266368 - 9123456) * 1024
    assert got["mem_used_percent"][()] == 43.9                      # psutil rounds to one decimal
    assert got["swap_used_bytes"][()] == (4194300 - 3145724) * 1024
    assert got["swap_used_percent"][()] == 25.0
    assert got["system_load1"][()] == 3.12 and got["system_load15"][()] == 2.44
    assert got["system_n_cpus"][()] == 4
    assert got["system_uptime_seconds"][()] == 8812334.21
    assert got["processes_total"][()] == 311
    root = (("device", "/dev/mapper/rhel-root"), ("fstype", "xfs"), ("path", "/"))
    assert got["disk_total_bytes"][root] == 52403200 * 1024
    assert got["disk_free_bytes"][root] == 21179856 * 1024          # what a non-root user may still write
    assert got["disk_used_percent"][root] == pytest.approx(100 * 31223344 / (31223344 + 21179856))
    assert got["disk_inodes_used_percent"][root] == pytest.approx(100 * 412233 / 26214400)
    share = (("device", "/dev/mapper/data-share"), ("fstype", "xfs"), ("path", "/srv/file share"))
    assert got["disk_total_bytes"][share] == 209612800 * 1024       # the \040 in /proc/mounts is a space
    assert got["systemd_units_failed"][()] == 2
    assert set(got["systemd_unit_failed"]) == {(("unit", "kdump.service"),), (("unit", "nfs-server.service"),)}
    # Counters have no rate on the first poll, CPU shares need two.
    assert not [name for name in got if name.startswith(("cpu_", "net_", "diskio_"))]


def test_rates_and_cpu_shares_on_the_second_poll() -> None:
    figures = LinuxFigures()
    figures.samples(RHEL, 1000.0)
    got = _by_name(figures.samples(_advance(RHEL, cpu_ticks=100, net_bytes=6_000_000), 1060.0))
    total = (("cpu", "cpu-total"),)
    # user 300 + system 100 + idle 600 ticks per CPU line: busy = 40 %.
    assert got["cpu_usage_percent"][total] == pytest.approx(40.0)
    assert got["cpu_user_percent"][total] == pytest.approx(30.0)
    assert got["cpu_system_percent"][total] == pytest.approx(10.0)
    assert got["cpu_iowait_percent"][total] == 0.0
    assert set(got["cpu_usage_percent"]) == {total, *((("cpu", f"cpu{i}"),) for i in range(4))}
    ens = (("interface", "ens192"),)
    assert got["net_recv_bits_per_second"][ens] == pytest.approx(6_000_000 * 8 / 60)
    assert got["net_sent_bits_per_second"][ens] == 0.0
    assert (("interface", "lo"),) not in got["net_recv_bits_per_second"]          # ignored, as the host poller
    assert {dict(labels)["name"] for labels in got["diskio_reads_per_second"]} == {"sda", "sda1", "dm-0"}  # no loop, sr


def test_io_ticks_wrap_at_32_bits_and_a_reboot_gives_no_rates() -> None:
    figures = LinuxFigures()
    figures.samples(RHEL, 1000.0)
    wrapped = _advance(RHEL).replace("0 4294967000 11233441", "0 704 11233441")    # io_ticks passed 2**32
    got = _by_name(figures.samples(wrapped, 1010.0))
    assert got["diskio_busy_percent"][(("name", "sda"),)] == pytest.approx((2**32 - 4294967000 + 704) / 10 * 0.1)
    rebooted = _advance(RHEL, uptime="30.5")
    got = _by_name(figures.samples(rebooted, 1020.0))
    assert figures.rebooted
    assert not [name for name in got if name.startswith(("cpu_", "net_", "diskio_"))]
    assert got["system_uptime_seconds"][()] == 30.5


def test_a_container_skips_pseudo_filesystems_and_loop_devices() -> None:
    got = _by_name(LinuxFigures().samples(DEBIAN, 1000.0))
    assert {dict(labels)["fstype"] for labels in got["disk_total_bytes"]} == {"ext4"}
    assert "systemd_units_failed" not in got                         # no systemd in a container
    assert got["system_n_cpus"][()] == 2


def test_output_that_is_not_the_scripts_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks /proc/stat"):
        LinuxFigures().samples("This account is currently not available.\n", 1000.0)


def test_meminfo_without_memavailable_estimates_it_as_psutil_does() -> None:
    old_kernel = RHEL.replace("MemAvailable:    9123456 kB\n", "")
    got = _by_name(LinuxFigures().samples(old_kernel, 1000.0))
    assert got["mem_available_bytes"][()] == (812344 + 212344 + 7812344 + 512344) * 1024


def test_the_script_runs_under_sh_and_marks_every_part() -> None:
    """Run here, as sshd's exec would run it (the agent's own machine is a Linux box too)."""
    text = subprocess.run(["sh", "-c", script(ignore_mounts=("/boot",))], capture_output=True, text=True,
                          timeout=30, check=True).stdout
    parts = sections(text)
    assert {"stat", "meminfo", "loadavg", "uptime", "netdev", "diskstats", "mounts", "df", "dfi", "processes",
            "end"} <= set(parts)
    assert all(line.startswith("cpu") for line in parts["stat"])     # interrupt lines stay on the server
    assert len(parts["meminfo"]) <= 8
    assert not any(line.split()[2] == "/boot" for line in parts["mounts"])
