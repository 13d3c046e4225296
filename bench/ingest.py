"""Ingest throughput: simulated agents → one real collector process → SQLite, over mutual TLS.

    .venv/bin/python bench/ingest.py            # full: 5 s warm-up + 45 s timed, per run
    .venv/bin/python bench/ingest.py --quick    # the same figures, 2 s + 10 s per run

Two runs, one after the other, with the same client processes and stream:

1. **store** — `python -m collector.main` (the real collector: gateway, decode,
   group-commit ingest, SQLite in WAL with synchronous=FULL, hourly rollups)
   on a fresh database.
2. **baseline** — a discard server in a separate process (this file,
   `--role discard`): the same TLS credentials and gRPC server options, read
   from the same collector.yaml, the same `parse_agent_message` deserializer
   and the same client-certificate check; it answers Hello with Welcome and
   acks each batch as soon as it is parsed, storing nothing.

Each simulated agent speaks vigil.v1 like the real one (`AgentGatewayStub.Connect`
on a channel built by `agent.transport.open_channel`, i.e. the agent's own
channel options): Hello with its devices, wait for Welcome, then MetricBatch
messages with seq 1, 2, 3 … keeping at most `--window` unacknowledged. Points
count only when the cumulative Ack covering their batch arrives, and only
those acked inside the timed window count for points/s.

Batches are serialized before the clock starts. Each agent cycles through a
pool of `--pool` pre-serialized batch bodies (500 series × 10 points, with
consecutive 10 s time ranges), and only the batch's `seq` field is written in
front of the body at send time — a few bytes, so the client's encode cost does
not limit the figure. The timestamps of the pool repeat every
pool × 10 s of data; the store does not deduplicate points by time (it
deduplicates batches by seq), so this changes nothing it does.

After the store run the benchmark stops the collector and checks, with
sqlite3, that point_blocks holds exactly the acknowledged points and batches
and that every agent's stored high-water mark equals its last acked seq;
anything else fails the run (exit 1, no RESULT line).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sqlite3
import queue
import statistics
import subprocess
import sys
import threading
import tempfile
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _support as S  # noqa: E402  (puts the repo root on sys.path)

NET_METRICS = (
    "net_recv_bits_per_second",
    "net_sent_bits_per_second",
    "net_recv_packets_per_second",
    "net_sent_packets_per_second",
    "net_errors_in_per_second",
    "net_errors_out_per_second",
    "net_drops_in_per_second",
    "net_drops_out_per_second",
    "net_speed_bits",
    "net_oper_up",
)
INTERFACES_PER_DEVICE = 5
SERIES_PER_DEVICE = INTERFACES_PER_DEVICE * len(NET_METRICS)


# =================================================================== the stream


def series_keys(n_series: int) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    keys = []
    for index in range(n_series):
        device, rest = divmod(index, SERIES_PER_DEVICE)
        interface, metric = divmod(rest, len(NET_METRICS))
        keys.append((f"sw-{device + 1:02d}", NET_METRICS[metric], (("interface", f"GigabitEthernet1/0/{interface + 1}"),)))
    return keys


def device_ids(n_series: int) -> list[str]:
    return sorted({device for device, _, _ in series_keys(n_series)})


def build_bodies(n_series: int, points_per_series: int, pool: int, seed: int = 7) -> tuple[list[bytes], int]:
    """`pool` serialized MetricBatch bodies without `seq`; returns them and the points in each."""
    from protos import serieskey
    from protos.vigil.v1 import agent_pb2 as pb

    rng = random.Random(seed)
    keys = series_keys(n_series)
    span_ms = points_per_series * 1000
    base_ms = (int(time.time()) - 60) * 1000 - pool * span_ms
    bodies = []
    for j in range(pool):
        batch = pb.MetricBatch(created_at_ms=base_ms + (j + 1) * span_ms)
        t0 = base_ms + j * span_ms
        timestamps = [t0 + k * 1000 for k in range(points_per_series)]
        for device, metric, labels in keys:
            if metric == "net_oper_up":
                values = [1.0] * points_per_series
            elif metric == "net_speed_bits":
                values = [1e9] * points_per_series
            else:
                level = rng.uniform(1e3, 1e9)
                values = [level * rng.uniform(0.8, 1.2) for _ in range(points_per_series)]
            serieskey.add_series(batch, device, metric, labels, timestamps, values)
        bodies.append(batch.SerializeToString())
    return bodies, n_series * points_per_series


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def frame(seq: int, body: bytes) -> bytes:
    """AgentMessage{batch: MetricBatch{seq, <body fields>}} as bytes, without re-encoding the body."""
    inner_head = b"\x08" + _varint(seq)  # MetricBatch.seq, field 1, varint
    return b"".join((b"\x12", _varint(len(inner_head) + len(body)), inner_head, body))  # AgentMessage.batch, field 2


# =================================================================== client process


class _BytesOrMessage:
    """A channel whose stubs send pre-serialized bytes as they are, and messages serialized.

    `AgentGatewayStub(channel)` is built on it, so the method path and the
    response parser are the generated ones; only already-encoded batches skip
    `SerializeToString`.
    """

    def __init__(self, channel: object) -> None:
        self._channel = channel

    def stream_stream(self, method: str, request_serializer=None, response_deserializer=None, **kwargs):  # type: ignore[no-untyped-def]
        def serialize(message: object) -> bytes:
            return message if isinstance(message, bytes) else request_serializer(message)  # type: ignore[misc]

        return self._channel.stream_stream(  # type: ignore[attr-defined]
            method, request_serializer=serialize, response_deserializer=response_deserializer, **kwargs
        )


class SimAgent:
    def __init__(self, agent_id: str, args: argparse.Namespace, bodies: list[bytes], points: int) -> None:
        self.agent_id = agent_id
        self.args = args
        self.bodies = bodies
        self.points = points
        self.acked_points = 0
        self.acked_batches = 0
        self.sent_batches = 0
        self.last_acked_seq = 0
        self.first_seq = 1
        self.error = ""
        self.welcomed = asyncio.Event()
        self.stop = asyncio.Event()

    def config(self):  # type: ignore[no-untyped-def]
        from agent.config import TLS, AgentConfig, Collector, Identity

        certs = Path(self.args.certs)
        return AgentConfig(
            agent=Identity(id=self.agent_id, customer="bench-customer", site="bench-site"),
            collector=Collector(
                address=f"localhost:{self.args.port}",
                tls=TLS(
                    ca=certs / "ca.pem",
                    cert=certs / "agents" / f"{self.agent_id}.pem",
                    key=certs / "agents" / f"{self.agent_id}.key",
                ),
                compression=self.args.compression,
                max_in_flight_batches=self.args.window,
            ),
            state_dir=Path(self.args.certs) / "unused-state",
        )

    def hello(self):  # type: ignore[no-untyped-def]
        from protos.vigil.v1 import agent_pb2 as pb

        hello = pb.Hello(
            agent_id=self.agent_id, customer="bench-customer", site="bench-site", agent_version="bench",
            protocol="vigil.v1", capabilities=["poll.snmp"], hostname=f"{self.agent_id}.bench",
        )
        for device in device_ids(self.args.series):
            hello.devices.add(id=device, name=device, kind="switch", address="192.0.2.1", platform="cisco_ios", pollers=["snmp"])
        return hello

    async def run(self, go: asyncio.Event) -> None:
        import grpc

        from agent.transport import open_channel
        from protos.vigil.v1 import agent_pb2 as pb
        from protos.vigil.v1 import agent_pb2_grpc

        try:
            async with open_channel(self.config()) as channel:
                call = agent_pb2_grpc.AgentGatewayStub(_BytesOrMessage(channel)).Connect()
                await call.write(pb.AgentMessage(hello=self.hello()))
                first = await asyncio.wait_for(call.read(), 30)
                if first is grpc.aio.EOF or first.WhichOneof("body") != "welcome":
                    raise RuntimeError(f"no welcome: {first!r} / {await call.code()}")
                self.first_seq = first.welcome.last_stored_seq + 1
                self.last_acked_seq = first.welcome.last_stored_seq
                self.welcomed.set()
                await go.wait()
                await self._stream(call)
        except Exception as exc:  # noqa: BLE001 - reported to the orchestrator, which fails the run
            self.error = f"{type(exc).__name__}: {exc}"
            self.welcomed.set()

    async def _stream(self, call) -> None:  # type: ignore[no-untyped-def]
        import grpc

        outstanding: deque[tuple[int, int]] = deque()
        credit = asyncio.Semaphore(self.args.window)
        drained = asyncio.Event()

        async def read_acks() -> None:
            try:
                await _read_acks()
            finally:  # unblock the writer, which then sees the reader is done
                for _ in range(self.args.window):
                    credit.release()

        async def _read_acks() -> None:
            while True:
                message = await call.read()
                if message is grpc.aio.EOF:
                    return
                if message.WhichOneof("body") != "ack":
                    continue
                seq = message.ack.seq
                while outstanding and outstanding[0][0] <= seq:
                    _, points = outstanding.popleft()
                    self.acked_points += points
                    self.acked_batches += 1
                    credit.release()
                self.last_acked_seq = max(self.last_acked_seq, seq)
                if self.stop.is_set() and not outstanding:
                    drained.set()

        reader = asyncio.create_task(read_acks())
        seq = self.first_seq
        bodies, pool, points = self.bodies, len(self.bodies), self.points
        try:
            while not self.stop.is_set():
                await credit.acquire()
                if self.stop.is_set() or reader.done():
                    break
                data = frame(seq, bodies[seq % pool])
                outstanding.append((seq, points))
                await call.write(data)
                self.sent_batches += 1
                seq += 1
            if outstanding and not reader.done():
                waiter = asyncio.ensure_future(drained.wait())
                await asyncio.wait({waiter, reader}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
            if reader.done() and reader.exception() is not None:
                raise reader.exception()  # type: ignore[misc]
            if outstanding:
                raise RuntimeError(f"{len(outstanding)} batches still unacknowledged 60 s after the window")
            await call.done_writing()
            await asyncio.wait_for(reader, 30)
            code = await call.code()
            if code != grpc.StatusCode.OK:
                raise RuntimeError(f"stream ended with {code.name}: {await call.details()}")
        finally:
            reader.cancel()


async def client_main(args: argparse.Namespace) -> None:
    bodies, points = build_bodies(args.series, args.points_per_series, args.pool)
    # Self-check before timing: a framed batch parses as an AgentMessage and passes the collector's own checks.
    from collector.decode import SeriesChecker, decode
    from collector.gateway import parse_agent_message

    probe = parse_agent_message(frame(12345, bodies[0]))
    if getattr(probe, "WhichOneof", None) is None or probe.WhichOneof("body") != "batch" or probe.batch.seq != 12345:
        raise SystemExit(f"framing self-check failed: {probe!r}")
    decoded = decode("probe", probe.batch, SeriesChecker(set(device_ids(args.series))), int(time.time() * 1000))
    if decoded.points != points:
        raise SystemExit(f"framing self-check: {decoded.points} points decoded, {points} expected")

    agents = [SimAgent(agent_id, args, bodies, points) for agent_id in args.agent_ids.split(",")]
    go = asyncio.Event()
    tasks = [asyncio.create_task(a.run(go)) for a in agents]
    await asyncio.wait_for(asyncio.gather(*(a.welcomed.wait() for a in agents)), 60)
    errors = [f"{a.agent_id}: {a.error}" for a in agents if a.error]
    if errors:
        print("ERROR " + json.dumps(errors), flush=True)
        return
    print(f"READY {len(bodies[0])}", flush=True)

    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    _, t_start, t_end = line.split()
    snapshots: dict[str, tuple[float, int]] = {}

    def snapshot(name: str) -> None:
        snapshots[name] = (time.monotonic(), sum(a.acked_points for a in agents))
        if name == "end":
            for a in agents:
                a.stop.set()

    loop.call_at(float(t_start), snapshot, "start")
    loop.call_at(float(t_end), snapshot, "end")
    go.set()
    await asyncio.gather(*tasks)
    (t0, p0), (t1, p1) = snapshots["start"], snapshots["end"]
    report = {
        "window_s": t1 - t0,
        "window_points": p1 - p0,
        "acked_points": sum(a.acked_points for a in agents),
        "acked_batches": sum(a.acked_batches for a in agents),
        "sent_batches": sum(a.sent_batches for a in agents),
        "last_acked_seq": {a.agent_id: a.last_acked_seq for a in agents},
        "errors": [f"{a.agent_id}: {a.error}" for a in agents if a.error],
    }
    print("DONE " + json.dumps(report), flush=True)


# =================================================================== discard server process


async def discard_main(args: argparse.Namespace) -> None:
    """A gateway that parses like the real one and acks at once, storing nothing."""
    import os
    import signal

    import grpc

    from collector import config as collector_config
    from collector.gateway import PROTOCOL, SERVICE, Malformed, parse_agent_message
    from collector.server import server_credentials, server_options
    from protos.vigil.v1 import agent_pb2 as pb

    config = collector_config.load(args.config)

    async def connect(requests, context):  # type: ignore[no-untyped-def]
        first = await anext(aiter(requests), None)
        if first is None:
            return
        if isinstance(first, Malformed) or first.WhichOneof("body") != "hello":
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "the first message must be a hello")
        agent_id = first.hello.agent_id
        names = context.auth_context().get("x509_common_name") or []
        if (names[0].decode() if names else "") != agent_id:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, f"certificate is not {agent_id!r}")
        await context.write(
            pb.CollectorMessage(
                welcome=pb.Welcome(
                    collector_id="discard", protocol=PROTOCOL, last_stored_seq=0,
                    heartbeat_interval_s=int(config.heartbeat_interval), max_message_bytes=config.max_message_bytes,
                )
            )
        )
        async for message in requests:
            if isinstance(message, Malformed):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, message.error)
            if message.WhichOneof("body") == "batch":
                await context.write(pb.CollectorMessage(ack=pb.Ack(seq=message.batch.seq)))

    handler = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Connect": grpc.stream_stream_rpc_method_handler(
                connect, request_deserializer=parse_agent_message, response_serializer=pb.CollectorMessage.SerializeToString
            )
        },
    )
    server = grpc.aio.server(options=server_options(config))
    server.add_generic_rpc_handlers([handler])
    port = server.add_secure_port(config.listen, server_credentials(config))
    await server.start()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    ready = Path(args.ready_file)
    ready.with_suffix(".tmp").write_text(json.dumps({"port": port, "pid": os.getpid()}))
    ready.with_suffix(".tmp").replace(ready)
    await stop.wait()
    await server.stop(grace=2)


# =================================================================== orchestrator


class ClientProcess:
    """A client process and a thread that hands its stdout lines (READY, DONE, ERROR) over."""

    def __init__(self, index: int, agent_ids: list[str], port: int, args: argparse.Namespace, workdir: Path, run: str) -> None:
        argv = [
            sys.executable, str(Path(__file__).resolve()), "--role", "client",
            "--port", str(port), "--certs", str(workdir / "certs"), "--agent-ids", ",".join(agent_ids),
            "--series", str(args.series), "--points-per-series", str(args.points_per_series),
            "--window", str(args.window), "--pool", str(args.pool), "--compression", args.compression,
        ]
        self.child = S.Child(
            f"{run}-client-{index}", argv, workdir / f"{run}-client-{index}.log",
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.child.process.stdout:  # type: ignore[union-attr]
            self.lines.put(line)
        self.lines.put("")

    def expect(self, word: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise S.BenchError(f"{self.child.name}: no {word} within {timeout_s:.0f}s:\n{self.child.tail()}") from None
            if not line:
                self.child.process.wait(5)
                raise S.BenchError(f"{self.child.name} exited ({self.child.process.returncode}):\n{self.child.tail()}")
            if line.startswith("ERROR "):
                raise S.BenchError(f"{self.child.name}: {line[6:].strip()}\n{self.child.tail()}")
            if line.split(" ", 1)[0].strip() == word:
                return line[len(word):].strip()

    def go(self, t_start: float, t_end: float) -> None:
        self.child.process.stdin.write(f"GO {t_start} {t_end}\n")  # type: ignore[union-attr]
        self.child.process.stdin.flush()  # type: ignore[union-attr]


def run_stream(name: str, server_pid: int, port: int, agent_ids: list[str], args: argparse.Namespace, workdir: Path) -> dict:
    """Drive one run against the server on `port`; measure the server process `server_pid`."""
    groups = [agent_ids[i :: args.clients] for i in range(args.clients)]
    clients = [ClientProcess(i, g, port, args, workdir, name) for i, g in enumerate(groups) if g]
    try:
        frame_bytes = 0
        for client in clients:
            frame_bytes = int(client.expect("READY", 120))
        print(f"  {name}: {len(agent_ids)} agents connected and welcomed ({frame_bytes / 1024:.0f} KiB per batch); streaming", flush=True)
        t_start = time.monotonic() + args.warmup
        t_end = t_start + args.duration
        for client in clients:
            client.go(t_start, t_end)
        time.sleep(max(0.0, t_start - time.monotonic()))
        cpu0 = S.cpu_seconds(server_pid)
        threads0 = S.thread_cpu_seconds(server_pid)
        client_cpu0 = sum(S.cpu_seconds(c.child.pid) for c in clients)
        w0 = time.monotonic()
        rss = []
        while time.monotonic() < t_end:
            time.sleep(min(1.0, max(0.0, t_end - time.monotonic())))
            rss.append(S.rss_kib(server_pid))
            elapsed = time.monotonic() - w0
            if int(elapsed) % 5 == 0 or time.monotonic() >= t_end:
                print(f"  {name}: {elapsed:4.0f}/{args.duration:.0f} s, server CPU {S.cpu_seconds(server_pid) - cpu0:5.1f} s", flush=True)
        cpu1 = S.cpu_seconds(server_pid)
        threads1 = S.thread_cpu_seconds(server_pid)
        client_cpu1 = sum(S.cpu_seconds(c.child.pid) for c in clients)
        w1 = time.monotonic()
        reports = [json.loads(c.expect("DONE", 120)) for c in clients]
    finally:
        for client in clients:
            client.child.stop()
    errors = [e for r in reports for e in r["errors"]]
    if errors:
        raise S.BenchError(f"{name}: agent streams failed: {errors}")
    window_points = sum(r["window_points"] for r in reports)
    window_s = statistics.mean(r["window_s"] for r in reports)
    server_cpu = cpu1 - cpu0
    split = {"main thread (event loop: gRPC aio, parse, decode)": 0.0, "other Python threads (store: SQLite, rollups)": 0.0, "gRPC core threads": 0.0}
    for tid, (thread, seconds) in threads1.items():
        spent = seconds - threads0.get(tid, (thread, 0.0))[1]
        key = 0 if tid == server_pid else (1 if thread.startswith("python") else 2)
        split[list(split)[key]] += spent
    return {
        "name": name,
        "points_per_s": window_points / window_s,
        "window_points": window_points,
        "window_s": window_s,
        "server_cpu_s": server_cpu,
        "server_cpu_s_per_million": server_cpu / (window_points / 1e6) if window_points else math.inf,
        "server_cores": server_cpu / (w1 - w0),
        "client_cores": (client_cpu1 - client_cpu0) / (w1 - w0),
        "server_rss_mib": max(rss) / 1024 if rss else 0.0,
        "server_threads_s_per_million": {k: v / (window_points / 1e6) if window_points else 0.0 for k, v in split.items()},
        "acked_points": sum(r["acked_points"] for r in reports),
        "acked_batches": sum(r["acked_batches"] for r in reports),
        "sent_batches": sum(r["sent_batches"] for r in reports),
        "last_acked_seq": {k: v for r in reports for k, v in r["last_acked_seq"].items()},
    }


def verify_store(database: Path, run: dict) -> dict:
    """The store holds exactly what was acknowledged; raise BenchError otherwise."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        blocks, points = db.execute("SELECT count(*), coalesce(sum(n_points), 0) FROM point_blocks").fetchone()
        marks = dict(db.execute("SELECT agent_id, last_seq FROM agents"))
        series = db.execute("SELECT count(*) FROM series").fetchone()[0]
        rolled = db.execute("SELECT coalesce(sum(count), 0) FROM rollups_hourly").fetchone()[0]
    problems = []
    if points != run["acked_points"]:
        problems.append(f"point_blocks holds {points} points, the agents saw {run['acked_points']} acknowledged")
    if blocks != run["acked_batches"]:
        problems.append(f"point_blocks holds {blocks} batches, {run['acked_batches']} were acknowledged")
    if run["acked_batches"] != run["sent_batches"]:
        problems.append(f"{run['sent_batches']} batches sent but {run['acked_batches']} acknowledged")
    for agent_id, seq in run["last_acked_seq"].items():
        if marks.get(agent_id) != seq:
            problems.append(f"agent {agent_id}: stored high-water mark {marks.get(agent_id)}, last ack {seq}")
    if problems:
        raise S.BenchError("store verification FAILED:\n  " + "\n  ".join(problems))
    return {"blocks": blocks, "points": points, "series": series, "rolled_up_points": rolled}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="2 s warm-up + 10 s per run (under 90 s in all)")
    p.add_argument("--agents", type=int, default=8, help="simulated agents (default 8)")
    p.add_argument("--clients", type=int, default=1, help="client processes the agents are spread over (default 1)")
    p.add_argument("--duration", type=float, help="timed seconds per run (default 45, quick 10)")
    p.add_argument("--warmup", type=float, help="seconds streamed before the timed window (default 5, quick 2)")
    p.add_argument("--series", type=int, default=500, help="series per batch (default 500)")
    p.add_argument("--points-per-series", type=int, default=10, help="points per series per batch (default 10)")
    p.add_argument("--window", type=int, default=16, help="unacknowledged batches per agent (default 16)")
    p.add_argument("--pool", type=int, default=64, help="distinct pre-serialized batch bodies per client (default 64)")
    p.add_argument("--compression", choices=("none", "gzip"), default="none", help="gRPC compression on the agents' channels")
    p.add_argument("--rollup-interval", default="5s", help="collector rollup_interval (default 5s, so rollups run inside the window)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (database, logs)")
    p.add_argument("--role", choices=("bench", "client", "discard"), default="bench", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--certs", help=argparse.SUPPRESS)
    p.add_argument("--agent-ids", help=argparse.SUPPRESS)
    p.add_argument("--config", help=argparse.SUPPRESS)
    p.add_argument("--ready-file", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.duration is None:
        args.duration = 10.0 if args.quick else 45.0
    if args.warmup is None:
        args.warmup = 2.0 if args.quick else 5.0
    return args


def main() -> int:
    args = parse_args()
    if args.role == "client":
        asyncio.run(client_main(args))
        return 0
    if args.role == "discard":
        asyncio.run(discard_main(args))
        return 0

    S.sigterm_as_exit()
    started = time.monotonic()
    code_under_test = S.code_version()
    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-ingest-"))
    agent_ids = [f"bench-agent-{i + 1:02d}" for i in range(args.agents)]
    mode = "quick" if args.quick else "full"
    print(f"ingest benchmark ({mode}): {args.agents} agents, {args.series} series × {args.points_per_series} points per batch, "
          f"window {args.window}, compression {args.compression}, {args.warmup:.0f} s warm-up + {args.duration:.0f} s per run")
    print(f"  work directory {workdir}")
    children: list[S.Child] = []
    try:
        certs = S.make_certs(workdir / "certs", agent_ids)
        database = workdir / "vigil.db"
        config = S.write_collector_config(workdir / "collector.yaml", certs, database, args.rollup_interval)

        # ---- run 1: the real collector, storing
        collector, port = S.start_collector(workdir, config)
        children.append(collector)
        print(f"  collector pid {collector.pid} serving on 127.0.0.1:{port} (mutual TLS, SQLite {database.name}, rollup every {args.rollup_interval})", flush=True)
        store = run_stream("store", collector.pid, port, agent_ids, args, workdir)
        print("  store: stopping the collector (it rolls up what is left) and checking the database", flush=True)
        code = collector.stop(grace_s=120)
        if code != 0:
            raise S.BenchError(f"the collector exited with {code}:\n{collector.tail()}")
        held = verify_store(database, store)
        print(f"  store verified: {held['points']:,} points in {held['blocks']:,} blocks = the acknowledged count; "
              f"{held['series']:,} series; {held['rolled_up_points']:,} points in hourly rollups", flush=True)

        # ---- run 2: the discard server, transport and parsing only
        ready = workdir / "discard.ready.json"
        discard = S.Child(
            "discard-server",
            [sys.executable, str(Path(__file__).resolve()), "--role", "discard", "--config", str(config), "--ready-file", str(ready)],
            workdir / "discard.log",
        )
        children.append(discard)
        info = S.wait_for_ready_file(discard, ready)
        print(f"  discard server pid {discard.pid} serving on 127.0.0.1:{info['port']} (same TLS and options)", flush=True)
        baseline = run_stream("baseline", discard.pid, int(info["port"]), agent_ids, args, workdir)
        discard.stop()
    except S.BenchError as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        S.cleanup(children, workdir, args.keep)

    S.print_provenance(code_under_test)
    print(f"stream: {args.agents} agents × window {args.window} × {args.series * args.points_per_series:,}-point batches, "
          f"TLS (mutual), compression {args.compression}, timed window {args.duration:.0f} s per run\n")
    rows = []
    for run, label in ((store, "store: collector.main → SQLite"), (baseline, "baseline: parse + ack, discard")):
        rows.append([
            label, f"{run['points_per_s']:,.0f}", f"{run['window_points']:,}", f"{run['server_cpu_s_per_million']:.2f}",
            f"{run['server_cores']:.2f}", f"{run['client_cores']:.2f}", f"{run['server_rss_mib']:.0f}",
        ])
    print(S.table(rows, ["run", "points/s acked", "points in window", "server CPU s/M pts", "server cores", "client cores", "server RSS MiB"]))
    for run in (store, baseline):
        print(f"{run['name']} server CPU by thread, s per million points: " + ", ".join(
            f"{k} {v:.2f}" for k, v in run["server_threads_s_per_million"].items()))
    target = 200_000
    verdict = "met" if store["points_per_s"] >= target else "MISSED"
    print(f"\ntarget ≥ {target:,} points/s stored: {verdict} ({store['points_per_s']:,.0f}); "
          f"storing runs at {store['points_per_s'] / baseline['points_per_s']:.0%} of the transport-only rate")
    print(f"total time {time.monotonic() - started:.0f} s")
    print(S.result_line({
        "points_per_s": round(store["points_per_s"]),
        "baseline_points_per_s": round(baseline["points_per_s"]),
        "collector_cpu_s_per_million": round(store["server_cpu_s_per_million"], 3),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
