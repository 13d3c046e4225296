"""A throw-away VictoriaMetrics on 127.0.0.1: the real server the InfluxDB sink's tests write to.

No InfluxDB 2.x can be installed on these machines; Debian's
`victoria-metrics` (the test command installs it) accepts the InfluxDB v2
write API (`/api/v2/write`) that influxdb-client speaks. What it does
differently, and the tests must allow for:

* a point is stored as the series `{measurement}_{field}`, tags as labels;
* org, bucket and token are ignored;
* integers are stored as floats, string fields as 0;
* a line it cannot parse is skipped (and logged) while the request still gets
  204 — it never answers 400 or 422 for a line, so those answers come from a
  stand-in (tests/collector/sinks/standin.py);
* a point sent twice is stored twice (InfluxDB overwrites it), which is what
  lets the tests see a duplicate.

It starts in a fraction of a second, so each test gets its own, on a free
port with its own data folder; `stop()` and `start()` again keep the data
(the outage test).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BINARY = "victoria-metrics"
START_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VictoriaMetrics:
    def __init__(self, folder: Path, port: int | None = None) -> None:
        binary = shutil.which(BINARY)
        if binary is None:
            raise RuntimeError("victoria-metrics not found: run `bash tests/run.sh`, which installs Debian's victoria-metrics")
        self.binary = binary
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> VictoriaMetrics:
        self._log = open(self.folder / "victoria-metrics.log", "ab")
        self.process = subprocess.Popen(
            [
                self.binary, f"-httpListenAddr=127.0.0.1:{self.port}", f"-storageDataPath={self.folder / 'data'}",
                "-retentionPeriod=100y", "-search.latencyOffset=0s", "-search.disableCache",
            ],
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"victoria-metrics exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as reply:
                    if reply.read().strip() == b"OK":
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"victoria-metrics did not answer /health within {START_TIMEOUT_S}s:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        path = self.folder / "victoria-metrics.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def flush(self) -> None:
        """Make everything received so far searchable (VictoriaMetrics buffers it for about a second)."""
        urllib.request.urlopen(self.url + "/internal/force_flush", timeout=10).read()

    def export(self, match: str = '{__name__=~".+"}') -> list[dict]:
        """Every stored series matching `match`: {"metric": {__name__, labels…}, "values": […], "timestamps": [ms…]}."""
        self.flush()
        query = urllib.parse.urlencode({"match[]": match, "start": "0"})
        with urllib.request.urlopen(f"{self.url}/api/v1/export?{query}", timeout=60) as reply:
            return [json.loads(line) for line in reply.read().decode().splitlines() if line.strip()]

    def points(self, match: str = '{__name__=~".+"}') -> list[tuple[str, tuple[tuple[str, str], ...], float, int]]:
        """Every stored point as (name, sorted labels, value, timestamp ms), duplicates kept, sorted."""
        found = []
        for series in self.export(match):
            labels = dict(series["metric"])
            name = labels.pop("__name__")
            key = tuple(sorted(labels.items()))
            found.extend((name, key, float(v), int(t)) for v, t in zip(series["values"], series["timestamps"]))
        return sorted(found)

    def __enter__(self) -> VictoriaMetrics:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
