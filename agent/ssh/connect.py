"""What Linux and network sessions share on the way in: the target, the TCP socket, the key, the error kind.

The TCP connection is made here rather than inside paramiko, so "no TCP
connection" (`unreachable`) and "connected, but SSH did not work out"
(`timeout`, `auth`, `closed`, …) are told apart by where the failure
happened, not by parsing messages. netmiko wraps paramiko's exceptions in
its own; the kind is read from the original one, which it keeps as the
exception's context.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.ssh.types import ErrorKind, SshError

if TYPE_CHECKING:
    from agent.config import Device
    from agent.ssh.hostkeys import Verifier


@dataclass(frozen=True, slots=True)
class Target:
    """One device's SSH settings, credentials already merged from its `ssh_credentials` group."""

    device_id: str
    platform: str
    host: str
    port: int
    username: str
    password: str
    private_key: Path | None
    passphrase: str
    use_agent: bool
    enable_secret: str
    host_key: str
    timeout_s: float
    keepalive_s: float

    @property
    def where(self) -> str:
        return f"{self.device_id} ({self.host}:{self.port})"


def target_of(device: Device) -> Target:
    access = device.ssh
    if access is None:
        raise SshError("refused", f"device {device.id!r} has no ssh: settings in the agent's config")
    if not device.address:
        raise SshError("refused", f"device {device.id!r} has no address")
    return Target(
        device_id=device.id, platform=device.platform, host=device.address, port=access.port,
        username=access.username, password=access.password, private_key=access.private_key,
        passphrase=access.passphrase, use_agent=bool(access.use_agent), enable_secret=access.enable_secret,
        host_key=access.host_key, timeout_s=access.timeout, keepalive_s=access.keepalive,
    )


def open_socket(target: Target) -> socket.socket:
    """The TCP connection; every failure here is `unreachable`."""
    try:
        return socket.create_connection((target.host, target.port), timeout=target.timeout_s)
    except socket.gaierror as exc:
        raise SshError("unreachable", f"{target.where}: cannot resolve {target.host!r}: {exc.strerror}") from None
    except (TimeoutError, socket.timeout):
        raise SshError("unreachable", f"{target.where}: no answer within {target.timeout_s:g} s") from None
    except OSError as exc:
        raise SshError("unreachable", f"{target.where}: {exc.strerror or exc}") from None


def load_private_key(target: Target) -> Any:
    """The paramiko key from `private_key`, or None; a key that cannot be used is an `auth` error."""
    if target.private_key is None:
        return None
    import paramiko

    try:
        return paramiko.PKey.from_path(target.private_key, passphrase=target.passphrase.encode() or None)
    except (paramiko.PasswordRequiredException, TypeError):   # cryptography: "password was not provided"
        problem = "it is encrypted and no passphrase is set"
    except (OSError, paramiko.SSHException, ValueError) as exc:
        said = " ".join(str(e).lower() for e in _chain(exc))
        if target.passphrase and any(word in said for word in ("checksum", "password", "decrypt")):
            problem = "the passphrase is wrong"
        else:
            problem = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    raise SshError("auth", f"{target.where}: cannot use private key {target.private_key}: {problem}")


def _chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _kind_of(exc: BaseException) -> ErrorKind | None:
    import paramiko

    text = str(exc).lower()
    if isinstance(exc, paramiko.BadHostKeyException):
        return "host_key_changed"
    if isinstance(exc, paramiko.AuthenticationException):
        return "timeout" if "timeout" in text else "auth"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timeout"
    if isinstance(exc, (EOFError, ConnectionError)):
        return "closed"
    if isinstance(exc, paramiko.ssh_exception.IncompatiblePeer | paramiko.ChannelException):
        return "refused"
    if isinstance(exc, paramiko.SSHException):
        if "timeout" in text or "timed out" in text or "no existing session" in text:
            return "timeout"
        return None
    if type(exc).__name__ == "ReadTimeout":      # netmiko: the prompt never came
        return "timeout"
    return None


def classify(exc: BaseException, target: Target, verifier: Verifier | None = None) -> SshError:
    """The `SshError` for a failure after the TCP connection was made."""
    if isinstance(exc, SshError):
        return exc
    if verifier is not None and verifier.refusal:
        return SshError("host_key_changed", verifier.refusal)
    chain = _chain(exc)
    for error in reversed(chain):          # the original error first: netmiko's wrappers say less
        kind = _kind_of(error)
        if kind is not None:
            return SshError(kind, f"{target.where}: {_describe(kind, error)}")
    return SshError("closed", f"{target.where}: {_describe('closed', exc)}")


def _describe(kind: ErrorKind, exc: BaseException) -> str:
    detail = " ".join(str(exc).split())[:300] or type(exc).__name__
    if kind == "auth":
        return f"authentication failed ({detail})"
    if kind == "timeout":
        return f"SSH did not complete in time ({detail})"
    if kind == "closed":
        return f"the connection was closed ({detail})"
    return detail
