"""Real Vigil processes for end-to-end tests: a collector and agents, on 127.0.0.1.

Each runs as `python -m …` in its own process, exactly as deployed, with its
config written into the test's folder and its log kept there for the failure
message.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30


# Every process the running test started: a failing test's report ends with their logs.
started: list[VigilProcess] = []


class VigilProcess:
    def __init__(self, argv: list[str], log: Path, cwd: Path) -> None:
        started.append(self)
        self.log = log
        self._out = open(log, "wb")
        self.process = subprocess.Popen(
            [sys.executable, *argv], stdout=self._out, stderr=subprocess.STDOUT, cwd=cwd,
            env={"PYTHONUNBUFFERED": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        )

    def output(self) -> str:
        if not self._out.closed:
            self._out.flush()
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._out.close()
        return self.process.returncode


class Collector(VigilProcess):
    def __init__(self, folder: Path, config: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.config_path = folder / "collector.yaml"
        self.config_path.write_text(config)
        self.ready = folder / "collector.ready"
        self.ready.unlink(missing_ok=True)
        super().__init__(
            ["-m", "collector.main", "-c", str(self.config_path), "--ready-file", str(self.ready)],
            folder / "collector.log", folder,
        )
        self.port = self._wait_ready()

    def _wait_ready(self) -> int:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.ready.exists():
                return int(json.loads(self.ready.read_text())["port"])
            if not self.alive():
                raise RuntimeError(f"collector exited early:\n{self.output()}")
            time.sleep(0.05)
        raise RuntimeError(f"collector not ready in {START_TIMEOUT_S}s:\n{self.output()}")


class Agent(VigilProcess):
    def __init__(self, folder: Path, config: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.config_path = folder / "agent.yaml"
        self.config_path.write_text(config)
        super().__init__(["-m", "agent.main", "run", "-c", str(self.config_path)], folder / "agent.log", folder)


def wait_until(condition, timeout_s: float, what: str, interval_s: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll `condition()` until it returns something truthy; fail naming `what`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
