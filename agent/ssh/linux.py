"""A Linux host over SSH with paramiko: one transport per device, one exec channel per command.

Commands run with `exec` and no PTY (nothing is echoed, no prompt to guess,
the exit status comes back). stderr is merged into stdout on the channel so
their lines keep the order the host wrote them in.

Reading does not hold a thread: paramiko offers each channel as a pipe that
becomes readable when data or EOF arrives, and the event loop watches it.
Blocking steps (connect, channel open, the exec request) run in the pool's
threads. A command cut by its timeout, its output cap or a cancellation gets
a best-effort `signal KILL` (OpenSSH honours it for non-root sessions) and its
channel is closed; the transport stays, so the next command needs no new
login unless the transport itself died.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Executor
from typing import Any

from agent.ssh.connect import Target, classify, load_private_key, open_socket
from agent.ssh.hostkeys import KnownHosts, Verifier
from agent.ssh.lines import LineStream, safe_call
from agent.ssh.types import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S, CommandOutput, OnLine, SessionGone, SshError

log = logging.getLogger("vigil.agent.ssh")
_READ_CHUNK = 64 * 1024
_EXIT_STATUS_WAIT_S = 2.0      # after EOF, how long the exit status may lag behind


class LinuxSession:
    def __init__(self, target: Target, known_hosts: KnownHosts, executor: Executor) -> None:
        self.target = target
        self.device_id = target.device_id
        self.platform = target.platform
        self._known_hosts = known_hosts
        self._executor = executor
        self._client: Any = None
        self.broken = False

    # ------------------------------------------------------------------ connection

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self._connect)
        try:
            self._client = await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(_close_when_done)
            raise

    def _connect(self) -> Any:
        import paramiko

        target = self.target
        pkey = load_private_key(target)
        sock = open_socket(target)
        verifier = Verifier(self._known_hosts, target.device_id, target.host, target.port, target.host_key)
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(verifier.policy())
        try:
            client.connect(
                target.host, target.port, username=target.username, password=target.password or None,
                pkey=pkey, allow_agent=target.use_agent, look_for_keys=False, sock=sock,
                timeout=target.timeout_s, banner_timeout=target.timeout_s, auth_timeout=target.timeout_s,
                channel_timeout=target.timeout_s, transport_factory=verifier.transport_factory(),
            )
        except BaseException as exc:
            client.close()
            sock.close()
            raise classify(exc, target, verifier) from None
        transport = client.get_transport()
        if target.keepalive_s > 0:
            transport.set_keepalive(max(1, round(target.keepalive_s)))
        log.debug("ssh session to %s opened", target.where)
        return client

    def usable(self) -> bool:
        if self.broken or self._client is None:
            return False
        transport = self._client.get_transport()
        return transport is not None and transport.is_active()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, client.close)

    # ------------------------------------------------------------------ commands

    async def run(
        self, command: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, on_line: OnLine | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> CommandOutput:
        started = time.monotonic()
        deadline = started + timeout_s
        if not self.usable():
            self.broken = True
            raise SessionGone("closed", f"{self.target.where}: the SSH connection is no longer up")
        loop = asyncio.get_running_loop()
        transport = self._client.get_transport()
        stream = LineStream((lambda line: safe_call(on_line, line)) if on_line else None, max_bytes)
        channel: Any = None
        timed_out = False
        exit_status = None
        try:
            channel = await self._start(loop, transport, command, deadline)
            if channel is None:
                timed_out = True
            elif not await self._read(loop, channel, stream, deadline):
                timed_out = True
            elif not stream.truncated:
                exit_status = await self._exit_status(loop, channel, deadline)
        finally:
            if channel is not None:
                if channel.exit_status_ready():
                    channel.close()
                else:           # still running: timed out, capped, cancelled
                    _stop_remote(channel)
        stream.close()
        if exit_status is None and not transport.is_active():
            self.broken = True
            raise SshError("closed", f"{self.target.where}: the connection dropped during the command")
        return CommandOutput(stream.text, exit_status, stream.truncated, timed_out, time.monotonic() - started)

    async def _start(self, loop: asyncio.AbstractEventLoop, transport: Any, command: str, deadline: float) -> Any:
        """Open a channel and send the exec request; None when the deadline passed first."""
        import paramiko

        where = self.target.where
        holder: list[Any] = []

        def start() -> Any:
            channel = transport.open_session(timeout=max(0.1, deadline - time.monotonic()))
            holder.append(channel)
            channel.set_combine_stderr(True)
            channel.exec_command(command)
            return channel

        future = loop.run_in_executor(self._executor, start)
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(0.0, deadline - time.monotonic()))
        except (TimeoutError, asyncio.CancelledError) as exc:
            # exec_command waits for the server's answer; closing the channel ends that wait.
            future.add_done_callback(lambda f: _close_quietly(f, holder))
            if holder:
                holder[0].close()
            if isinstance(exc, asyncio.CancelledError):
                raise
            return None
        except paramiko.ChannelException as exc:
            raise SshError("refused", f"{where}: the server refused a session channel ({exc})") from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self.broken = True
            if not transport.is_active():      # the command never started: the pool may reconnect and retry
                raise SessionGone("closed", f"{where}: the connection dropped before the command started ({exc})") from None
            raise SshError("refused", f"{where}: the server refused to run the command ({exc})") from None

    async def _read(self, loop: asyncio.AbstractEventLoop, channel: Any, stream: LineStream, deadline: float) -> bool:
        """Read until EOF (True), or until the deadline (False) or the cap (True, stream.truncated)."""
        readable = asyncio.Event()
        fd = channel.fileno()
        channel.settimeout(0.0)
        loop.add_reader(fd, readable.set)
        try:
            while True:
                readable.clear()
                while True:
                    try:
                        data = channel.recv(_READ_CHUNK)
                    except TimeoutError:       # nothing buffered right now
                        break
                    if not data:
                        return True
                    if not stream.feed(data):
                        return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(readable.wait(), remaining)
                except TimeoutError:
                    return False
        finally:
            loop.remove_reader(fd)

    async def _exit_status(self, loop: asyncio.AbstractEventLoop, channel: Any, deadline: float) -> int | None:
        if not channel.exit_status_ready() and channel.get_transport().is_active():
            wait_s = max(0.05, min(_EXIT_STATUS_WAIT_S, deadline - time.monotonic()))
            await loop.run_in_executor(self._executor, channel.status_event.wait, wait_s)
        if not channel.exit_status_ready():
            return None
        status = channel.recv_exit_status()
        return None if status == -1 else status      # -1: ended by a signal, no status sent


def _stop_remote(channel: Any) -> None:
    """Ask sshd to kill the command (RFC 4254 6.9), then close the channel."""
    import paramiko
    from paramiko.common import cMSG_CHANNEL_REQUEST

    try:
        if channel.active and not channel.closed:
            message = paramiko.Message()
            message.add_byte(cMSG_CHANNEL_REQUEST)
            message.add_int(channel.remote_chanid)
            message.add_string("signal")
            message.add_boolean(False)
            message.add_string("KILL")
            channel.transport._send_user_message(message)  # noqa: SLF001 - paramiko has no public call for it
    except Exception:  # noqa: BLE001 - best effort: closing the channel below is what counts
        log.debug("could not send a signal request", exc_info=True)
    channel.close()


def _close_quietly(future: Any, holder: list[Any]) -> None:
    if holder:
        holder[0].close()
    elif not future.cancelled() and future.exception() is None:
        future.result().close()


def _close_when_done(future: Any) -> None:
    """A connect that finished after its caller gave up: close what it opened."""
    if not future.cancelled() and future.exception() is None:
        future.result().close()
