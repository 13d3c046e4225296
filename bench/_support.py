"""What both benchmarks share: certificates, a real collector process, /proc readings, tables.

Not a benchmark itself (hence the underscore). Every process started here is
a `Child` whose `stop()` is idempotent, so a benchmark can call it from a
`finally:` whatever went wrong before.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


class BenchError(RuntimeError):
    """The benchmark could not measure what it promised; the message says why."""


def sigterm_as_exit() -> None:
    """Make SIGTERM unwind through `finally:` blocks so children are stopped."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


# ------------------------------------------------------------------ /proc


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of `pid`, in seconds (clock-tick resolution)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    fields = data[data.rindex(b")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def thread_cpu_seconds(pid: int) -> dict[int, tuple[str, float]]:
    """Per thread of `pid`: (name, utime + stime seconds). Threads that already exited are not listed."""
    found: dict[int, tuple[str, float]] = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        name = data[data.index(b"(") + 1 : data.rindex(b")")].decode(errors="replace")
        fields = data[data.rindex(b")") + 2 :].split()
        found[int(task)] = (name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return found


def rss_kib(pid: int) -> int:
    return memory_kib(pid)["VmRSS"]


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and its split (RssAnon, RssFile, RssShmem) from /proc/PID/status, in KiB."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                found[key] = int(line.split()[1])
    if "VmRSS" not in found:
        raise BenchError(f"process {pid} has no VmRSS (a zombie?)")
    return found


def machine() -> dict[str, str]:
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": str(os.cpu_count()),
        "cpu_model": model,
        "python": sys.version.split()[0],
        "kernel": os.uname().release,
    }


def code_version() -> str:
    """The commit under test, and whether agent/, collector/ or protos/ differ from it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "agent", "collector", "protos"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return f"commit {commit or 'unknown'}" + (" + uncommitted changes in agent/, collector/ or protos/" if dirty else "")


def ensure_debian_package(package: str, binary: Path) -> bool:
    """Install `package` with apt-get if `binary` is missing (root only); True if it was installed now.

    A peer a benchmark compares with must be there; when it is not, say so
    and install it, trying `apt-get update` once if the install fails.
    """
    if binary.exists():
        return False
    command = ["apt-get", "install", "-y", "--no-install-recommends", package]
    if os.geteuid() != 0:
        raise BenchError(f"{binary} is missing and we are not root: {' '.join(command)}")
    print(f"  {binary} is missing: running {' '.join(command)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        print("  apt-get install failed; running apt-get update and trying again", flush=True)
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True, timeout=300)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not binary.exists():
        raise BenchError(f"could not install {package}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    print(f"  installed {package}", flush=True)
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ processes


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if the benchmark dies, even by SIGKILL (Linux)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """A process this benchmark started; `stop()` ends it (SIGTERM, then SIGKILL)."""

    def __init__(self, name: str, argv: Sequence[str], log: Path, **popen: object) -> None:
        self.name = name
        self.log = log
        self._log_file = open(log, "wb")
        popen.setdefault("stdout", self._log_file)
        popen.setdefault("stderr", self._log_file)
        popen.setdefault("preexec_fn", _die_with_parent)
        self.process = subprocess.Popen(list(argv), cwd=REPO, **popen)  # type: ignore[call-overload]
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace_s: float = 15.0) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                print(f"  {self.name} (pid {self.pid}) ignored SIGTERM for {grace_s:.0f}s: killing it", flush=True)
                self.process.kill()
                self.process.wait(5)
        self._log_file.close()
        return self.process.returncode

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def wait_for_ready_file(child: Child, path: Path, timeout_s: float = 60.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists():
            return json.loads(path.read_text())
        if not child.alive():
            raise BenchError(f"{child.name} exited with {child.process.returncode} before it was ready:\n{child.tail()}")
        time.sleep(0.05)
    raise BenchError(f"{child.name} was not ready within {timeout_s:.0f}s:\n{child.tail()}")


# ------------------------------------------------------------------ certificates and collector


def make_certs(directory: Path, agent_ids: Sequence[str]) -> Path:
    """A CA, a collector certificate for localhost/127.0.0.1, one client certificate per agent."""
    from collector import certs

    certs.create_ca(directory)
    certs.issue_collector(directory, ["localhost", "127.0.0.1"])
    for agent_id in agent_ids:
        certs.issue_agent(directory, agent_id)
    return directory


def write_collector_config(path: Path, certs_dir: Path, database: Path, rollup_interval: str = "30s") -> Path:
    path.write_text(
        "listen: 127.0.0.1:0\n"
        "tls:\n"
        f"  cert: {certs_dir / 'collector.pem'}\n"
        f"  key: {certs_dir / 'collector.key'}\n"
        f"  client_ca: {certs_dir / 'ca.pem'}\n"
        f"database: sqlite:///{database}\n"
        f"rollup_interval: {rollup_interval}\n"
        "log_level: info\n"
    )
    return path


def start_collector(workdir: Path, config: Path, name: str = "collector") -> tuple[Child, int]:
    """Start `python -m collector.main`; return it and the port it bound (from its ready file)."""
    ready = workdir / f"{name}.ready.json"
    ready.unlink(missing_ok=True)
    child = Child(
        name,
        [sys.executable, "-m", "collector.main", "-c", str(config), "--ready-file", str(ready)],
        workdir / f"{name}.log",
    )
    info = wait_for_ready_file(child, ready)
    if info["pid"] != child.pid:
        raise BenchError(f"{name}: ready file names pid {info['pid']}, but we started {child.pid}")
    return child, int(info["port"])


# ------------------------------------------------------------------ output


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def result_line(values: dict[str, object]) -> str:
    return "RESULT " + json.dumps(values, sort_keys=False)


def cleanup(children: Sequence[Child], workdir: Path, keep: bool) -> None:
    """Stop every process a benchmark started; delete its folder unless --keep."""
    for child in children:
        child.stop()
    if keep:
        print(f"  kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def print_provenance(code_at_start: str) -> None:
    """The machine and the commit measured, for the figures' footnote."""
    m = machine()
    print()
    print(f"machine: {m['cpus']} CPUs, {m['cpu_model']}, Python {m['python']}, Linux {m['kernel']}")
    now = code_version()
    print(f"code: {code_at_start}" + (f" at the start; now {now}" if now != code_at_start else ""))
