"""Remote diagnosis at scale: one playbook on 50 fakenos Cisco IOS devices at once, through Vigil, beside plain netmiko.

    .venv/bin/python bench/playbooks.py            # full: 5 rounds of each side, about 2–3 min
    .venv/bin/python bench/playbooks.py --quick    # the same figures from 1 round of each, about 35–40 s

The playbook is the shipped `cisco_ios_health` (show version, show processes
cpu sorted, show memory statistics, show environment all, show logging; its
TextFSM parsing and findings) with one step put first: `show clock`, which
the fakenos devices answer from Python at that moment, in IOS' own format
with milliseconds (`*03:12:45.123 UTC Tue Nov 25 2026`). That line carries
the device's `time.time()` when it produced it, so "first output line at the
CLI within 300 ms of the device sending it" is measured, not assumed. The
file is written to a temporary folder, given to the agent
(`playbooks: {dirs: [...]}`) and to the submitting code (as `VIGIL_PLAYBOOKS`
would give it to the CLI).

**Vigil** (one round): 50 runs queued the way `vigil run` queues them
(`collector.runs.submit.find_device` + `submit`, in this process, one after
the other, inside the clock) into the store of a real `python -m
collector.main`; its RunDispatcher sends them down the stream of a real
`python -m agent.main run`, whose PlaybookRunner runs the steps through its
SessionPool (netmiko in worker threads) and streams the lines back; the
collector stores them; a follower in this process polls the store as `vigil
run` does (`FOLLOW_POLL_S`, 50 ms) — one query for the new output rows of
all 50 runs and one for their statuses per poll, instead of 50 CLIs' 100
(same latency, a fiftieth of the reading). Clock: before the first submit →
the follower sees the last run's final status. Every run must end `ok` with
every step finished and parsed, else FAILED.

The agent runs with `playbooks.max_concurrent_runs: 50` (the default, 16,
would run 50 devices in four waves); its SessionPool then allows
2 × 50 + 16 = 116 sessions with 120 worker threads, so neither is a cap.
Each round starts with a freshly started agent (no SSH session open: every
run logs in, as plain netmiko does) that has run the playbook once on a
51st device first, so netmiko's import and the runner's set-up are not in
the clock (they happen once per agent life). A second, "warm" round right
after reuses the open sessions: the path without logins (shown, not a
target).

**Plain netmiko** (one round): the same commands (from the same playbook's
plan, with the same read timeouts) with `ConnectHandler` in a pool of 50
threads: connect, `enable()`, the six `send_command`s, `disconnect()`.
Clock: before the pool starts → the last thread returns.

Rounds alternate which side goes first; the agent is stopped (its sessions
closed) before every plain round so fakenos serves only one side at a time.
fakenos runs in `--fakenos-processes` processes (default 2), hosts spread
round-robin. It echoes input one byte per 10 ms and polls its shell's
output every 10 ms; both sides pay that equally.

Figures: wall time, runs/s, first line (device's clock → the follower saw
the line; p50 and max over every run of every cold round — RESULT's
`first_line_ms` is the **max**), where a run's time goes (queue → sent,
sent → first step started i.e. login, steps, end → seen) beside plain
netmiko's (login, commands, disconnect), and CPU seconds per round of every
process.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import _support as S  # noqa: E402  (puts the repo root on sys.path)

# This file has the name of the `playbooks` package: with bench/ on the path, `import playbooks` would find it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

AGENT_ID = "bench-playbooks"
HOST_DEVICE = "bench-playbooks-host"
BASE_PLAYBOOK = "cisco_ios_health"
PLAYBOOK_ID = "bench_ios_health"
CLOCK_STEP = "clock"
WARMUP_DEVICE = "sw-warmup"
OVERHEAD_TARGET_PCT = 10.0
FIRST_LINE_TARGET_MS = 300.0
CLOCK_FORMAT = "%H:%M:%S UTC %a %b %d %Y"
MEMORY_FIXTURE = "templates/cisco_ios/show_memory_statistics/healthy_isr2911.raw"

# What fakenos' launcher learns on top of tests/peers/fakenos.py's: an output `{"clock": "ios"}`
# becomes a function answering `show clock` with the device's time at that moment, in milliseconds.
_CLOCK_CODE = r"""
def clock(*args, **kwargs):
    now = time.time()
    ms = int(now * 1000) % 1000
    return time.strftime("*%H:%M:%S", time.gmtime(now)) + ".%03d" % ms + time.strftime(" UTC %a %b %d %Y", time.gmtime(now))

