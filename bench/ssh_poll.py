"""SSH polling: the agent's SSH poller over 100 Linux servers and 50 network CLIs, beside plain `ssh` calls.

    .venv/bin/python bench/ssh_poll.py            # full: 100 Linux + 50 fakenos devices, every 30 s, ~4 min
    .venv/bin/python bench/ssh_poll.py --quick    # 40 Linux + 10 fakenos, every 10 s, under 90 s

Peers on 127.0.0.1: one Debian OpenSSH sshd (tests/peers/sshd.py) serves
every Linux target — each target is a device of its own pointing at it, with
its own session — and one fakenos process serves the network devices, half
cisco_ios, half huawei_vrp (tests/peers/fakenos.py, with the command outputs
the poll reads that fakenos lacks, as the tests add them).

In one run, one after the other:

* Vigil: a process of its own (`--role vigil`, with the agent's
  MALLOC_MMAP_THRESHOLD_) loads an agent config listing the devices with
  `agent.config.load_isolated` and builds the pollers with
  `agent.pollers.build`, as the agent does: `SshDevicePoller`s on the
  agent's shared `SessionPool`, the default `max_in_flight` (16). It imports
  paramiko and netmiko, reads its RSS, polls every device once (150 logins,
  150 sessions left open) and reads its RSS again: **rss_growth_mib** is what
  the open sessions cost, the libraries' import is printed apart. Then the
  agent's `Scheduler` (default jitter) runs the Linux pollers alone for
  `--rounds` intervals — **agent_cpu_s_per_round** is the process's CPU
  (all threads: paramiko's transport threads included) per interval — and
  then all 150 devices together for as many intervals. Poll durations are the
  agent's own `vigil_poll_duration_seconds` of every poll in both phases.
* Baseline: this process runs, for each Linux target, one plain
  `ssh -i KEY -p PORT user@127.0.0.1 'cat /proc/stat /proc/meminfo
  /proc/loadavg /proc/uptime /proc/net/dev /proc/diskstats; df -P; df -Pi'`
  (OpenSSH's client, 16 at once, host key checking off), which fetches the
  same figures unparsed; **baseline_cpu_s_per_round** is the ssh clients'
  CPU (RUSAGE_CHILDREN) for the 100 calls. **cpu_ratio** = Vigil's CPU per
  round of the Linux targets ÷ the baseline's (target ≤ 0.5).

sshd and fakenos run on the same machine; their CPU is not counted on
either side (both clients need a server), but it shares the cores, so
compare CPU seconds, not wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _support as S  # noqa: E402  (puts the repo root on sys.path)

FULL = {"linux": 100, "network": 50, "interval": 30.0, "rounds": 2}
QUICK = {"linux": 40, "network": 10, "interval": 10.0, "rounds": 1}
CPU_RATIO_TARGET = 0.5
RSS_TARGET_MIB = 30.0
BASELINE_PARALLEL = 16
BASELINE_COMMAND = ("cat /proc/stat /proc/meminfo /proc/loadavg /proc/uptime /proc/net/dev /proc/diskstats; "
                    "df -P; df -Pi")


# ------------------------------------------------------------------ the Vigil process (--role vigil)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def vigil_role(args: argparse.Namespace) -> int:
    from agent import config as agent_config
    from agent import pollers as registry

    def say(text: str) -> None:
        print(text, flush=True)

    config = agent_config.load_isolated(args.config)      # as `vigil-agent run`: pydantic stays in a child

    async def run() -> dict[str, Any]:
        from agent.pollers.ssh.poller import SshDevicePoller
        from agent.scheduler import Scheduler

        rss_start = S.rss_kib(os.getpid())
        built = registry.build(config)
        ssh = [p for p in built if isinstance(p, SshDevicePoller)]
        linux = [p for p in ssh if p.platform == "linux"]
        if len(ssh) != len(config.devices):
            raise S.BenchError(f"built {len(ssh)} SSH pollers for {len(config.devices)} devices")
        import netmiko  # noqa: F401  (what the first session of its kind imports; measured apart)
        import paramiko  # noqa: F401

        rss_libraries = S.rss_kib(os.getpid())
        say(f"built {len(ssh)} SshDevicePollers ({len(linux)} linux), max_in_flight {config.pollers.ssh.max_in_flight}; "
            f"RSS {rss_start / 1024:.1f} MiB, {rss_libraries / 1024:.1f} MiB with paramiko and netmiko imported")
        t0, c0 = time.perf_counter(), time.process_time()
        warm = await asyncio.gather(*(p.poll() for p in ssh), return_exceptions=True)
        failed = [(p.device_id, r) for p, r in zip(ssh, warm) if isinstance(r, BaseException)]
        if failed:
            raise S.BenchError(f"{len(failed)} of {len(ssh)} warm-up polls failed; {failed[0][0]}: {failed[0][1]!r}")
        warm_wall, warm_cpu = time.perf_counter() - t0, time.process_time() - c0
        sessions = registry.shared("ssh_sessions", lambda: None)
        open_sessions = len(sessions.open_sessions())
        rss_sessions = S.rss_kib(os.getpid())
        say(f"warm-up: {len(ssh)} logins and polls in {warm_wall:.1f} s wall, {warm_cpu:.2f} CPU s; "
            f"{open_sessions} sessions open; RSS {rss_sessions / 1024:.1f} MiB")
        if open_sessions != len(ssh):
            raise S.BenchError(f"{open_sessions} sessions open after the warm-up, expected {len(ssh)}")

        async def phase(chosen: list[Any], name: str) -> dict[str, Any]:
            polls: list[Any] = []
            on_device: list[float] = []         # each poll's time with its slot: session, commands (no queueing)
            by_id = {p.device_id: p for p in chosen}

            def sink(poll: Any) -> None:
                polls.append(poll)
                on_device.append(by_id[poll.device].last_run_s)

            scheduler = Scheduler(chosen, sink, config.pollers.jitter)
            c0 = time.process_time()
            task = asyncio.create_task(scheduler.run())
            await asyncio.sleep(args.interval * args.rounds)
            cpu = time.process_time() - c0
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            durations = [v for p in polls for n, _, v in p.samples if n == "vigil_poll_duration_seconds"]
            failures = [p for p in polls if any(n == "vigil_poll_error_info" for n, _, _ in p.samples)]
            samples = sum(len(p.samples) for p in polls)
            say(f"{name}: {len(chosen)} devices every {args.interval:g} s for {args.rounds} round(s): {len(polls)} polls, "
                f"{len(failures)} failed, {samples:,} samples, {cpu:.2f} CPU s ({cpu / args.rounds:.2f} per round), "
                f"poll p50 {_percentile(durations, 0.5) * 1000:.0f} ms, p99 {_percentile(durations, 0.99) * 1000:.0f} ms "
                f"(of which on the device, after the max_in_flight queue: p50 {_percentile(on_device, 0.5) * 1000:.0f} ms, "
                f"p99 {_percentile(on_device, 0.99) * 1000:.0f} ms)")
            if failures:
                kinds = {dict(l).get("kind") for p in failures for n, l, _ in p.samples if n == "vigil_poll_error_info"}
                raise S.BenchError(f"{name}: {len(failures)} polls failed ({', '.join(sorted(map(str, kinds)))})")
            if len(polls) < len(chosen) * args.rounds * 0.9:
                raise S.BenchError(f"{name}: only {len(polls)} polls in {args.rounds} rounds of {len(chosen)} devices")
            return {"cpu_s_per_round": cpu / args.rounds, "polls": len(polls), "durations": durations,
                    "on_device": on_device, "samples_per_round": samples / args.rounds}

        linux_phase = await phase(linux, "linux only")
        all_phase = await phase(ssh, "all devices")
        rss_end = S.rss_kib(os.getpid())
        await sessions.close()
        durations = linux_phase["durations"] + all_phase["durations"]
        return {
            "rss_start_kib": rss_start, "rss_libraries_kib": rss_libraries, "rss_sessions_kib": rss_sessions,
            "rss_end_kib": rss_end, "warm_wall_s": warm_wall, "warm_cpu_s": warm_cpu,
            "linux_cpu_s_per_round": linux_phase["cpu_s_per_round"], "all_cpu_s_per_round": all_phase["cpu_s_per_round"],
            "linux_samples_per_round": linux_phase["samples_per_round"],
            "all_samples_per_round": all_phase["samples_per_round"],
            "poll_p50_ms": _percentile(durations, 0.5) * 1000, "poll_p99_ms": _percentile(durations, 0.99) * 1000,
            "device_p50_ms": _percentile(linux_phase["on_device"] + all_phase["on_device"], 0.5) * 1000,
            "device_p99_ms": _percentile(linux_phase["on_device"] + all_phase["on_device"], 0.99) * 1000,
            "linux_p99_ms": _percentile(linux_phase["durations"], 0.99) * 1000,
            "polls": linux_phase["polls"] + all_phase["polls"],
        }

    result = asyncio.run(run())
    Path(args.result).write_text(json.dumps(result))
    return 0


# ------------------------------------------------------------------ the driver


def write_config(path: Path, sshd: Any, fakenos: Any, linux: int, interval: float) -> Path:
    lines = [
        "agent: {id: bench, customer: bench, site: bench}",
        f'collector: {{address: "127.0.0.1:{S.free_port()}", insecure: true}}',
        f"state_dir: {path.parent / 'state'}",
        "pollers:",
        "  host: {enabled: false}",
        f"  ssh: {{interval: {interval}s, timeout: {max(20.0, interval * 0.9)}s}}",
        "devices:",
    ]
    for n in range(linux):
        lines.append(f"  - {{id: srv-{n:03d}, kind: server, address: 127.0.0.1, platform: linux, ssh: "
                     f"{{port: {sshd.port}, username: {sshd.username}, private_key: {sshd.client_key}, poll: true}}}}")
    for name, platform in fakenos.hosts.items():
        lines.append(f"  - {{id: {name}, kind: switch, address: 127.0.0.1, platform: {platform}, ssh: "
                     f"{{port: {fakenos.ports[name]}, username: {fakenos.username}, password: {fakenos.password}, "
                     f"poll: true, timeout: 30s}}}}")
    path.write_text("\n".join(lines) + "\n")
    return path


def baseline(sshd: Any, targets: int, known_hosts: Path) -> tuple[float, float]:
    """CPU seconds of `targets` plain ssh client calls (children's utime + stime) and their wall time."""
    argv = ["ssh", "-i", str(sshd.client_key), "-p", str(sshd.port), "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={known_hosts}", "-o", "LogLevel=ERROR",
            f"{sshd.username}@{sshd.host}", BASELINE_COMMAND]

    def one(_: int) -> int:
        done = subprocess.run(argv, capture_output=True, timeout=60)
        if done.returncode != 0 or b"MemTotal" not in done.stdout:
            raise S.BenchError(f"ssh baseline call failed ({done.returncode}): {done.stderr.decode(errors='replace')[-500:]}")
        return len(done.stdout)

    one(0)                                              # the host key recorded, caches warm
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with ThreadPoolExecutor(BASELINE_PARALLEL) as pool:
        list(pool.map(one, range(targets)))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def driver(args: argparse.Namespace) -> int:
    from tests.agent.ssh_poller.conftest import POLL_COMMANDS
    from tests.peers.fakenos import FakeNos
    from tests.peers.sshd import Sshd

    shape = dict(QUICK if args.quick else FULL)
    for key in ("linux", "network", "interval", "rounds"):
        if getattr(args, key) is not None:
            shape[key] = getattr(args, key)
    print(f"ssh_poll: {shape['linux']} Linux targets on one sshd, {shape['network']} fakenos devices, every "
          f"{shape['interval']:g} s, {shape['rounds']} round(s) per phase; {S.code_version()}", flush=True)
    print("machine: " + ", ".join(f"{k} {v}" for k, v in S.machine().items()), flush=True)
    with tempfile.TemporaryDirectory(prefix="vigil-bench-ssh-") as scratch:
        work = Path(scratch)
        hosts = {f"{'cisco' if n % 2 == 0 else 'huawei'}-{n:02d}": ("cisco_ios" if n % 2 == 0 else "huawei_vrp")
                 for n in range(int(shape["network"]))}
        t0 = time.perf_counter()
        with Sshd(work / "sshd") as sshd, FakeNos(work / "fakenos", hosts, extra_commands=POLL_COMMANDS) as fakenos:
            print(f"peers up in {time.perf_counter() - t0:.1f} s: sshd on {sshd.port}, fakenos with {len(hosts)} devices",
                  flush=True)
            config = write_config(work / "agent.yaml", sshd, fakenos, int(shape["linux"]), float(shape["interval"]))
            result_file = work / "vigil.json"
            env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}
            fakenos_pid = fakenos._process.pid if fakenos._process is not None else 0
            fakenos_cpu0 = S.cpu_seconds(fakenos_pid) if fakenos_pid else 0.0
            vigil_started = time.perf_counter()
            load_before = os.getloadavg()[0]
            vigil = S.Child("vigil", [sys.executable, str(Path(__file__).resolve()), "--role", "vigil", "--config",
                                      str(config), "--result", str(result_file), "--interval", str(shape["interval"]),
                                      "--rounds", str(shape["rounds"])], work / "vigil.log", env=env)
            try:
                while vigil.alive():
                    time.sleep(0.5)
            finally:
                code = vigil.stop()
            print("\n".join("  vigil| " + line for line in vigil.log.read_text(errors="replace").splitlines()
                            if not line.startswith(("Exception in thread", "Traceback", "  "))), flush=True)
            if code != 0 or not result_file.exists():
                raise S.BenchError(f"the Vigil process failed (exit {code}):\n{vigil.tail(30)}")
            vigil_result = json.loads(result_file.read_text())
            vigil_wall = time.perf_counter() - vigil_started
            fakenos_cpu = (S.cpu_seconds(fakenos_pid) - fakenos_cpu0) if fakenos_pid else float("nan")
            print(f"peers while Vigil ran ({vigil_wall:.0f} s): fakenos used {fakenos_cpu:.1f} CPU s "
                  f"({fakenos_cpu / vigil_wall:.2f} of a core); machine load average {load_before:.1f} → "
                  f"{os.getloadavg()[0]:.1f} (other work on the machine shares its {os.cpu_count()} cores)", flush=True)
            base_cpu, base_wall = baseline(sshd, int(shape["linux"]), work / "known_hosts")
    linux_targets = int(shape["linux"])
    # The baseline is per 100 targets in the full run; scaled alike for a smaller one.
    agent_cpu = vigil_result["linux_cpu_s_per_round"]
    ratio = agent_cpu / base_cpu if base_cpu > 0 else float("inf")
    growth_mib = (vigil_result["rss_sessions_kib"] - vigil_result["rss_libraries_kib"]) / 1024
    libraries_mib = (vigil_result["rss_libraries_kib"] - vigil_result["rss_start_kib"]) / 1024
    sessions = linux_targets + int(shape["network"])
    rows = [
        ["Vigil, Linux targets only", f"{linux_targets}", f"{agent_cpu:.2f}",
         f"{agent_cpu / linux_targets * 1000:.1f}", f"{vigil_result['linux_p99_ms']:.0f}"],
        ["Vigil, all devices", f"{sessions}", f"{vigil_result['all_cpu_s_per_round']:.2f}",
         f"{vigil_result['all_cpu_s_per_round'] / sessions * 1000:.1f}", "-"],
        [f"plain ssh ({BASELINE_PARALLEL} at once)", f"{linux_targets}", f"{base_cpu:.2f}",
         f"{base_cpu / linux_targets * 1000:.1f}", f"(wall {base_wall:.1f} s)"],
    ]
    print()
    print(S.table(rows, ["client", "targets", "CPU s / round", "CPU ms / target", "poll p99 ms"]))
    print()
    print(f"RSS: {vigil_result['rss_start_kib'] / 1024:.1f} MiB after building the pollers, +{libraries_mib:.1f} MiB "
          f"importing paramiko and netmiko, +{growth_mib:.1f} MiB for {sessions} open sessions "
          f"({growth_mib * 1024 / sessions:.0f} KiB each), {vigil_result['rss_end_kib'] / 1024:.1f} MiB at the end")
    print(f"poll duration over every poll of both phases (vigil_poll_duration_seconds): p50 "
          f"{vigil_result['poll_p50_ms']:.0f} ms, p99 {vigil_result['poll_p99_ms']:.0f} ms; on the device, after "
          f"waiting for a max_in_flight slot: p50 {vigil_result['device_p50_ms']:.0f} ms, "
          f"p99 {vigil_result['device_p99_ms']:.0f} ms")
    ok = ratio <= CPU_RATIO_TARGET and growth_mib <= RSS_TARGET_MIB
    print(f"targets: cpu_ratio {ratio:.2f} (≤ {CPU_RATIO_TARGET}), rss_growth {growth_mib:.1f} MiB "
          f"(≤ {RSS_TARGET_MIB:g} for 150 sessions): {'met' if ok else 'NOT met'}")
    print(S.result_line({
        "agent_cpu_s_per_round": round(agent_cpu, 3), "baseline_cpu_s_per_round": round(base_cpu, 3),
        "cpu_ratio": round(ratio, 3), "rss_growth_mib": round(growth_mib, 1),
        "poll_p99_ms": round(vigil_result["poll_p99_ms"], 1),
    }))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="40 Linux + 10 fakenos devices every 10 s (under 90 s)")
    parser.add_argument("--linux", type=int, help="Linux targets (default 100, quick 40)")
    parser.add_argument("--network", type=int, help="fakenos devices (default 50, quick 10)")
    parser.add_argument("--interval", type=float, help="poll interval in seconds (default 30, quick 10)")
    parser.add_argument("--rounds", type=int, help="timed intervals per phase (default 2, quick 1)")
    parser.add_argument("--role", choices=["vigil"], help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    S.sigterm_as_exit()
    try:
        if args.role == "vigil":
            return vigil_role(args)
        return driver(args)
    except S.BenchError as exc:
        print(f"FAILED: {exc}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
