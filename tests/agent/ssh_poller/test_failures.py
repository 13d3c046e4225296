"""When SSH polling goes wrong: unreachable, refused logins, a changed host key, a device that hangs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import pollers
from agent.config import SshPoller, load
from agent.pollers.ssh.poller import SshDevicePoller
from agent.samples import Poll
from agent.scheduler import Scheduler
from agent.ssh.pool import SessionPool
from agent.ssh.types import SshError
from protos.vigil.v1 import agent_pb2 as pb
from tests.peers.proxy import FlakyLink
from tests.peers.sshd import Sshd, free_tcp_port

pytestmark = pytest.mark.integration


def _values(polls: list[Poll], device: str, metric: str) -> list[tuple[tuple[tuple[str, str], ...], float]]:
    return [(labels, value) for poll in polls if poll.device == device for name, labels, value in poll.samples
            if name == metric]


def test_unreachable_and_refused_logins_are_up_0_with_their_kind(sshd: Sshd, tmp_path: Path) -> None:
    devices = {
        "gone": sshd.device("gone", poll=True, port=free_tcp_port()),              # nothing listens there
        "wrong-password": sshd.device("wrong-password", poll=True, private_key=None, password="not-it"),
        "ok": sshd.device("ok", poll=True),
    }
    polls: list[Poll] = []

    async def main() -> None:
        async with SessionPool(devices, tmp_path) as pool:
            gate = asyncio.Semaphore(4)
            ssh = [SshDevicePoller(d, pool, SshPoller(interval=10, timeout=5), gate) for d in devices.values()]
            task = asyncio.create_task(Scheduler(ssh, polls.append, jitter=0).run())
            while len(polls) < 3:                                  # one poll each, at once (no jitter)
                await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    assert {value for _, value in _values(polls, "gone", "vigil_poll_up")} == {0.0}
    assert (("kind", "unreachable"), ("poller", "ssh")) in dict(_values(polls, "gone", "vigil_poll_error_info"))
    assert (("kind", "auth"), ("poller", "ssh")) in dict(_values(polls, "wrong-password", "vigil_poll_error_info"))
    assert not [p for p in polls if p.device != "ok" and len(p.samples) > 2]      # nothing but up and the error
    assert {value for _, value in _values(polls, "ok", "vigil_poll_up")} == {1.0}
    assert {p.device for p in polls} == set(devices)


@pytest.fixture()
def own_sshd(tmp_path: Path) -> Iterator[Sshd]:
    """An sshd of this test's own: its host key is about to be swapped."""
    with Sshd(tmp_path / "sshd") as peer:
        yield peer


@pytest.fixture()
def fresh_shared() -> Iterator[None]:
    """The agent's shared session pool is per process; each test's agent makes its own."""
    pollers._SHARED.pop("ssh_sessions", None)
    yield
    pollers._SHARED.pop("ssh_sessions", None)


def _agent_config(tmp_path: Path, sshd: Sshd) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(f"""\
agent: {{id: site-a, customer: acme, site: hq}}
collector: {{address: "127.0.0.1:{free_tcp_port()}", insecure: true}}
state_dir: state
pollers:
  host: {{enabled: false}}
  ssh: {{interval: 30s, timeout: 10s}}
devices:
  - id: core-1
    kind: server
    address: 127.0.0.1
    platform: linux
    ssh: {{port: {sshd.port}, username: {sshd.username}, private_key: {sshd.client_key}, poll: true}}
""")
    return path


