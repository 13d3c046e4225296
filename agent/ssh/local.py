"""Commands on the agent's own machine (platform `agent`): ping and traceroute from inside the site.

Same contract as a remote session. The command line is split with `shlex`
and run without a shell, so a playbook parameter can never become a second
command. The one exception is the agent's own machine acting as a `linux`
device (`shell=True`): its playbook commands are the ones written for
sshd's `exec`, which goes through the user's shell too. The child gets its own process group and `LC_ALL=C` (parsers expect
the C locale's wording); on timeout, cap or cancellation the whole group is
killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import time

from agent.ssh.lines import LineStream, safe_call
from agent.ssh.types import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S, CommandOutput, OnLine, SshError

_READ_CHUNK = 64 * 1024
_REAP_WAIT_S = 5.0


class LocalSession:
    """`shell=True` runs the command with `/bin/sh -c`, as sshd would: the agent's own machine as a linux device."""

    def __init__(self, device_id: str = "agent", platform: str = "agent", shell: bool = False) -> None:
        self.device_id = device_id
        self.platform = platform
        self.shell = shell
        self.broken = False

    async def open(self) -> None:
        return None

    def usable(self) -> bool:
        return True

    async def close(self) -> None:
        return None

    async def run(
        self, command: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, on_line: OnLine | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> CommandOutput:
        started = time.monotonic()
        deadline = started + timeout_s
        try:
            argv = ["/bin/sh", "-c", command] if self.shell else shlex.split(command)
        except ValueError as exc:
            raise SshError("refused", f"cannot split the command line {command!r}: {exc}") from None
        if not argv:
            raise SshError("refused", "empty command")
        stream = LineStream((lambda line: safe_call(on_line, line)) if on_line else None, max_bytes)
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True, env={**os.environ, "LC_ALL": "C"},
            )
        except OSError as exc:       # like a shell: 127 not found, 126 not executable
            stream.feed(f"{argv[0]}: {exc.strerror or exc}\n".encode())
            status = 127 if isinstance(exc, FileNotFoundError) else 126
            return CommandOutput(stream.close(), status, False, False, time.monotonic() - started)
        assert process.stdout is not None
        timed_out = False
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                try:
                    data = await asyncio.wait_for(process.stdout.read(_READ_CHUNK), remaining)
                except TimeoutError:
                    timed_out = True
                    break
                if not data or not stream.feed(data):
                    break
        finally:
            if timed_out or stream.truncated or not _at_eof(process):    # cut short, or cancelled
                _kill_group(process)
            # Reap the child even when cancelled, so no zombie is left behind.
            try:
                await asyncio.shield(asyncio.wait_for(process.wait(), _REAP_WAIT_S))
            except TimeoutError:        # closed its output but will not exit
                _kill_group(process)
        status = process.returncode
        exit_status = None if timed_out or stream.truncated or status is None or status < 0 else status
        return CommandOutput(stream.close(), exit_status, stream.truncated, timed_out, time.monotonic() - started)


def _at_eof(process: asyncio.subprocess.Process) -> bool:
    return process.stdout is not None and process.stdout.at_eof()


def _kill_group(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
