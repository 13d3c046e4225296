"""Which host key each device may present: pinned in the inventory, or trusted on first use.

The first key a device shows is recorded in `state_dir/ssh_known_hosts`
(OpenSSH's known_hosts format, keyed `host` for port 22 and `[host]:port`
otherwise, so `ssh-keygen -R '[10.0.0.1]:2222' -f …` removes one). After
that, any other key — including a key of another type — refuses the
connection before authentication, so no password or key signature ever
reaches an impostor. Nothing is overwritten: the operator accepts a new key
by removing the old line (read again on the next connection) or by pinning
the new key under the device's `ssh.host_key`.

The check runs as paramiko's missing-host-key policy on a client that holds
no keys, so paramiko calls it on every connection, for netmiko's sessions as
well as for plain paramiko ones. Since the client holds no keys, paramiko
would not prefer the recorded key type in the handshake; `prefer_known_type`
does that, so a server with several host keys shows the one on record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("vigil.agent.ssh")

FILE_NAME = "ssh_known_hosts"
# Signature algorithms paramiko may negotiate for each key type.
_ALGORITHMS = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")}


class HostKeyRefused(Exception):
    """Raised inside paramiko's handshake: the key shown is not the trusted one."""


def host_entry(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def fingerprint(blob: bytes) -> str:
    """OpenSSH's `SHA256:…` fingerprint of a public key blob."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def parse_key_line(line: str) -> tuple[str, bytes]:
    """`ssh-ed25519 AAAA… [comment]` (optionally after a known_hosts host field) → (type, blob)."""
    parts = line.split()
    if len(parts) >= 3 and not parts[0].startswith(("ssh-", "ecdsa-", "sk-")):
        parts = parts[1:]
    if len(parts) < 2:
        raise ValueError("expected '<type> <base64 key>'")
    kind, encoded = parts[0], parts[1]
    try:
        blob = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise ValueError("the key is not valid base64") from None
    if len(blob) < 4 or blob[4:4 + int.from_bytes(blob[:4], "big")] != kind.encode():
        raise ValueError(f"the key data is not a {kind} key")
    return kind, blob


def _matches(pattern: str, entry: str) -> bool:
    if pattern.startswith("|1|"):  # hashed hostname (ssh-keygen -H): |1|salt|HMAC-SHA1(salt, name)
        try:
            _, _, salt, digest = pattern.split("|")
            mac = hmac.new(base64.b64decode(salt), entry.encode(), hashlib.sha1).digest()
            return hmac.compare_digest(mac, base64.b64decode(digest))
        except ValueError:
            return False
    return entry in pattern.split(",")


class KnownHosts:
    """The agent's TOFU record; safe to use from many connecting threads at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._lines: list[tuple[str, str, bytes]] = []     # (host patterns, type, blob)

    def _reload(self) -> None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            self._stamp, self._lines = None, []
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        lines = []
        for number, text in enumerate(self.path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            text = text.strip()
            if not text or text.startswith("#") or text.startswith("@"):
                continue
            hosts, _, key = text.partition(" ")
            try:
                lines.append((hosts, *parse_key_line(key)))
            except ValueError as exc:
                log.warning("%s:%d: ignored: %s", self.path, number, exc)
        self._stamp, self._lines = stamp, lines

    def keys_for(self, host: str, port: int) -> list[tuple[str, bytes]]:
        entry = host_entry(host, port)
        with self._lock:
            self._reload()
            return [(kind, blob) for hosts, kind, blob in self._lines if _matches(hosts, entry)]

    def check(self, device_id: str, host: str, port: int, kind: str, blob: bytes, pinned: str = "") -> None:
        """Accept the key, record it if it is the first one seen, or raise `HostKeyRefused`."""
        where = f"{device_id} ({host}:{port})"
        shown = f"{kind} {fingerprint(blob)}"
        if pinned:
            pinned_kind, pinned_blob = parse_key_line(pinned)
            if (pinned_kind, pinned_blob) != (kind, blob):
                raise HostKeyRefused(
                    f"host key changed on {where}: it shows {shown}, the inventory pins "
                    f"{pinned_kind} {fingerprint(pinned_blob)}; refusing to connect"
                )
            return
        entry = host_entry(host, port)
        with self._lock:
            self._reload()
            known = [(k, b) for hosts, k, b in self._lines if _matches(hosts, entry)]
            if (kind, blob) in known:
                return
            if known:
                trusted = ", ".join(f"{k} {fingerprint(b)}" for k, b in known)
                raise HostKeyRefused(
                    f"host key changed on {where}: it shows {shown}, {self.path} trusts {trusted}; "
                    f"refusing to connect (remove the line for {entry} or pin the new key in ssh.host_key to accept it)"
                )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as out:
                out.write(f"{entry} {kind} {base64.b64encode(blob).decode()}\n")
            self._lines.append((entry, kind, blob))
            stat = os.stat(self.path)
            self._stamp = (stat.st_mtime_ns, stat.st_size)
        log.info("trusting %s's host key on first use: %s", where, shown)

    def preferred_types(self, host: str, port: int, pinned: str = "") -> list[str]:
        """Host key algorithms to offer first: those of the trusted key."""
        kinds = [parse_key_line(pinned)[0]] if pinned else [kind for kind, _ in self.keys_for(host, port)]
        return [algorithm for kind in kinds for algorithm in _ALGORITHMS.get(kind, (kind,))]


class Verifier:
    """Everything paramiko needs for one connection attempt; remembers a refusal and the client."""

    def __init__(self, known: KnownHosts, device_id: str, host: str, port: int, pinned: str = "") -> None:
        self.known, self.device_id, self.host, self.port, self.pinned = known, device_id, host, port, pinned
        self.refusal: str | None = None
        self.client: Any = None

    def policy(self) -> Any:
        """A paramiko `MissingHostKeyPolicy` (imported here: paramiko is loaded only when SSH is used)."""
        import paramiko

        verifier = self

        class _Policy(paramiko.MissingHostKeyPolicy):
            def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
                verifier.client = client
                try:
                    verifier.known.check(verifier.device_id, verifier.host, verifier.port,
                                         key.get_name(), key.asbytes(), verifier.pinned)
                except HostKeyRefused as exc:
                    verifier.refusal = str(exc)
                    raise

        return _Policy()

    def transport_factory(self) -> Any:
        """For `SSHClient.connect(transport_factory=…)`: a Transport that offers the trusted key type first."""
        import paramiko

        preferred = self.known.preferred_types(self.host, self.port, self.pinned)

        def make(sock: Any, **kwargs: Any) -> Any:
            transport = paramiko.Transport(sock, **kwargs)
            if preferred:
                options = transport.get_security_options()
                available = list(options.key_types)
                first = [kind for kind in preferred if kind in available]
                options.key_types = first + [kind for kind in available if kind not in first]
            return transport

        return make
