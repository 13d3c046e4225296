"""The SSH poller: one per device with `ssh: {poll: true}`, all sharing the agent's one session pool.

A poll takes the device's session from `agent.ssh.SessionPool` — the same
pool playbook runs use, so a diagnosis waits for a poll and a poll for a
diagnosis, never one inside the other — runs its commands and lets go:

* a Linux server gets one exec of `linux.script()`, read by `LinuxFigures`
  into the host poller's metric names;
* a network device gets its platform definition's commands in order on its
  CLI session, read by `CliExtractor` into the SNMP profiles' metric names.

The session stays open between polls (keepalive on) and is rebuilt by the
pool when it died. A poll has one deadline, `pollers.ssh.timeout` (at most 0.9 × its
interval), counted from when it gets one of the `max_in_flight` slots, for
waiting for the session (a playbook run may hold it), logging in and every
command; a command still
running at the deadline is cut, the session is thrown away (the device is
in an unknown state: half an answer may still be on its way) and the poll
fails with kind `timeout`; the next poll logs in afresh. Failures are
`PollError`/`SshError` with a `kind` (unreachable, auth, timeout,
host_key_changed, closed, refused, bad_reply), which the scheduler turns
into `vigil_poll_up = 0` and `vigil_poll_error_info{kind}`.

A changed host key refuses the connection inside the pool, before any
credential is sent; the pool reports it once per device and key to the
listener the agent gave it (an Event to the collector) and every later poll
fails with kind `host_key_changed` until an operator accepts the new key.
`pollers.ssh.max_in_flight` bounds how many devices are polled at once.

paramiko and netmiko are imported only when the first session opens.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from agent import pollers
from agent.pollers.ssh.cli import CliExtractor
from agent.pollers.ssh.linux import LinuxFigures, script
from agent.samples import Poll, Sample
from agent.ssh.platforms import LINUX, NETMIKO_DEVICE_TYPES

if TYPE_CHECKING:
    from agent.config import AgentConfig, Device, SshPoller as SshSettings
    from agent.pollers.ssh.model import Definition, Definitions
    from agent.ssh.pool import SessionPool

log = logging.getLogger("vigil.agent.ssh")
LINUX_MAX_BYTES = 4 * 1024 * 1024       # the Linux script's output; a server with 2,000 mounts stays under it
CLI_MAX_BYTES = 8 * 1024 * 1024         # `show interfaces` of a 400-port chassis is a few MiB
SCHEDULER_GRACE_S = 5.0                 # the scheduler's own limit lies behind the poll's: cancelling is the last resort


class PollError(Exception):
    """A poll that reached the device but got nothing usable; `kind` as `SshError`'s, or `bad_reply`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class SshDevicePoller:
    kind = "ssh"

    def __init__(self, device: Device, sessions: SessionPool, settings: SshSettings, gate: asyncio.Semaphore,
                 definition: Definition | None = None) -> None:
        access = device.ssh
        assert access is not None
        self.device_id = device.id
        self.platform = device.platform
        self.interval_s = access.interval or settings.interval
        self.poll_timeout_s = min(settings.timeout, self.interval_s * 0.9)
        # The scheduler's limit, behind the poll's own: it also covers the wait for a free `max_in_flight` slot.
        self.timeout_s = max(self.poll_timeout_s + SCHEDULER_GRACE_S, self.interval_s * 0.95)
        self._sessions = sessions
        self._gate = gate
        self.last_commands: list[tuple[str, float, int]] = []   # (command, seconds, rows or bytes): for the probe
        self.last_wait_s = 0.0              # the last poll's wait for a max_in_flight slot
        self.last_run_s = 0.0               # and its time on the device: session, login, commands
        if device.platform == LINUX:
            self._script = script(settings.ignore_fstypes, settings.ignore_mounts)
            self.linux: LinuxFigures | None = LinuxFigures(settings.per_cpu, settings.ignore_interfaces)
            self.cli: CliExtractor | None = None
        elif device.platform in NETMIKO_DEVICE_TYPES and definition is not None:
            self.linux = None
            self.cli = CliExtractor(definition)
        else:
            raise ValueError(f"device {device.id}: no SSH polling for platform {device.platform!r}")

    async def poll(self) -> Poll:
        loop = asyncio.get_running_loop()
        queued = loop.time()
        async with self._gate:              # the agent's own queue: its wait is not the device's time
            started = loop.time()
            self.last_wait_s = started - queued
            deadline = started + self.poll_timeout_s
            try:
                async with asyncio.timeout_at(deadline + 1.0):
                    async with self._sessions.session(self.device_id) as lease:
                        return await self._collect(lease, deadline)
            except TimeoutError:
                raise PollError("timeout", f"{self.device_id}: no answer within {self.poll_timeout_s:g} s "
                                           "(waiting for the session, logging in or running the commands)") from None
            finally:
                self.last_run_s = loop.time() - started

    async def _collect(self, lease: Any, deadline: float) -> Poll:
        loop = asyncio.get_running_loop()
        self.last_commands = []
        at_s = time.time()
        samples: list[Sample] = []
        if self.linux is not None:
            output = await self._run(lease, self._script, deadline - loop.time(), LINUX_MAX_BYTES)
            try:
                samples = self.linux.samples(output.text, at_s)
            except (ValueError, IndexError) as exc:
                raise PollError("bad_reply", f"{self.device_id}: {exc}") from None
            self.last_commands.append(("linux poll script", output.duration_s, len(output.text)))
            if output.exit_status not in (0, None):
                log.debug("%s: the poll script exited %s", self.device_id, output.exit_status)
            return Poll(self.device_id, int(at_s * 1000), samples)
        assert self.cli is not None
        seen: set[tuple[str, Any]] = set()
        for plan in self.cli.plans:
            remaining = deadline - loop.time()
            output = await self._run(lease, plan.command.command, min(plan.command.timeout, remaining), CLI_MAX_BYTES)
            try:
                rows = self.cli.extract(plan, output.text, time.time(), samples, seen)
            except Exception as exc:  # noqa: BLE001 - textfsm's errors: one bad output is a bad reply, not a crash
                raise PollError("bad_reply", f"{self.device_id}: {plan.command.command!r}: {exc}") from None
            self.last_commands.append((plan.command.command, output.duration_s, rows))
        return Poll(self.device_id, int(at_s * 1000), samples)

    async def _run(self, lease: Any, command: str, timeout_s: float, max_bytes: int) -> Any:
        if timeout_s <= 0:
            self._discard(lease)
            raise PollError("timeout", f"{self.device_id}: the poll ran out of its {self.poll_timeout_s:g} s")
        output = await lease.run(command, timeout_s=timeout_s, max_bytes=max_bytes)
        if output.timed_out or output.truncated:
            self._discard(lease)
            why = "no answer" if output.timed_out else f"more than {max_bytes} bytes"
            raise PollError("timeout" if output.timed_out else "bad_reply",
                            f"{self.device_id}: {command[:60]!r}: {why} within {timeout_s:.3g} s; session closed")
        return output

    @staticmethod
    def _discard(lease: Any) -> None:
        """The device is mid-answer or stuck: the pool closes this session when the poll lets go of it."""
        session = getattr(lease, "session", None)
        if session is not None and hasattr(session, "broken"):
            session.broken = True


@pollers.register("ssh")
def build(config: AgentConfig) -> list[SshDevicePoller]:
    devices = [d for d in config.devices if d.ssh is not None and d.ssh.poll]
    if not devices:
        return []
    from agent.ssh import pool as ssh_pool

    settings = config.pollers.ssh
    sessions = pollers.shared("ssh_sessions", lambda: ssh_pool.for_agent(config))
    definitions: Definitions = pollers.preloaded(config, "ssh_definitions")  # type: ignore[assignment]
    gate = asyncio.Semaphore(settings.max_in_flight)
    return [SshDevicePoller(d, sessions, settings, gate, definitions.get(d.platform)) for d in devices]
