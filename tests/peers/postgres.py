"""A throw-away PostgreSQL server on 127.0.0.1 for the store tests.

The test command installs Debian's `postgresql`; this starts a private
cluster in a temporary folder on a free port (never the system's cluster).
PostgreSQL refuses to run as root, so as root the server runs as the
`postgres` user the Debian package created.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT_S = 30


def _bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found: run `bash tests/run.sh`, which installs Debian's postgresql")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a SQLAlchemy URL for the `postgres` superuser of a fresh private cluster."""
    root = Path(tempfile.mkdtemp(prefix="vigil-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (root, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    subprocess.run(
        _as_owner([_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]),
        check=True, capture_output=True,
    )
    port = free_port()
    log = open(root / "server.log", "wb")
    server = subprocess.Popen(
        _as_owner([
            _bin("postgres"), "-D", str(data), "-p", str(port), "-k", str(sockets),
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
        ]),
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"postgres exited: {(root / 'server.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("postgres did not start within 30 s") from None
                time.sleep(0.1)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)
