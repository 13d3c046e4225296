"""Debian's OpenSSH sshd on 127.0.0.1 for the tests, with its own config, host key and authorized keys.

`Sshd` runs `sshd -D -e` from a folder of its own on a free high port: key
logins only (an unencrypted and a passphrase-protected client key are
authorized), password logins refused, as the user running the tests.
`swap_host_key()` restarts it on the same port with a new host key and ends
every open connection — what a replaced or impersonated server looks like to
the agent. `stop()` ends the listener and every process it started
(connections and the commands they run), so a `sleep 30` does not outlive
its test.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from agent.config import Device, SshAccess

LOCALHOST = "127.0.0.1"
SSHD = "/usr/sbin/sshd"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
PASSPHRASE = "vigil-key-passphrase"


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


def _keygen(path: Path, kind: str = "ed25519", passphrase: str = "") -> None:
    if shutil.which("ssh-keygen") is None:
        raise RuntimeError("ssh-keygen not found: run `bash tests/run.sh`, which installs Debian's openssh-client")
    for stale in (path, path.with_name(path.name + ".pub")):
        stale.unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", "vigil-test", "-f", str(path)],
                   check=True, capture_output=True, timeout=30)


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (sshd's connection children call setsid, so a process group misses them)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Sshd:
    def __init__(self, root: Path, host_key_type: str = "ed25519") -> None:
        self.root = root
        self.host, self.port = LOCALHOST, free_tcp_port()
        self.username = getpass.getuser()
        self.host_key_type = host_key_type
        self.host_key = root / "ssh_host_key"
        self.client_key = root / "client_key"                     # no passphrase
        self.encrypted_client_key = root / "client_key_encrypted"  # PASSPHRASE
        self.passphrase = PASSPHRASE
        self._process: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ what tests use

    def public_host_key(self) -> str:
        """The host key as a pinnable line: `ssh-ed25519 AAAA…`."""
        kind, blob = self.host_key.with_name(self.host_key.name + ".pub").read_text().split()[:2]
        return f"{kind} {blob}"

    def access(self, **settings: Any) -> SshAccess:
        """An `SshAccess` for this server: the unencrypted client key unless `settings` say otherwise."""
        values: dict[str, Any] = {"port": self.port, "username": self.username, "private_key": self.client_key,
                                  "timeout": 5.0, "keepalive": 10.0}
        values.update(settings)
        return SshAccess(**values)

    def device(self, device_id: str = "srv-1", **settings: Any) -> Device:
        return Device(id=device_id, kind="server", address=self.host, platform="linux", ssh=self.access(**settings))

    # ------------------------------------------------------------------ lifecycle

    def _config(self) -> Path:
        authorized = self.root / "authorized_keys"
        authorized.write_text(
            self.client_key.with_name(self.client_key.name + ".pub").read_text()
            + self.encrypted_client_key.with_name(self.encrypted_client_key.name + ".pub").read_text()
        )
        config = self.root / "sshd_config"
        config.write_text("\n".join([
            f"Port {self.port}", f"ListenAddress {self.host}", f"HostKey {self.host_key}",
            f"PidFile {self.root / 'sshd.pid'}", f"AuthorizedKeysFile {authorized}",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
            "PermitRootLogin prohibit-password", "StrictModes no", "UseDNS no",
            "MaxStartups 200:30:400", "MaxSessions 200", "LogLevel VERBOSE",
        ]) + "\n")
        return config

    def start(self) -> None:
        if not os.path.exists(SSHD):
            raise RuntimeError(f"{SSHD} not found: run `bash tests/run.sh`, which installs Debian's openssh-server")
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)     # sshd's privilege separation directory
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.host_key.exists():
            _keygen(self.host_key, self.host_key_type)
        if not self.client_key.exists():
            _keygen(self.client_key)
            _keygen(self.encrypted_client_key, passphrase=self.passphrase)
        tries = 3
        while True:
            config = self._config()
            check = subprocess.run([SSHD, "-t", "-f", str(config)], capture_output=True, text=True, timeout=30)
            if check.returncode != 0:
                raise RuntimeError(f"sshd refused its config: {check.stderr.strip()}")
            with open(self.root / "sshd.log", "ab") as log:
                self._process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log,
                                                 stderr=subprocess.STDOUT)
            if self._wait_ready():
                return
            tries -= 1
            if not tries:
                raise RuntimeError(f"sshd did not start: {(self.root / 'sshd.log').read_text(errors='replace')[-2000:]}")
            self.port = free_tcp_port()       # most likely lost the port to another test: take another

    def _wait_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=1.0) as probe:
                    probe.settimeout(2.0)
                    if probe.recv(64).startswith(b"SSH-2.0-"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for pid in _descendants(process.pid):     # connections, their sessions and the commands they run
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)

    def swap_host_key(self) -> str:
        """Restart with a new host key on the same port, ending every connection; returns the new public key."""
        self.stop()
        _keygen(self.host_key, self.host_key_type)
        self.start()
        return self.public_host_key()

    def __enter__(self) -> Sshd:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()
