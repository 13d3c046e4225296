"""A network device's CLI over SSH with netmiko (cisco_ios, huawei_vrp, hp_comware).

netmiko is blocking, so each command runs in one of the pool's threads. Its
`send_command` returns only at the prompt; to stream, the session wraps the
raw channel read netmiko polls every 10–25 ms and feeds each chunk to a
`LineStream` once the command's echo has passed; the complete lines of one
read go to the event loop together (one wake-up per read, not per line: with
50 sessions at once, a hop per line slowed every command by a third through
GIL hand-offs, bench/playbooks.py). The same wrapper enforces
the hard deadline, the output cap and cancellation: it raises inside
netmiko's read loop, so the thread is free within one poll. The stored text
is netmiko's own cleaned-up answer; lines it has beyond what was streamed
(normally none) are sent when it returns.

A command cut short leaves the CLI mid-output with no prompt to resync on,
so the session is marked broken and the pool opens a fresh one next time.

Host keys: netmiko builds its paramiko client in `_build_ssh_client`; a
small subclass of the device's netmiko class puts the agent's verifier
there (see `hostkeys`), and the TCP socket comes from `connect.open_socket`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from agent.ssh.connect import Target, classify, load_private_key, open_socket
from agent.ssh.hostkeys import KnownHosts, Verifier
from agent.ssh.lines import LineStream, safe_call
from agent.ssh.platforms import NETMIKO_DEVICE_TYPES
from agent.ssh.types import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S, CommandOutput, OnLine, SessionGone, SshError

log = logging.getLogger("vigil.agent.ssh")
_ECHO_SEARCH_BYTES = 8192     # output before the echo is looked through up to this much
_GRACE_S = 5.0                # the worker stops itself at the deadline; this is the backstop
_STOP_WAIT_S = 2.0
_CLASSES: dict[str, type] = {}


def _connection_class(device_type: str) -> type:
    """netmiko's class for `device_type`, with the agent's host key verification."""
    cls = _CLASSES.get(device_type)
    if cls is None:
        from netmiko.ssh_dispatcher import CLASS_MAPPER

        base: Any = CLASS_MAPPER[device_type]

        class Verified(base):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, vigil_verifier: Verifier, **kwargs: Any) -> None:
                self._vigil_verifier = vigil_verifier
                super().__init__(*args, **kwargs)

            def _build_ssh_client(self) -> Any:
                client = self._get_ssh_client_instance()
                client.set_missing_host_key_policy(self._vigil_verifier.policy())
                return client

            def _connect_params_dict(self) -> dict[str, Any]:
                params = super()._connect_params_dict()
                params["transport_factory"] = self._vigil_verifier.transport_factory()
                return params

        Verified.__name__ = Verified.__qualname__ = f"Verified{base.__name__}"
        cls = _CLASSES[device_type] = Verified
    return cls


class _Stop(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class _Command:
    """One command's state, shared between the event loop and the worker thread."""

    def __init__(self, command: str, deadline: float, stream: LineStream, alive: Any,
                 hand_over: Callable[[list[str]], None] | None = None) -> None:
        self.command = command.strip()
        self.deadline = deadline
        self.stream = stream
        self.alive = alive
        self.cancel = threading.Event()
        self._before_echo = ""
        self.echoed = False
        self._hand_over = hand_over
        self._lines: list[str] = []

    def collect(self, line: str) -> None:
        """The stream's emit while the worker reads: lines wait for the end of the read that completed them."""
        self._lines.append(line)

    def take(self, data: str) -> None:
        """Called with every raw read netmiko makes while this command runs; raises `_Stop` to cut it."""
        try:
            self._take(data)
        finally:
            if self._lines and self._hand_over is not None:
                lines, self._lines = self._lines, []
                self._hand_over(lines)

    def _take(self, data: str) -> None:
        if data:
            if self.echoed:
                if not self.stream.feed(data.encode("utf-8")):
                    raise _Stop("cap")
            else:
                self._find_echo(data)
        elif not self.alive():
            raise _Stop("closed")
        if self.cancel.is_set():
            raise _Stop("cancel")
        if time.monotonic() > self.deadline:
            raise _Stop("timeout")

    def _find_echo(self, data: str) -> None:
        text = self._before_echo + data
        at = text.find(self.command)
        end = text.find("\n", at + len(self.command)) if at >= 0 else -1
        if end >= 0:
            self.echoed, rest = True, text[end + 1:]
        elif len(text) > _ECHO_SEARCH_BYTES:       # no echo to be seen: stream everything
            self.echoed, rest = True, text
        else:
            self._before_echo = text
            return
        self._before_echo = ""
        if rest and not self.stream.feed(rest.encode("utf-8")):
            raise _Stop("cap")