def test_a_changed_host_key_is_refused_reported_once_and_gives_no_data(
    own_sshd: Sshd, tmp_path: Path, fresh_shared: None
) -> None:
    from agent.runtime import Agent

    config = load(_agent_config(tmp_path, own_sshd))
    log = own_sshd.root / "sshd.log"

    async def main() -> tuple[list[pb.Event], list[str]]:
        agent = Agent(config)
        [poller] = [p for p in agent.scheduler._pollers if p.kind == "ssh"]
        first = await poller.poll()
        assert any(name == "mem_total_bytes" for name, _, _ in first.samples)
        own_sshd.swap_host_key()                                  # same address and port, another machine's key
        logins_before = log.read_text(errors="replace").count("Accepted publickey")
        kinds = []
        for _ in range(3):
            with pytest.raises(SshError) as refused:
                await poller.poll()
            kinds.append(refused.value.kind)
        assert log.read_text(errors="replace").count("Accepted publickey") == logins_before  # no login to the impostor
        events = []
        for _, payload in agent.outbox.after(0, 100):
            events.extend(pb.AgentMessage.FromString(payload).batch.events)
        await pollers.shared("ssh_sessions", lambda: None).close()
        agent.outbox.close()
        return events, kinds

    events, kinds = asyncio.run(main())
    assert kinds == ["host_key_changed"] * 3
    [event] = events                                              # reported once, not at every poll
    assert (event.device, event.source, event.name, event.severity) == ("core-1", "ssh", "host_key_changed", "major")
    assert event.message.startswith("host key changed on core-1 (127.0.0.1:")
    known = (config.state_dir / "ssh_known_hosts").read_text().splitlines()
    assert len(known) == 1                                        # the old key stays trusted: nothing overwritten


def test_a_device_that_hangs_mid_command_times_out_and_the_next_poll_logs_in_again(sshd: Sshd, tmp_path: Path) -> None:
    link = FlakyLink(sshd.port)
    devices = {
        "hangs": sshd.device("hangs", poll=True, port=link.port),
        "steady-1": sshd.device("steady-1", poll=True),
        "steady-2": sshd.device("steady-2", poll=True),
    }
    polls: list[tuple[float, Poll]] = []
    frozen_at: list[float] = []

    def sink(poll: Poll) -> None:
        now = time.monotonic()
        polls.append((now, poll))
        up = dict(((n, l), v) for n, l, v in poll.samples).get(("vigil_poll_up", (("poller", "ssh"),)))
        if poll.device == "hangs" and up == 1.0 and not frozen_at:
            link.freeze()                      # the device hangs from now on, in the middle of its next answer
            frozen_at.append(now)

    async def main() -> None:
        async with SessionPool(devices, tmp_path) as pool:
            gate = asyncio.Semaphore(4)
            ssh = [SshDevicePoller(d, pool, SshPoller(interval=2.5, timeout=2.25), gate) for d in devices.values()]
            task = asyncio.create_task(Scheduler(ssh, sink, jitter=0).run())
            await asyncio.sleep(11.5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    try:
        asyncio.run(main())
    finally:
        link.close()
    hangs = [(at, dict(((n, l), v) for n, l, v in p.samples)) for at, p in polls if p.device == "hangs"]
    ups = [s[("vigil_poll_up", (("poller", "ssh"),))] for _, s in hangs]
    assert frozen_at, f"the device behind the link never answered a poll: {hangs}"
    worked = ups.index(1.0)                                        # the poll after which the device hung
    failed = worked + 1
    assert ups[failed] == 0.0
    assert hangs[failed][1][("vigil_poll_error_info", (("kind", "timeout"), ("poller", "ssh")))] == 1.0
    assert ups[failed + 1] == 1.0                                  # the next poll worked, on a new login
    assert link.connections == 2
    for steady in ("steady-1", "steady-2"):                         # the others kept their schedule meanwhile
        times = [p.ts_ms / 1000 for _, p in polls if p.device == steady]     # when each poll started reading
        assert len(times) >= 4
        assert max(b - a for a, b in zip(times, times[1:])) < 2.5 + 1.0
        assert all(dict(((n, l), v) for n, l, v in p.samples)[("vigil_poll_up", (("poller", "ssh"),))] == 1.0
                   for _, p in polls if p.device == steady)
