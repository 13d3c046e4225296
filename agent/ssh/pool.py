"""The agent's device sessions: one per device, held by one user at a time, kept open between uses.

Playbook runs and SSH polls both go through `SessionPool.session(device_id)`
(`local()` and the `agent` platform run commands on the agent's machine).
Whoever holds it has the device's only session to itself — a playbook for
all of its steps, a poll for one poll — and others wait in arrival order
(asyncio's lock is FIFO), so a diagnosis waits for a poll and never runs
inside it. `max_sessions` bounds how many devices are worked on at once;
idle sessions stay open (keepalive on) and are closed after `idle_close_s`.

A session found dead when taken, or broken by a command cut short, is
dropped and rebuilt on the next use; a refused login is not retried inside
one `session()` call — the caller's schedule is the retry. A changed host
key refuses the connection every time and is reported once per device and
key through `on_host_key_changed(device_id, message)`.

paramiko and netmiko are imported only when the first session of their kind
opens: they cost the agent tens of MiB.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agent.ssh.hostkeys import FILE_NAME, KnownHosts
from agent.ssh.platforms import LINUX, LOCAL, executor_for
from agent.ssh.types import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S, CommandOutput, OnLine, SessionGone, SshError

if TYPE_CHECKING:
    from agent.config import AgentConfig, Device

log = logging.getLogger("vigil.agent.ssh")
IDLE_CLOSE_S = 600.0


class _Pooled(Protocol):
    device_id: str
    platform: str
    broken: bool

    async def open(self) -> None: ...
    def usable(self) -> bool: ...
    async def close(self) -> None: ...
    async def run(self, command: str, *, timeout_s: float, on_line: OnLine | None, max_bytes: int) -> CommandOutput: ...


class Lease:
    """The holder's handle on a device's session; it stops working when the `async with` block ends."""

    def __init__(self, session: _Pooled, reopen: Callable[[], Awaitable[_Pooled]] | None = None) -> None:
        self.session: _Pooled | None = session
        self._reopen = reopen
        self.device_id = session.device_id
        self.platform = session.platform

    async def run(
        self, command: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, on_line: OnLine | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> CommandOutput:
        """Run one command; see `agent.ssh.types.Session.run`.

        A session found dead before the command started (the device closed an
        idle connection, rebooted, …) is reopened once and the command sent on
        the new one; a failure after the command started is never retried.
        """
        if self.session is None:
            raise SshError("closed", f"{self.device_id}: the session was used after its `async with` block ended")
        try:
            return await self.session.run(command, timeout_s=timeout_s, on_line=on_line, max_bytes=max_bytes)
        except SessionGone:
            if self._reopen is None:
                raise
            log.info("session to %s had dropped; reconnecting", self.device_id)
            self.session = await self._reopen()
            return await self.session.run(command, timeout_s=timeout_s, on_line=on_line, max_bytes=max_bytes)

    def _end(self) -> None:
        self.session = None


class SessionPool:
    def __init__(
        self, devices: Mapping[str, Device], state_dir: Path, *, max_sessions: int = 32,
        on_host_key_changed: Callable[[str, str], None] | None = None, idle_close_s: float = IDLE_CLOSE_S,
        host_device_id: str | None = None,
    ) -> None:
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self._devices = dict(devices)
        self._host_device_id = host_device_id        # the agent's own machine (pollers.host.device_id)
        self.known_hosts = KnownHosts(Path(state_dir) / FILE_NAME)
        self._on_host_key_changed = on_host_key_changed
        self._idle_close_s = idle_close_s
        self._slots = asyncio.Semaphore(max_sessions)
        self._locks: dict[str, asyncio.Lock] = {}
        self._sessions: dict[str, _Pooled] = {}
        self._last_used: dict[str, float] = {}
        self._reported: set[tuple[str, str]] = set()
        self._closing: set[asyncio.Task[None]] = set()
        # One thread per session in use at once is enough; a few more for closes and abandoned logins.
        self._executor = ThreadPoolExecutor(max_workers=max_sessions + 4, thread_name_prefix="vigil-ssh")
        self._closed = False

    @contextlib.asynccontextmanager
    async def session(self, device_id: str, platform: str | None = None) -> AsyncIterator[Lease]:
        """Exclusive use of `device_id`'s session for the `async with` block.

        `platform` (default: the device's own) may only say how else to reach
        it: `agent` runs the commands on the agent's machine (ping, traceroute
        towards the device through `/bin/sh`; not exclusive, no SSH), and for the agent's own
        machine (`host_device_id`) `linux` runs them there through `/bin/sh`.
        Raises `SshError` when the session cannot be had (its `kind` says why).
        """
        device = self._device(device_id)
        platform = platform or device.platform
        self._check_open()
        if platform == LOCAL:
            # Playbook commands for `agent` are written for a shell (`LC_ALL=C ping …`), with every
            # parameter validated and shell-quoted by the playbook library, as for sshd's exec.
            async with self._local(device_id, LOCAL, shell=True) as lease:
                yield lease
            return
        lock = self._locks.setdefault(device_id, asyncio.Lock())
        if device_id == self._host_device_id and device_id not in self._devices:
            if platform != LINUX:
                raise SshError("refused", f"{device_id} is the agent's own machine: it runs linux or agent commands")
            async with lock, self._local(device_id, LINUX, shell=True) as lease:
                yield lease
            return
        if platform != device.platform:
            raise SshError("refused", f"device {device_id!r} is {device.platform or 'of no platform'}, not {platform}")
        self._close_idle()
        async with lock, self._slots:
            self._check_open()
            lease = Lease(await self._ready(device), lambda: self._ready(device))
            try:
                yield lease
            finally:
                session = lease.session
                lease._end()
                self._last_used[device_id] = time.monotonic()
                if session is not None and not session.usable():
                    self._drop(device_id)

    @contextlib.asynccontextmanager
    async def local(self) -> AsyncIterator[Lease]:
        """A session on the agent's own machine, not tied to a device and not exclusive (no shell)."""
        self._check_open()
        async with self._local("agent", LOCAL, shell=False) as lease:
            yield lease

    @contextlib.asynccontextmanager
    async def _local(self, device_id: str, platform: str, shell: bool) -> AsyncIterator[Lease]:
        from agent.ssh.local import LocalSession

        async with self._slots:
            lease = Lease(LocalSession(device_id, platform, shell=shell))
            try:
                yield lease
            finally:
                lease._end()

    def _device(self, device_id: str) -> Device:
        device = self._devices.get(device_id)
        if device is not None:
            return device
        if device_id == self._host_device_id:
            from agent.config import Device

            return Device(id=device_id, kind="host", platform=LINUX)
        raise SshError("refused", f"device {device_id!r} is not in the agent's inventory")

    async def _ready(self, device: Device) -> _Pooled:
        session = self._sessions.get(device.id)
        if session is not None:
            if session.usable():
                return session
            log.info("session to %s is no longer usable; opening a new one", device.id)
            self._drop(device.id)
        session = self._make(device)
        try:
            await session.open()
        except SshError as exc:
            if exc.kind == "host_key_changed":
                self._report_host_key(device.id, exc.message)
            raise
        self._sessions[device.id] = session
        return session

    def _make(self, device: Device) -> _Pooled:
        kind = executor_for(device.platform)
        if kind == "local":
            from agent.ssh.local import LocalSession

            return LocalSession(device.id, device.platform)
        if device.ssh is None:
            raise SshError("refused", f"device {device.id!r} has no ssh: settings in the agent's config")
        if kind is None:
            raise SshError("refused", f"device {device.id!r}: platform {device.platform!r} has no command executor "
                                      "(use linux, cisco_ios, huawei_vrp, hp_comware or agent)")
        from agent.ssh.connect import target_of

        target = target_of(device)
        if kind == "linux":
            from agent.ssh.linux import LinuxSession

            return LinuxSession(target, self.known_hosts, self._executor)
        from agent.ssh.network import NetworkSession

        return NetworkSession(target, self.known_hosts, self._executor)

    def _report_host_key(self, device_id: str, message: str) -> None:
        log.error("%s", message)
        if (device_id, message) in self._reported or self._on_host_key_changed is None:
            return
        self._reported.add((device_id, message))
        try:
            self._on_host_key_changed(device_id, message)
        except Exception:  # noqa: BLE001 - a listener's bug must not hide the refusal
            log.exception("the host-key-changed listener failed")

    def _drop(self, device_id: str) -> None:
        session = self._sessions.pop(device_id, None)
        self._last_used.pop(device_id, None)
        if session is not None:
            task = asyncio.get_running_loop().create_task(self._close_quietly(session))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    @staticmethod
    async def _close_quietly(session: _Pooled) -> None:
        try:
            await session.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            log.debug("closing the session to %s failed", session.device_id, exc_info=True)

    def _close_idle(self) -> None:
        now = time.monotonic()
        for device_id, used in list(self._last_used.items()):
            lock = self._locks.get(device_id)
            if now - used > self._idle_close_s and (lock is None or not lock.locked()):
                log.debug("closing the idle session to %s", device_id)
                self._drop(device_id)

    def _check_open(self) -> None:
        if self._closed:
            raise SshError("closed", "the session pool is closed")

    def open_sessions(self) -> list[str]:
        """Devices with a session open now (for status and tests)."""
        return sorted(self._sessions)

    async def close(self) -> None:
        """Close every session; later `session()` calls raise `SshError(kind='closed')`."""
        self._closed = True
        for device_id in list(self._sessions):
            self._drop(device_id)
        if self._closing:
            await asyncio.wait(set(self._closing), timeout=10.0)
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def __aenter__(self) -> SessionPool:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


def for_agent(config: AgentConfig, on_host_key_changed: Callable[[str, str], None] | None = None) -> SessionPool:
    """The agent's one pool over its inventory (its own machine included), shared by polls and playbook runs."""
    return SessionPool(
        {device.id: device for device in config.devices}, config.state_dir,
        max_sessions=config.playbooks.max_concurrent_runs * 2 + 16,
        on_host_key_changed=on_host_key_changed, host_device_id=config.pollers.host.device_id,
    )
