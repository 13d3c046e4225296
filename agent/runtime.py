"""Wire the agent's parts together and run them until asked to stop.

    pollers ─► scheduler ─► batcher ─► durable buffer ─► transport ─► collector
                                          ▲                      │
                                          └──────── acks ────────┘
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from typing import TYPE_CHECKING

from agent import __version__, logsetup, pollers
from agent.batcher import Batcher
from agent.config import AgentConfig
from agent.buffer import DurableBuffer
from agent.pollers.buffer_status import BufferStatusPoller
from agent.scheduler import Scheduler
from agent.sequence import SequenceAllocator
from agent.transport import PROTOCOL, Transport
from protos.vigil.v1 import agent_pb2 as pb

if TYPE_CHECKING:
    from agent.diagnosis import PlaybookRunner
    from agent.ssh.pool import SessionPool

log = logging.getLogger("vigil.agent")
DRAIN_ON_STOP_S = 5.0


def hello_for(config: AgentConfig, outbox: DurableBuffer) -> pb.Hello:
    """What the collector learns about this agent: identity and inventory, never credentials."""
    hello = pb.Hello(
        agent_id=config.agent.id,
        customer=config.agent.customer,
        site=config.agent.site,
        agent_version=__version__,
        protocol=PROTOCOL,
        capabilities=[f"poll.{kind}" for kind in pollers.enabled_kinds(config)],
        hostname=socket.gethostname(),
        oldest_unacked_seq=outbox.oldest(),
    )
    # The agent's own machine is always a device: its buffer status is reported on it.
    hello.devices.add(
        id=config.pollers.host.device_id, name=socket.gethostname(), kind="host", platform="linux",
        pollers=["host"] if config.pollers.host.enabled else [],
    )
    if config.pollers.synthetic.enabled:
        hello.devices.add(
            id=config.pollers.synthetic.device_id, name="synthetic load", kind="other", pollers=["synthetic"]
        )
    for device in config.devices:
        hello.devices.add(
            id=device.id, name=device.name or device.id, kind=device.kind, address=device.address,
            platform=device.platform, labels=device.labels,
            pollers=[*(["snmp"] if device.snmp else []), *(["ssh"] if device.ssh and device.ssh.poll else [])],
        )
    return hello


def secrets_of(config: AgentConfig) -> list[str]:
    """Every credential in the config: registered with the log filter so no line can show one."""
    users = list(config.pollers.snmp.traps.users)
    found = list(config.pollers.snmp.traps.communities)
    for device in config.devices:
        if device.snmp is not None:
            found.append(device.snmp.community)
            users.extend([device.snmp.user] if device.snmp.user else [])
    for user in users:
        found += [user.auth_key, user.priv_key]
    logins = [*config.ssh_credentials.values(), *(d.ssh for d in config.devices if d.ssh is not None)]
    for login in logins:
        found += [login.password, login.passphrase, login.enable_secret]
    return [secret for secret in found if secret]


class Agent:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        for secret in secrets_of(config):
            logsetup.register_secret(secret)
        self.sequence = SequenceAllocator(config.state_dir)
        b = config.buffer
        self.outbox = DurableBuffer(config.state_dir / "buffer", b.max_bytes, b.max_age, b.segment_bytes)
        # Numbers must stay above anything already buffered, even if the sequence file was lost.
        self.sequence.skip_past(self.outbox.newest())
        self.batcher = Batcher(self.outbox, self.sequence, config.batching.max_points, config.batching.max_delay)
        status = BufferStatusPoller(self.outbox, config.pollers.host.device_id, config.pollers.host.interval)
        if any(device.ssh is not None for device in config.devices):
            self._sessions()  # made before the SSH pollers ask for it, with the host-key hook
        self.scheduler = Scheduler([*pollers.build(config), status], self.batcher.add, config.pollers.jitter)
        self.transport = Transport(config, lambda: hello_for(config, self.outbox), self.outbox, self.sequence)
        self.diagnosis: PlaybookRunner | None = None
        self.transport.on_command = self._command
        self.traps = None
        if config.pollers.snmp.traps.enabled:
            from agent.pollers.snmp.traps import TrapReceiver

            profiles = pollers.preloaded(config, "snmp_profiles")
            self.traps = TrapReceiver(config.pollers.snmp.traps, config.devices, profiles, self.batcher.add_event)  # type: ignore[arg-type]

    def _sessions(self) -> SessionPool:
        """The one pool of device sessions: polls and playbook runs of a device queue for its one session."""
        from agent.ssh.pool import for_agent

        return pollers.shared("ssh_sessions", lambda: for_agent(self.config, self._host_key_changed))

    def _command(self, command: pb.Command) -> None:
        """Playbook runs: the runner, the pool and the playbooks are loaded at the first one (~4 MiB)."""
        if self.diagnosis is None:
            import pickle

            from agent.diagnosis import PlaybookRunner

            library = pickle.loads(pollers.preloaded(self.config, "playbooks"))  # type: ignore[arg-type]
            self.diagnosis = PlaybookRunner(self.config, library, self._sessions(), self.transport.send_live,
                                            secrets_of(self.config))
        self.diagnosis.on_command(command)

    def _host_key_changed(self, device_id: str, message: str) -> None:
        """An impostor or a replaced device: refused, and the collector hears of it at once."""
        self.batcher.add_event(pb.Event(
            device=device_id, at_ms=int(time.time() * 1000), source="ssh", name="host_key_changed",
            severity="major", message=message,
        ))

    async def run(self, stop: asyncio.Event) -> None:
        if self.traps is not None:
            try:
                self.traps.start()
            except Exception as exc:  # noqa: BLE001 - polling goes on without traps; the log says why
                log.error("cannot receive SNMP traps on %s: %s", self.config.pollers.snmp.traps.listen, exc)
                self.traps = None
        tasks = [
            asyncio.create_task(self.scheduler.run(), name="scheduler"),
            asyncio.create_task(self.batcher.run(), name="batcher"),
            asyncio.create_task(self.transport.run(), name="transport"),
        ]
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done - {stopper}:
            task.result()  # a part that ended by itself is a bug: let it be seen
        tasks[0].cancel()
        self.batcher.flush()
        await self._drain()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.traps is not None:
            self.traps.stop()
        if self.diagnosis is not None:
            await self.diagnosis.close()
        if "ssh_sessions" in pollers.made():
            await self._sessions().close()
        self.outbox.close()
        log.info(
            "stopped: %d polls, %d failed, %d batches unacknowledged",
            self.scheduler.polls, self.scheduler.failures, len(self.outbox),
        )

    async def _drain(self) -> None:
        """Give the transport a moment to deliver what is buffered before we exit."""
        if not self.transport.connected.is_set():
            return
        deadline = asyncio.get_running_loop().time() + DRAIN_ON_STOP_S
        while len(self.outbox) and asyncio.get_running_loop().time() < deadline:
            self.outbox.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.changed.wait(), 0.2)


def run_until_stopped(config: AgentConfig, duration_s: float | None = None) -> int:
    """Run the agent until SIGTERM/SIGINT (or for `duration_s`); the exit code."""

    async def main() -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        if duration_s is not None:
            loop.call_later(duration_s, stop.set)
        log.info("vigil-agent %s on %s starting", __version__, socket.gethostname())
        await Agent(config).run(stop)
        return 0

    return asyncio.run(main())