for host in inventory["hosts"].values():
    for spec in host["nos"]["configuration"]["commands"].values():
        if spec.get("output") == {"clock": "ios"}:
            spec["output"] = clock
"""
_LAUNCH_ANCHOR = "net = FakeNOS(inventory=inventory)"


def device_time(line: str) -> float:
    """The epoch seconds in a `show clock` line such as `*03:12:45.123 UTC Tue Nov 25 2026` (to the millisecond)."""
    clock, rest = line.strip().lstrip("*.").split(" ", 1)
    hms, millis = clock.split(".")
    return calendar.timegm(time.strptime(f"{hms} {rest}", CLOCK_FORMAT)) + int(millis) / 1000


# ---------------------------------------------------------------- peers


def start_fakenos(root: Path, names: list[str], processes: int) -> list[Any]:
    """fakenos cisco_ios hosts spread round-robin over `processes` processes, started at once."""
    import tests.peers.fakenos as peer

    if _LAUNCH_ANCHOR not in peer._LAUNCHER:
        raise S.BenchError(f"tests/peers/fakenos.py's launcher changed: no {_LAUNCH_ANCHOR!r} to add the clock before")
    memory = (S.REPO / "playbooks" / MEMORY_FIXTURE).read_text()
    extra = {"cisco_ios": {"show clock": {"output": {"clock": "ios"}}, "show memory statistics": {"output": memory}}}
    noses = [peer.FakeNos(root / f"fakenos-{i}", {name: "cisco_ios" for name in names[i::processes]}, extra_commands=extra)
             for i in range(processes)]
    original = peer._LAUNCHER
    peer._LAUNCHER = original.replace(_LAUNCH_ANCHOR, _CLOCK_CODE + _LAUNCH_ANCHOR)
    errors: list[BaseException] = []

    def start(nos: Any) -> None:
        try:
            nos.start()
        except BaseException as exc:  # noqa: BLE001 - reported below, after every start ended
            errors.append(exc)

    try:
        threads = [threading.Thread(target=start, args=(nos,)) for nos in noses]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        peer._LAUNCHER = original
    if errors:
        for nos in noses:
            nos.stop()
        raise S.BenchError(f"fakenos did not start: {errors[0]}")
    return noses


def write_playbook(folder: Path) -> Path:
    """The shipped cisco_ios_health with `show clock` as its first step, under another id."""
    from playbooks import SHIPPED

    text = (SHIPPED / f"{BASE_PLAYBOOK}.yaml").read_text()
    if f"id: {BASE_PLAYBOOK}\n" not in text or "\nsteps:\n" not in text:
        raise S.BenchError(f"playbooks/{BASE_PLAYBOOK}.yaml changed shape: cannot derive the bench playbook from it")
    text = text.replace(f"id: {BASE_PLAYBOOK}\n", f"id: {PLAYBOOK_ID}\n", 1).replace(
        "\nsteps:\n",
        f"\nsteps:\n  - name: {CLOCK_STEP}\n    command:\n      cisco_ios: show clock\n    timeout: 30\n\n", 1)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{PLAYBOOK_ID}.yaml"
    path.write_text(text)
    return path


def write_agent_config(path: Path, port: int, certs: Path, playbooks: Path, ports: dict[str, int], username: str,
                       password: str, max_concurrent_runs: int) -> Path:
    devices = "".join(
        f"  - {{id: {name}, kind: switch, address: 127.0.0.1, platform: cisco_ios, ssh: {{port: {port_}, credentials: fakenos}}}}\n"
        for name, port_ in ports.items()
    )
    path.write_text(
        f"agent: {{id: {AGENT_ID}, customer: bench-customer, site: bench-site}}\n"
        "collector:\n"
        f'  address: "localhost:{port}"\n'
        "  tls:\n"
        f"    ca: {certs / 'ca.pem'}\n"
        f"    cert: {certs / 'agents' / (AGENT_ID + '.pem')}\n"
        f"    key: {certs / 'agents' / (AGENT_ID + '.key')}\n"
        "  reconnect: {initial: 200ms, max: 1s}\n"
        f"state_dir: {path.parent / 'agent-state'}\n"
        f"pollers: {{host: {{device_id: {HOST_DEVICE}}}}}\n"
        f"playbooks: {{dirs: [{playbooks}], max_concurrent_runs: {max_concurrent_runs}}}\n"
        f"ssh_credentials: {{fakenos: {{username: {username}, password: {password}}}}}\n"
        "devices:\n" + devices
    )
    return path


class AgentProcess:
    """`python -m agent.main run`, (re)started for every round so each cold round logs in afresh."""

    def __init__(self, workdir: Path, config: Path, engine: Any, devices: int) -> None:
        self.workdir, self.config, self.engine, self.devices = workdir, config, engine, devices
        self.child: S.Child | None = None
        self.starts = 0
        self.stale_disconnects = 0      # stops after which the collector kept showing the agent connected

    def connected(self, since_ms: int = 0) -> bool:
        """The collector shows the agent connected (registered at or after `since_ms`) with its whole inventory."""
        from sqlalchemy import func, select

        from collector.store import schema

        agents = schema.agents
        with self.engine.connect() as c:
            row = c.execute(select(agents.c.connected, agents.c.last_seen_ms).where(agents.c.agent_id == AGENT_ID)).first()
            known = c.execute(select(func.count()).select_from(schema.devices).where(schema.devices.c.agent_id == AGENT_ID)).scalar()
        return row is not None and bool(row.connected) and row.last_seen_ms >= since_ms and (known or 0) >= self.devices

    def start(self) -> S.Child:
        self.starts += 1
        since_ms = int(time.time() * 1000)
        self.child = S.Child(f"agent-{self.starts}", [sys.executable, "-m", "agent.main", "run", "-c", str(self.config)],
                             self.workdir / f"agent-{self.starts}.log")
        deadline = time.monotonic() + 60
        while not self.connected(since_ms):
            if not self.child.alive():
                raise S.BenchError(f"the agent exited with {self.child.process.returncode}:\n{self.child.tail()}")
            if time.monotonic() > deadline:
                raise S.BenchError(f"the agent did not connect within 60 s:\n{self.child.tail()}")
            time.sleep(0.1)
        return self.child

    def stop(self) -> None:
        """Stop the agent (it closes its SSH sessions) and wait for the collector to see it gone (15 s at most)."""
        if self.child is None:
            return
        code = self.child.stop(grace_s=20)
        if code != 0:
            raise S.BenchError(f"the agent exited with {code}:\n{self.child.tail()}")
        self.child = None
        deadline = time.monotonic() + 15
        while self.connected():
            if time.monotonic() > deadline:
                self.stale_disconnects += 1
                print("  (the collector still shows the stopped agent connected after 15 s; going on: the next agent's "
                      "registration is waited for by its time)", flush=True)
                return
            time.sleep(0.1)


# ---------------------------------------------------------------- the Vigil side


@dataclass
class Seen:
    first_line_at: float = 0.0      # when the follower saw the run's first output line (time.time())
    first_line: str = ""
    first_line_stored_ms: int = 0   # at_ms of that output row (the collector's append)
    ended_at: float = 0.0           # when the follower saw a final status


class Follower(threading.Thread):
    """What `vigil run` does to follow a run (poll the stored rows every FOLLOW_POLL_S), for every run at once."""

    def __init__(self, engine: Any) -> None:
        super().__init__(name="follower", daemon=True)
        from collector.cli.runs_command import FOLLOW_POLL_S

        self.engine = engine
        self.poll_s = FOLLOW_POLL_S
        self.runs: dict[int, Seen] = {}
        self._active: set[int] = set()
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._last_entry = 0
        self.polls = 0
        self.error: BaseException | None = None
        self.idle = threading.Event()

    def watch(self, run_id: int) -> None:
        with self._lock:
            self.runs[run_id] = Seen()
            self._active.add(run_id)
            self.idle.clear()

    def halt(self) -> None:
        self._halt.set()
        self.join(10)

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                self._poll()
                self._halt.wait(self.poll_s)
        except BaseException as exc:  # noqa: BLE001 - the main thread reports it
            self.error = exc
            self.idle.set()

    def _poll(self) -> None:
        from sqlalchemy import select

        from collector.runs import records

        out, runs = records.output, records.runs
        with self._lock:
            active = set(self._active)
        if not active:
            self.idle.set()
            return
        self.polls += 1
        with self.engine.connect() as c:
            rows = c.execute(
                select(out.c.entry_id, out.c.run_id, out.c.kind, out.c.step, out.c.text, out.c.at_ms)
                .where(out.c.entry_id > self._last_entry).order_by(out.c.entry_id)
            ).all()
            now = time.time()
            for row in rows:
                self._last_entry = row.entry_id
                seen = self.runs.get(row.run_id)
                if seen is not None and row.kind == "lines" and not seen.first_line_at:
                    if row.step != CLOCK_STEP:
                        raise S.BenchError(f"run {row.run_id}: the first output line came from step {row.step!r}, not {CLOCK_STEP!r}")
                    seen.first_line_at, seen.first_line = now, row.text.split("\n", 1)[0]
                    seen.first_line_stored_ms = row.at_ms
            ended = c.execute(select(runs.c.run_id).where(runs.c.run_id.in_(active), runs.c.status.in_(records.FINAL))).scalars().all()
        now = time.time()
        with self._lock:
            for run_id in ended:
                self.runs[run_id].ended_at = now
                self._active.discard(run_id)
            if not self._active:
                self.idle.set()


@dataclass
class Round:
    side: str                       # vigil | vigil-warm | plain
    wall_s: float
    runs: int
    first_line_ms: list[float] = field(default_factory=list)
    phases: dict[str, list[float]] = field(default_factory=dict)     # phase → seconds per run
    cpu: dict[str, float] = field(default_factory=dict)              # process → CPU seconds in the round
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # device → step → text (for the comparison)

    @property
    def runs_per_s(self) -> float:
        return self.runs / self.wall_s


class CpuMeter:
    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.pids = pids

    def read(self) -> dict[str, float]:
        return {name: sum(S.cpu_seconds(pid) for pid in pids) for name, pids in self.pids.items()}

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {name: after[name] - before[name] for name in before}


def vigil_round(engine: Any, library: Any, devices: list[str], follower: Follower, cpu: CpuMeter, side: str,
                timeout_s: float) -> Round:
    from collector.runs import records, submit

    before = cpu.read()
    started_wall, started = time.time(), time.monotonic()
    run_ids: dict[int, str] = {}
    for device in devices:
        ref = submit.find_device(engine, f"{AGENT_ID}/{device}")
        run_id = submit.submit(engine, library, PLAYBOOK_ID, ref, {}, "bench")
        follower.watch(run_id)
        run_ids[run_id] = device
    submitted = time.monotonic() - started
    if not follower.idle.wait(timeout_s):
        raise S.BenchError(f"{side}: the runs did not all end within {timeout_s:.0f} s")
    if follower.error is not None:
        raise S.BenchError(f"the follower failed: {follower.error!r}")
    ended = max(follower.runs[r].ended_at for r in run_ids)
    result = Round(side, ended - started_wall, len(run_ids), cpu=CpuMeter.spent(before, cpu.read()))
    result.phases["submit (all 50, this process)"] = [submitted]
    for run_id, device in run_ids.items():
        row = records.get(engine, run_id)
        items = records.output_of(engine, run_id)
        finished = [i for i in items if i.kind == "step_finished"]
        if row.status != "ok" or len(finished) != 6:
            raise S.BenchError(f"run {run_id} on {device}: status {row.status} ({row.error}), {len(finished)} steps finished")
        for item in finished:
            data = json.loads(item.data)
            if data.get("error") or data.get("timed_out") or (item.step != CLOCK_STEP and not data.get("rows")):
                raise S.BenchError(f"run {run_id} on {device}, step {item.step}: {data.get('error') or 'no rows parsed'}")
        texts: dict[str, list[str]] = {}
        for item in items:
            if item.kind == "lines":
                texts.setdefault(item.step, []).append(item.text)
        result.outputs[device] = {step: "\n".join(parts) for step, parts in texts.items()}
        seen = follower.runs[run_id]
        stamp = device_time(seen.first_line)
        result.first_line_ms.append(1000 * (seen.first_line_at - stamp))
        first_started = min(i.at_ms for i in items if i.kind == "step_started")
        phase = result.phases
        phase.setdefault("queued → sent to the agent", []).append((row.sent_ms - row.requested_ms) / 1000)
        phase.setdefault("sent → first step stored (login)", []).append((first_started - row.sent_ms) / 1000)
        phase.setdefault("first step → run end stored", []).append((row.finished_ms - first_started) / 1000)
        phase.setdefault("run end stored → seen", []).append(seen.ended_at - row.finished_ms / 1000)
        phase.setdefault("agent: the run as it timed it", []).append(row.duration_ms / 1000)
        phase.setdefault("agent: the six commands as it timed them", []).append(
            sum(json.loads(i.data).get("duration_ms", 0) for i in finished) / 1000)
        phase.setdefault("sent + agent's run → end stored (relay lag)", []).append(
            (row.finished_ms - row.sent_ms - row.duration_ms) / 1000)
        phase.setdefault("first line: device → stored", []).append(seen.first_line_stored_ms / 1000 - stamp)
        phase.setdefault("first line: stored → seen", []).append(seen.first_line_at - seen.first_line_stored_ms / 1000)
    return result


def start_spies(binary: str, workdir: Path, pids: dict[str, int]) -> list[Any]:
    """`py-spy record` on each process (every thread, CPU samples), collapsed stacks into workdir/NAME.pyspy.txt."""
    import subprocess

    spies = [subprocess.Popen([binary, "record", "--pid", str(pid), "--threads", "--nonblocking", "--rate", "200",
                               "--format", "raw", "--output", str(workdir / f"{name}.pyspy.txt")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for name, pid in pids.items()]
    time.sleep(1.0)   # py-spy attaches
    return spies


def stop_spies(spies: list[Any]) -> None:
    import signal

    for spy in spies:
        spy.send_signal(signal.SIGINT)
    for spy in spies:
        spy.wait(30)


# ---------------------------------------------------------------- the plain side


def plain_round(ports: dict[str, int], username: str, password: str, steps: list[Any], cpu: CpuMeter) -> Round:
    from netmiko import ConnectHandler

    def one(device: str) -> dict[str, Any]:
        began = time.time()
        connection = ConnectHandler(device_type="cisco_ios", host="127.0.0.1", port=ports[device], username=username,
                                    password=password, conn_timeout=10, auth_timeout=10, banner_timeout=10)
        connection.enable()
        logged_in = time.time()
        outputs: dict[str, str] = {}
        first_line_ms = 0.0
        for step in steps:
            outputs[step.name] = str(connection.send_command(step.command, read_timeout=step.timeout_s))
            if step.name == CLOCK_STEP:
                first_line_ms = 1000 * (time.time() - device_time(outputs[step.name].strip().splitlines()[0]))
        done = time.time()
        connection.disconnect()
        return {"device": device, "login": logged_in - began, "commands": done - logged_in,
                "disconnect": time.time() - done, "first_line_ms": first_line_ms, "outputs": outputs}

    before = cpu.read()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(ports), thread_name_prefix="plain") as pool:
        results = list(pool.map(one, ports))
    wall = time.monotonic() - started
    result = Round("plain", wall, len(results), cpu=CpuMeter.spent(before, cpu.read()))
    result.first_line_ms = [r["first_line_ms"] for r in results]
    for key, label in (("login", "connect + enable()"), ("commands", "the six send_command()s"), ("disconnect", "disconnect()")):
        result.phases[label] = [r[key] for r in results]
    result.outputs = {r["device"]: r["outputs"] for r in results}
    return result


def compare_outputs(vigil: Round, plain: Round) -> tuple[int, list[str]]:
    """Lines per step stored by Vigil vs what netmiko returned (the clock step differs by design)."""
    compared, differences = 0, []
    for device, steps in plain.outputs.items():
        for step, text in steps.items():
            if step == CLOCK_STEP:
                continue
            ours = [line.rstrip() for line in vigil.outputs.get(device, {}).get(step, "").splitlines()]
            theirs = [line.rstrip() for line in text.splitlines()]
            while ours and not ours[-1]:
                ours.pop()
            while theirs and not theirs[-1]:
                theirs.pop()
            compared += 1
            if ours != theirs:
                differences.append(f"{device} {step}: {len(ours)} lines stored, netmiko returned {len(theirs)}")
    return compared, differences


# ---------------------------------------------------------------- report


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1 round of each side instead of 5")
    p.add_argument("--rounds", type=int, help="rounds of each side (default 5, quick 1)")
    p.add_argument("--devices", type=int, default=50, help="fakenos devices, one run each per round (default 50)")
    p.add_argument("--fakenos-processes", type=int, default=2, help="fakenos processes the devices are spread over (default 2)")
    p.add_argument("--max-concurrent-runs", type=int, help="the agent's playbooks.max_concurrent_runs (default: --devices)")
    p.add_argument("--py-spy", metavar="BIN", help="record the agent and the collector with this py-spy during the first "
                   "cold round, and this process during the first plain round (CPU samples of every thread, collapsed "
                   "stacks, into the work directory; implies --keep)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (database, logs)")
    args = p.parse_args()
    args.keep = args.keep or bool(args.py_spy)
    if args.rounds is None:
        args.rounds = 1 if args.quick else 5
    if args.max_concurrent_runs is None:
        args.max_concurrent_runs = args.devices
    return args


def main() -> int:
    args = parse_args()
    S.sigterm_as_exit()
    begun = time.monotonic()
    code_under_test = S.code_version()
    mode = "quick" if args.quick else "full"
    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-playbooks-"))
    print(f"playbooks benchmark ({mode}): {PLAYBOOK_ID} on {args.devices} fakenos cisco_ios devices, "
          f"{args.rounds} round(s) of Vigil and of plain netmiko")
    print(f"  work directory {workdir}", flush=True)
    children: list[S.Child] = []
    noses: list[Any] = []
    agent: AgentProcess | None = None
    follower: Follower | None = None
    engine = None
    rounds: list[Round] = []
    try:
        from collector.cli.runs_command import library as cli_library
        from collector.store import database

        devices = [f"sw-{i:03d}" for i in range(1, args.devices + 1)]
        t = time.monotonic()
        noses = start_fakenos(workdir, [WARMUP_DEVICE, *devices], args.fakenos_processes)
        ports = {name: nos.ports[name] for nos in noses for name in nos.hosts}
        username, password = noses[0].username, noses[0].password
        print(f"  fakenos: {len(ports)} hosts in {len(noses)} process(es) (pids "
              f"{', '.join(str(n._process.pid) for n in noses)}), up in {time.monotonic() - t:.1f} s", flush=True)

        playbook_dir = workdir / "playbooks"
        write_playbook(playbook_dir)
        os.environ["VIGIL_PLAYBOOKS"] = str(playbook_dir)
        library = cli_library([])             # what `vigil run` loads: shipped + $VIGIL_PLAYBOOKS
        steps = library.get(PLAYBOOK_ID).plan("cisco_ios", {})
        print(f"  playbook {PLAYBOOK_ID}: " + "; ".join(f"{s.name}: {s.command} ({s.timeout_s:g} s)" for s in steps))

        certs = S.make_certs(workdir / "certs", [AGENT_ID])
        database_path = workdir / "vigil.db"
        collector, port = S.start_collector(workdir, S.write_collector_config(workdir / "collector.yaml", certs, database_path))
        children.append(collector)
        print(f"  collector pid {collector.pid} on 127.0.0.1:{port} (mutual TLS, SQLite)", flush=True)
        engine = database.connect(f"sqlite:///{database_path}")
        agent_config = write_agent_config(workdir / "agent.yaml", port, certs, playbook_dir, ports, username, password,
                                          args.max_concurrent_runs)
        agent = AgentProcess(workdir, agent_config, engine, len(ports))
        print(f"  agent: python -m agent.main run, playbooks.max_concurrent_runs {args.max_concurrent_runs} "
              f"(session pool: {2 * args.max_concurrent_runs + 16} sessions, {2 * args.max_concurrent_runs + 20} threads)", flush=True)
        follower = Follower(engine)
        follower.start()
        nos_pids = [n._process.pid for n in noses]
        timeout_s = 120.0
        warm_ports = {d: ports[d] for d in devices}

        for number in range(1, args.rounds + 1):
            plain_first = number % 2 == 0
            if plain_first:
                print(f"  round {number}: plain netmiko …", flush=True)
                rounds.append(plain_round(warm_ports, username, password, steps, CpuMeter({"bench": [os.getpid()], "fakenos": nos_pids})))
                print(f"    plain {rounds[-1].wall_s:.2f} s", flush=True)
                time.sleep(2)
            child = agent.start()
            meter = CpuMeter({"agent": [child.pid], "collector": [collector.pid], "fakenos": nos_pids, "bench": [os.getpid()]})
            warm_up = vigil_round(engine, library, [WARMUP_DEVICE], follower, meter, "warm-up", timeout_s)
            print(f"  round {number}: agent pid {child.pid} up, warm-up run {warm_up.wall_s:.1f} s; Vigil, {len(devices)} runs …", flush=True)
            for side in ("vigil", "vigil-warm"):
                spies = start_spies(args.py_spy, workdir, {"agent": child.pid, "collector": collector.pid}) \
                    if args.py_spy and number == 1 and side == "vigil" else []
                try:
                    rounds.append(vigil_round(engine, library, devices, follower, meter, side, timeout_s))
                finally:
                    stop_spies(spies)
                r = rounds[-1]
                print(f"    {side} {r.wall_s:.2f} s, first line p50 {statistics.median(r.first_line_ms):.0f} ms, "
                      f"max {max(r.first_line_ms):.0f} ms", flush=True)
            agent.stop()
            if not plain_first:
                time.sleep(2)   # fakenos' watchdogs end the closed sessions' threads (1 s interval)
                print(f"  round {number}: plain netmiko …", flush=True)
                spies = start_spies(args.py_spy, workdir, {"plain": os.getpid()}) if args.py_spy and number == 1 else []
                try:
                    rounds.append(plain_round(warm_ports, username, password, steps, CpuMeter({"bench": [os.getpid()], "fakenos": nos_pids})))
                finally:
                    stop_spies(spies)
                print(f"    plain {rounds[-1].wall_s:.2f} s", flush=True)
        follower.halt()
        if follower.error is not None:
            raise S.BenchError(f"the follower failed: {follower.error!r}")
        compared, differences = compare_outputs(next(r for r in rounds if r.side == "vigil"),
                                                next(r for r in rounds if r.side == "plain"))
        code = collector.stop(grace_s=30)
        if code != 0:
            raise S.BenchError(f"the collector exited with {code}:\n{collector.tail()}")
    except S.BenchError as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        for stop in (follower.halt if follower else None, agent.child.stop if agent and agent.child else None,
                     *(nos.stop for nos in noses), engine.dispose if engine else None):
            if stop is not None:
                try:
                    stop()
                except Exception as exc:  # noqa: BLE001 - stop the rest whatever this one did
                    print(f"  stopping failed: {exc!r}", file=sys.stderr)
        S.cleanup(children, workdir, args.keep)

    report(args, rounds, compared, differences, code_under_test, begun, len(devices), agent.stale_disconnects if agent else 0)
    return 0


def report(args: argparse.Namespace, rounds: list[Round], compared: int, differences: list[str], code_under_test: str,
           begun: float, devices: int, stale_disconnects: int) -> None:
    cold = [r for r in rounds if r.side == "vigil"]
    warm = [r for r in rounds if r.side == "vigil-warm"]
    plain = [r for r in rounds if r.side == "plain"]
    S.print_provenance(code_under_test)
    print()
    rows = []
    for r in rounds:
        cpu = " ".join(f"{k} {v:.1f}" for k, v in r.cpu.items())
        rows.append([r.side, f"{r.wall_s:.2f}", f"{r.runs_per_s:.1f}", f"{statistics.median(r.first_line_ms):.0f}",
                     f"{max(r.first_line_ms):.0f}", cpu])
    print(S.table(rows, ["round", "wall s", "runs/s", "first line p50 ms", "max ms", "CPU s"]))
    print("\nwhere a run's time goes (median over runs, s; max in brackets):")
    for label, group in (("Vigil, cold", cold), ("Vigil, warm (sessions open)", warm), ("plain netmiko", plain)):
        phases: dict[str, list[float]] = {}
        for r in group:
            for name, values in r.phases.items():
                phases.setdefault(name, []).extend(values)
        print(f"  {label}: " + "; ".join(f"{name} {statistics.median(v):.3f} [{max(v):.3f}]" for name, v in phases.items()))
    if stale_disconnects:
        print(f"\nafter {stale_disconnects} of {len(cold)} agent stops the collector still showed the agent connected 15 s later")
    print(f"\noutputs: {compared} (device, step) outputs compared with plain netmiko's, "
          f"{len(differences)} differ" + (": " + "; ".join(differences[:5]) if differences else ""))

    wall = statistics.median(r.wall_s for r in cold)
    plain_wall = statistics.median(r.wall_s for r in plain)
    paired = [100 * (v.wall_s - p.wall_s) / p.wall_s for v, p in zip(cold, plain)]
    overhead = statistics.median(paired)
    first = [ms for r in cold for ms in r.first_line_ms]
    plain_first = [ms for r in plain for ms in r.first_line_ms]
    print(f"\nVigil wall {wall:.2f} s (median of {len(cold)}), plain netmiko {plain_wall:.2f} s; overhead per paired round "
          + ", ".join(f"{x:+.1f}%" for x in paired) + f"; median {overhead:+.1f}%")
    print(f"first line over {len(first)} cold runs: p50 {statistics.median(first):.0f} ms, p90 {pct(first, 0.9):.0f} ms, "
          f"max {max(first):.0f} ms (plain netmiko's send_command('show clock') returned p50 "
          f"{statistics.median(plain_first):.0f} ms, max {max(plain_first):.0f} ms after the device's clock)")
    if warm:
        print(f"warm rounds (sessions open, no login): median wall {statistics.median(r.wall_s for r in warm):.2f} s")
    print(f"target overhead ≤ {OVERHEAD_TARGET_PCT:.0f}% of plain netmiko's wall time: "
          f"{'met' if overhead <= OVERHEAD_TARGET_PCT else 'MISSED'} ({overhead:+.1f}%)")
    print(f"target first line ≤ {FIRST_LINE_TARGET_MS:.0f} ms (max over every cold run): "
          f"{'met' if max(first) <= FIRST_LINE_TARGET_MS else 'MISSED'} ({max(first):.0f} ms)")
    print(f"total time {time.monotonic() - begun:.0f} s")
    print(S.result_line({
        "wall_s": round(wall, 2),
        "plain_wall_s": round(plain_wall, 2),
        "overhead_pct": round(overhead, 1),
        "runs_per_s": round(devices / wall, 2),
        "first_line_ms": round(max(first)),
        "first_line_p50_ms": round(statistics.median(first)),
        "devices": devices,
        "rounds": len(cold),
    }))


if __name__ == "__main__":
    sys.exit(main())
