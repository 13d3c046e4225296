"""The Linux SSH poller against Debian's OpenSSH sshd on this machine, beside the agent's own psutil poller.

sshd runs here, so the server polled over SSH and the host psutil reads are
the same machine at the same moment: the figures must agree (exactly for
sizes that do not move, within a tolerance for what changes between two
reads a few milliseconds apart).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from agent.config import HostPoller as HostConfig
from agent.config import SshPoller
from agent.pollers.host import HostPoller
from agent.pollers.ssh.poller import SshDevicePoller
from agent.samples import Poll
from agent.ssh.pool import SessionPool
from tests.peers.sshd import Sshd

pytestmark = pytest.mark.integration


def _by_name(poll: Poll) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for name, labels, value in poll.samples:
        out.setdefault(name, {})[labels] = value
    return out


def test_linux_over_ssh_agrees_with_the_host_poller(sshd: Sshd, tmp_path: Path) -> None:
    host = HostPoller(HostConfig(device_id="here", temperatures=False))

    async def main() -> tuple[Poll, Poll]:
        async with SessionPool({"srv-1": sshd.device("srv-1", poll=True)}, tmp_path) as pool:
            poller = SshDevicePoller(sshd.device("srv-1", poll=True), pool, SshPoller(), asyncio.Semaphore(1))
            await poller.poll()
            host.collect()
            await asyncio.sleep(1.0)
            remote = await poller.poll()
            local = host.collect()
            return remote, local

    remote_poll, local_poll = asyncio.run(main())
    remote, local = _by_name(remote_poll), _by_name(local_poll)
    # The same series: names and label sets (interfaces, disks, filesystems, CPUs).
    assert set(remote) - {"systemd_units_failed", "systemd_unit_failed"} == set(local)
    for name in local:
        assert set(remote[name]) == set(local[name]), name
    # Sizes that do not move are exact.
    for name in ("mem_total_bytes", "swap_total_bytes", "system_n_cpus", "disk_total_bytes"):
        assert remote[name] == local[name], name
    # What moves between two reads a moment apart agrees within a tolerance.
    for labels, used in local["disk_used_bytes"].items():
        assert remote["disk_used_bytes"][labels] == pytest.approx(used, abs=256 * 1024**2)
    assert remote["mem_available_bytes"][()] == pytest.approx(local["mem_available_bytes"][()], rel=0.05)
    assert remote["mem_used_percent"][()] == pytest.approx(local["mem_used_percent"][()], abs=5.0)
    for name in ("system_load1", "system_load5", "system_load15"):
        assert remote[name][()] == pytest.approx(local[name][()], abs=0.5)
    assert remote["system_uptime_seconds"][()] == pytest.approx(local["system_uptime_seconds"][()], abs=5.0)
    assert remote["processes_total"][()] == pytest.approx(local["processes_total"][()], abs=30)
    for labels, busy in remote["cpu_usage_percent"].items():
        assert 0.0 <= busy <= 100.0 and 0.0 <= local["cpu_usage_percent"][labels] <= 100.0
    assert remote["cpu_usage_percent"][(("cpu", "cpu-total"),)] == pytest.approx(
        local["cpu_usage_percent"][(("cpu", "cpu-total"),)], abs=35.0)        # the same second, give or take the test


def test_one_exec_per_poll_on_a_session_kept_open(sshd: Sshd, tmp_path: Path) -> None:
    device = sshd.device("srv-1", poll=True)
    log = sshd.root / "sshd.log"

    def logins() -> int:
        return log.read_text(errors="replace").count("Accepted publickey")

    async def main() -> None:
        async with SessionPool({"srv-1": device}, tmp_path) as pool:
            poller = SshDevicePoller(device, pool, SshPoller(), asyncio.Semaphore(1))
            await poller.poll()
            before = logins()
            started = time.perf_counter()
            for _ in range(3):
                await poller.poll()
                assert [command for command, _, _ in poller.last_commands] == ["linux poll script"]
            assert (time.perf_counter() - started) / 3 < 1.0
            assert pool.open_sessions() == ["srv-1"]
            assert logins() == before                 # no new login: the session stayed open between polls

    asyncio.run(main())
