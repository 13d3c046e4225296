"""What every device session gives back: one result type, and failures as typed data.

A command that ran but timed out, was cut at the output cap, or exited
non-zero is a `CommandOutput` (the caller decides what that means); a session
that could not be had or broke under the command is an `SshError` whose
`kind` is what a poll reports as `up = 0` and a playbook step as its error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

ErrorKind = Literal["unreachable", "timeout", "auth", "host_key_changed", "closed", "refused"]
ERROR_KINDS: tuple[str, ...] = ("unreachable", "timeout", "auth", "host_key_changed", "closed", "refused")

OnLine = Callable[[str], None]
"""Called with each complete output line (no line ending) as it arrives, in order, on the event loop."""

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_BYTES = 1024 * 1024


class SshError(Exception):
    """A session could not be opened or broke.

    `kind`: `unreachable` (no TCP connection: refused, no route, no answer,
    unknown name), `timeout` (connected, but the SSH handshake or login did not
    finish in time), `auth` (credentials refused, private key unusable, enable
    refused), `host_key_changed` (the device's key is not the one trusted;
    nothing was sent to it), `closed` (the connection dropped, or the session
    or pool was closed), `refused` (the agent or the device refuses: unknown
    device, no SSH access configured, unsupported platform, channel refused,
    command that cannot be split).
    """

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"

    def __reduce__(self) -> tuple[type[SshError], tuple[str, str]]:
        return (type(self), (self.kind, self.message))


class SessionGone(SshError):
    """The session was found dead before the command started: the pool may reopen it and run the command."""

    def __init__(self, kind: ErrorKind = "closed", message: str = "the session is gone") -> None:
        super().__init__(kind, message)


@dataclass(frozen=True, slots=True)
class CommandOutput:
    """One command's answer.

    `text` is stdout and stderr together as they arrived, line endings as
    `\\n`; on a network CLI it is what the device printed between the echo of
    the command and the next prompt. `exit_status` is None where there is none
    (network CLIs) or it was not received (timeout, cap, killed by a signal).
    """

    text: str
    exit_status: int | None
    truncated: bool
    timed_out: bool
    duration_s: float

    @property
    def ok(self) -> bool:
        """Completed within its limits and, where there is an exit status, exited 0."""
        return not self.timed_out and not self.truncated and self.exit_status in (0, None)


class Session(Protocol):
    """One device's session, used by one holder at a time (see `SessionPool.session`)."""

    device_id: str
    platform: str

    async def run(
        self, command: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, on_line: OnLine | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> CommandOutput:
        """Run one command. Raises `SshError` when the session is unusable; cancel the task to stop it."""
        ...