class NetworkSession:
    def __init__(self, target: Target, known_hosts: KnownHosts, executor: Executor) -> None:
        self.target = target
        self.device_id = target.device_id
        self.platform = target.platform
        self.device_type = NETMIKO_DEVICE_TYPES[target.platform]
        self._known_hosts = known_hosts
        self._executor = executor
        self._connection: Any = None
        self._current: _Command | None = None
        self.broken = False

    # ------------------------------------------------------------------ connection

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, self._connect)
        # netmiko's own timeouts bound each step of the login; this bounds them all together.
        limit = 4 * self.target.timeout_s + 10.0
        try:
            self._connection = await asyncio.wait_for(asyncio.shield(future), limit)
        except (asyncio.CancelledError, TimeoutError) as exc:
            future.add_done_callback(_disconnect_when_done)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise SshError("timeout", f"{self.target.where}: login did not finish within {limit:g} s") from None

    def _connect(self) -> Any:
        target = self.target
        pkey = load_private_key(target)
        sock = open_socket(target)
        verifier = Verifier(self._known_hosts, target.device_id, target.host, target.port, target.host_key)
        try:
            connection = _connection_class(self.device_type)(
                vigil_verifier=verifier, device_type=self.device_type, host=target.host, port=target.port,
                username=target.username, password=target.password or None, secret=target.enable_secret,
                pkey=pkey, use_keys=False, allow_agent=target.use_agent, sock=sock,
                conn_timeout=target.timeout_s, auth_timeout=target.timeout_s, banner_timeout=target.timeout_s,
                keepalive=max(0, round(target.keepalive_s)), system_host_keys=False, alt_host_keys=False,
                fast_cli=True,
            )
        except BaseException as exc:
            if verifier.client is not None:
                verifier.client.close()
            sock.close()
            raise classify(exc, target, verifier) from None
        try:
            self._enable(connection)
        except BaseException:
            _hard_close(connection)
            raise
        self._hook(connection)
        log.debug("CLI session to %s opened (%s)", target.where, self.device_type)
        return connection

    def _enable(self, connection: Any) -> None:
        """Cisco IOS: privileged EXEC, which `show running-config` and others need."""
        if self.target.platform != "cisco_ios" or connection.check_enable_mode():
            return
        try:
            connection.enable()
        except Exception as exc:  # noqa: BLE001 - netmiko raises ValueError or ReadTimeout here
            if self.target.enable_secret:
                raise SshError("auth", f"{self.target.where}: enable was refused ({exc})") from None
            log.warning("%s: enable mode not reached and no enable_secret is set; commands run unprivileged",
                        self.target.where)

    def _hook(self, connection: Any) -> None:
        channel = connection.channel
        read = channel.read_channel

        def read_channel() -> str:
            data = read()
            command = self._current
            if command is not None:
                command.take(data)
            return data

        channel.read_channel = read_channel

    def _alive(self) -> bool:
        remote = self._connection.remote_conn if self._connection is not None else None
        if remote is None or remote.closed:
            return False
        transport = remote.get_transport()
        return transport is not None and transport.is_active()

    def usable(self) -> bool:
        return not self.broken and self._alive()

    async def close(self) -> None:
        """Close the SSH connection (channel close and disconnect; netmiko's `exit`/`quit` dance is skipped:
        it costs seconds per device and the device frees the line on disconnect anyway)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, _hard_close, connection)

    # ------------------------------------------------------------------ commands

    async def run(
        self, command: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, on_line: OnLine | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> CommandOutput:
        started = time.monotonic()
        if not self.usable():
            self.broken = True
            raise SessionGone("closed", f"{self.target.where}: the SSH connection is no longer up")
        loop = asyncio.get_running_loop()
        connection = self._connection
        strip = connection.strip_ansi_escape_codes if connection.ansi_escape_codes else None
        stream = LineStream(None, max_bytes, line_filter=strip)
        hand_over = None
        if on_line is not None:
            def hand_over(lines: list[str]) -> None:    # in the worker thread; nothing is sent once cancelled
                if not current.cancel.is_set():
                    loop.call_soon_threadsafe(_each, on_line, lines)
        current = _Command(command, started + timeout_s, stream, self._alive, hand_over)
        if on_line is not None:
            stream.set_emit(current.collect)
        future = loop.run_in_executor(self._executor, self._send, connection, current, timeout_s)
        try:
            why, text = await asyncio.wait_for(asyncio.shield(future), timeout_s + _GRACE_S)
        except asyncio.CancelledError:
            current.cancel.set()
            self.broken = True
            await asyncio.wait([future], timeout=_STOP_WAIT_S)
            raise
        except TimeoutError:
            current.cancel.set()
            self.broken = True
            why, text = "timeout", None
        if on_line is not None and future.done() and not current.cancel.is_set():
            # The worker has returned and its last lines were handed over before its result: what the
            # stream emits from here on (the rest of the final text, a cut-off last line) follows them here.
            stream.set_emit(lambda line: safe_call(on_line, line))
        if why == "closed":
            self.broken = True
            raise SshError("closed", f"{self.target.where}: {text}")
        if why == "ok":
            assert text is not None
            text = stream.reconcile(text)
        else:           # cut short: the CLI is mid-output, this connection cannot be trusted again
            self.broken = True
            text = stream.close()
        return CommandOutput(text, None, stream.truncated, why == "timeout", time.monotonic() - started)

    def _send(self, connection: Any, current: _Command, timeout_s: float) -> tuple[str, str | None]:
        """In a worker thread: ('ok', output), ('timeout'|'cap'|'cancel', None) or ('closed', why)."""
        self._current = current
        try:
            output = connection.send_command(current.command, read_timeout=timeout_s + _GRACE_S)
            return "ok", str(output)
        except _Stop as stop:
            if stop.why == "closed":
                return "closed", "the connection dropped during the command"
            return stop.why, None
        except Exception as exc:  # noqa: BLE001 - netmiko's and paramiko's errors alike end the session
            if type(exc).__name__ == "ReadTimeout":
                return "timeout", None
            return "closed", f"the session failed during the command ({' '.join(str(exc).split())[:300]})"
        finally:
            self._current = None


def _each(on_line: OnLine, lines: list[str]) -> None:
    for line in lines:
        safe_call(on_line, line)


def _hard_close(connection: Any) -> None:
    try:
        connection.paramiko_cleanup()
    except Exception:  # noqa: BLE001
        log.debug("closing a broken CLI session failed", exc_info=True)


def _disconnect_when_done(future: Any) -> None:
    if not future.cancelled() and future.exception() is None:
        _hard_close(future.result())
