"""SNMP polling: the agent's SNMP poller over many simulated switches, beside Debian's prometheus-snmp-exporter.

    .venv/bin/python bench/snmp_poll.py            # full: 200 switches × 48 interfaces, 2–4 minutes
    .venv/bin/python bench/snmp_poll.py --quick    # the same figures from 50 switches, about 30 s

The devices are the synthetic switch recordings of `tests/peers/snmp.py`
(system group, ifTable, ifXTable with 64-bit counters), served by several
snmpsim processes on 127.0.0.1 (one serves only ~5,000 varbinds/s). Every
process serves all 200 recordings, so they share the indexes in the shared
snmpsim folder (built once per machine); device n is polled through
simulator n mod `--simulators`.

In one run, one after the other, over the same devices:

* Vigil: a process of its own (this file, `--role vigil`) loads an agent
  config listing the devices (`agent.config.load_isolated`, as the agent
  does) and builds the pollers with `agent.pollers.build` — the agent's
  `SnmpDevicePoller`s with their shared engine and `max_in_flight` gate
  (default 32), SNMP v2c, the agent's default timeout, retries and
  max-repetitions; the devices are identified as `generic` (IF-MIB). It
  polls every device once to warm up (identification, the full walk plan
  the poller learns from, the first counters: rates need two polls), then
  times one full poll of all devices at once. CPU is `time.process_time()`
  of that process across the timed poll; varbinds are counted from what
  `fetch()` handed to each poll (GET answers and walked table cells). Then
  it polls some devices once more under cProfile to say where the time goes.
* prometheus-snmp-exporter (Debian; installed with apt-get if missing and we
  are root): a generated `snmp.yml` with one module per device (0.21 keeps the
  community in the module's `auth:`) that GETs the same scalars and walks the
  same columns as the agent's timed poll. One scrape per device over HTTP,
  as many in flight as the agent's gate allows; its varbinds are its own
  `snmp_scrape_pdus_returned`, its CPU is utime+stime from /proc/PID/stat
  across the timed scrapes.

Compare CPU seconds, not wall time: on a small machine the simulators, not
the clients, bound the wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import cProfile
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _support as S  # noqa: E402  (puts the repo root on sys.path)

EXPORTER = Path("/usr/bin/prometheus-snmp-exporter")
RECORDED_SWITCHES = 200        # recordings made (and indexed) once; quick runs poll the first 50 of them
INTERFACES = 48
FULL_DEVICES = 200
QUICK_DEVICES = 50
CPU_TARGET_S = 20.0            # poller CPU for one full poll of 200 devices
RATIO_TARGET = 0.25            # Vigil's varbinds per CPU-s ÷ snmp_exporter's
PROFILE = "generic"            # IF-MIB: the profile the synthetic switches must be identified as

# IF-MIB / SNMPv2-MIB names and snmp_exporter types for the columns the generic profile walks.
IF_MIB = {
    "1.3.6.1.2.1.1.1.0": ("sysDescr", "DisplayString"),
    "1.3.6.1.2.1.1.2.0": ("sysObjectID", "DisplayString"),
    "1.3.6.1.2.1.1.3.0": ("sysUpTime", "gauge"),
    "1.3.6.1.2.1.1.5.0": ("sysName", "DisplayString"),
    "1.3.6.1.2.1.2.2.1.2": ("ifDescr", "DisplayString"),
    "1.3.6.1.2.1.2.2.1.7": ("ifAdminStatus", "gauge"),
    "1.3.6.1.2.1.2.2.1.8": ("ifOperStatus", "gauge"),
    "1.3.6.1.2.1.2.2.1.10": ("ifInOctets", "counter"),
    "1.3.6.1.2.1.2.2.1.11": ("ifInUcastPkts", "counter"),
    "1.3.6.1.2.1.2.2.1.12": ("ifInNUcastPkts", "counter"),
    "1.3.6.1.2.1.2.2.1.13": ("ifInDiscards", "counter"),
    "1.3.6.1.2.1.2.2.1.14": ("ifInErrors", "counter"),
    "1.3.6.1.2.1.2.2.1.16": ("ifOutOctets", "counter"),
    "1.3.6.1.2.1.2.2.1.17": ("ifOutUcastPkts", "counter"),
    "1.3.6.1.2.1.2.2.1.18": ("ifOutNUcastPkts", "counter"),
    "1.3.6.1.2.1.2.2.1.19": ("ifOutDiscards", "counter"),
    "1.3.6.1.2.1.2.2.1.20": ("ifOutErrors", "counter"),
    "1.3.6.1.2.1.31.1.1.1.1": ("ifName", "DisplayString"),
    "1.3.6.1.2.1.31.1.1.1.2": ("ifInMulticastPkts", "counter"),
    "1.3.6.1.2.1.31.1.1.1.3": ("ifInBroadcastPkts", "counter"),
    "1.3.6.1.2.1.31.1.1.1.4": ("ifOutMulticastPkts", "counter"),
    "1.3.6.1.2.1.31.1.1.1.5": ("ifOutBroadcastPkts", "counter"),
    "1.3.6.1.2.1.31.1.1.1.6": ("ifHCInOctets", "counter"),
    "1.3.6.1.2.1.31.1.1.1.7": ("ifHCInUcastPkts", "counter"),
    "1.3.6.1.2.1.31.1.1.1.8": ("ifHCInMulticastPkts", "counter"),
    "1.3.6.1.2.1.31.1.1.1.9": ("ifHCInBroadcastPkts", "counter"),
    "1.3.6.1.2.1.31.1.1.1.10": ("ifHCOutOctets", "counter"),
    "1.3.6.1.2.1.31.1.1.1.11": ("ifHCOutUcastPkts", "counter"),
    "1.3.6.1.2.1.31.1.1.1.12": ("ifHCOutMulticastPkts", "counter"),
    "1.3.6.1.2.1.31.1.1.1.13": ("ifHCOutBroadcastPkts", "counter"),
    "1.3.6.1.2.1.31.1.1.1.15": ("ifHighSpeed", "gauge"),
    "1.3.6.1.2.1.31.1.1.1.18": ("ifAlias", "DisplayString"),
    "1.3.6.1.2.1.31.1.1.1.19": ("ifCounterDiscontinuityTime", "gauge"),
}
IF_NAME, IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.1", "1.3.6.1.2.1.31.1.1.1.18"
SYS_UPTIME = (1, 3, 6, 1, 2, 1, 1, 3, 0)

# cProfile self time → where it goes. First match wins; C functions go to their caller's group.
PROFILE_GROUPS = [
    ("pyasn1 BER decoding", ("/pyasn1/codec/ber/decoder.py", "/pyasn1/codec/streaming.py")),
    ("pyasn1 BER encoding", ("/pyasn1/codec/ber/encoder.py", "/pyasn1/codec/cer/", "/pyasn1/codec/der/")),
    ("pyasn1 value objects (types, tags, constraints)", ("/pyasn1/",)),
    ("pysnmp request building and matching (cmdgen, hlapi, MIB/smi)",
     ("/pysnmp/entity/rfc3413/", "/pysnmp/hlapi/", "/pysnmp/smi/")),
    ("pysnmp message processing (dispatcher, v2c model, PDU API)", ("/pysnmp/proto/", "/pysnmp/entity/")),
    ("pysnmp UDP transport", ("/pysnmp/carrier/",)),
    ("pysnmp other", ("/pysnmp/",)),
    ("Vigil SNMP client (client.py)", ("/agent/pollers/snmp/client.py",)),
    ("Vigil BER codec (ber.py)", ("/agent/pollers/snmp/ber.py",)),
    ("Vigil extractor (extract.py, rates)", ("/agent/pollers/snmp/extract.py", "/agent/rates.py", "<profile expression")),
    ("Vigil poller and the rest of agent/", ("/agent/",)),
    ("asyncio event loop, selectors, sockets", ("/asyncio/", "/selectors.py", "/socket.py")),
    ("bench wrapper", ("/bench/snmp_poll.py",)),
]
OTHER_GROUP = "other (stdlib, builtins)"
IDLE = re.compile(r"method '(poll|select)' of 'select\.")
# Steps of a poll by the cumulative time of their entry function (those that exist in the code measured).
PHASES = [
    ("pysnmp receive path: message processing + pyasn1 BER decoding of replies", "/pysnmp/proto/rfc3412.py",
     "receive_message"),
    ("pysnmp request building: PDU, BER encoding, send (cmdgen send_varbinds)", "/pysnmp/entity/rfc3413/cmdgen.py",
     "send_varbinds"),
    ("Vigil BER decoding of replies (ber.py)", "/agent/pollers/snmp/ber.py", "decode_response"),
    ("Vigil BER encoding of requests (ber.py)", "/agent/pollers/snmp/ber.py", "encode"),
    ("Vigil client filing walked varbinds (SnmpClient._take)", "/agent/pollers/snmp/client.py", "_take"),
    ("Vigil extractor: samples and rates (Extractor.extract)", "/agent/pollers/snmp/extract.py", "extract"),
]


# ------------------------------------------------------------------ the Vigil process (--role vigil)


def profile_groups(profiler: cProfile.Profile) -> dict[str, Any]:
    """Self CPU time by group; a C function's self time goes to the group of whoever called it."""
    stats = pstats.Stats(profiler)
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]

    def by_path(func: tuple[str, int, str]) -> str | None:
        path = func[0].replace("\\", "/")
        if path == "~":
            return None
        for name, needles in PROFILE_GROUPS:
            if any(n in path for n in needles):
                return name
        return OTHER_GROUP

    memo: dict[tuple[str, int, str], dict[str, float]] = {}

    def shares(func: tuple[str, int, str], depth: int = 0) -> dict[str, float]:
        """How a C function's time splits over groups: by its callers' share of its calls' time."""
        if func in memo:
            return memo[func]
        callers = raw[func][4]
        total = sum(edge[2] for edge in callers.values()) or 0.0
        split: dict[str, float] = {}
        for caller, edge in callers.items():
            weight = edge[2] / total if total else 1.0 / len(callers)
            group = by_path(caller)
            if group is None:
                sub = shares(caller, depth + 1) if depth < 4 and caller in raw else {OTHER_GROUP: 1.0}
                for g, w in sub.items():
                    split[g] = split.get(g, 0.0) + weight * w
            else:
                split[group] = split.get(group, 0.0) + weight
        memo[func] = split or {OTHER_GROUP: 1.0}
        return memo[func]

    groups: dict[str, float] = {}
    idle = 0.0
    for func, (_cc, _nc, tottime, _ct, _callers) in raw.items():
        group = by_path(func)
        if func[0] == "~" and IDLE.search(func[2]):
            idle += tottime            # the event loop waiting for datagrams: wall time, not CPU
        elif group is not None:
            groups[group] = groups.get(group, 0.0) + tottime
        else:
            for g, w in shares(func).items():
                groups[g] = groups.get(g, 0.0) + tottime * w

    def label(func: tuple[str, int, str]) -> str:
        path, line, name = func
        if path == "~":
            return name
        parts = Path(path).parts
        for anchor in ("site-packages", "main", "work"):
            if anchor in parts:
                parts = parts[parts.index(anchor) + 1 :]
                break
        return f"{'/'.join(parts[-3:])}:{line}({name})"

    busy = {f: v for f, v in raw.items() if not (f[0] == "~" and IDLE.search(f[2]))}
    by_tottime = sorted(busy.items(), key=lambda item: item[1][2], reverse=True)[:20]
    by_cumtime = sorted(busy.items(), key=lambda item: item[1][3], reverse=True)[:30]
    phases = []
    for what, path, name in PHASES:
        found = [v for f, v in raw.items() if f[0].replace("\\", "/").endswith(path) and f[2] == name]
        if found:
            phases.append((what, sum(v[1] for v in found), sum(v[3] for v in found)))
    return {
        "total_s": sum(v[2] for v in busy.values()),
        "idle_s": idle,
        "phases": phases,
        "groups": dict(sorted(groups.items(), key=lambda item: item[1], reverse=True)),
        "top_tottime": [(label(f), v[1], v[2], v[3]) for f, v in by_tottime],
        "top_cumtime": [(label(f), v[1], v[2], v[3]) for f, v in by_cumtime],
    }


def proc_self_cpu() -> float:
    return S.cpu_seconds(os.getpid())


def vigil_role(args: argparse.Namespace) -> int:
    """Build the agent's SNMP pollers from `args.config`, warm up, time one full poll, profile one more."""
    from agent import config as agent_config
    from agent import pollers as registry
    from agent.pollers.snmp.types import Tag

    def say(text: str) -> None:
        print(text, flush=True)

    config = agent_config.load_isolated(args.config)     # as `vigil-agent run` does: pydantic stays in a child
    sim_pids = [int(p) for p in args.sim_pids.split(",") if p]

    async def run() -> dict[str, Any]:
        import agent.pollers.snmp.poller as snmp_poller

        built = registry.build(config)                   # the agent's own factory: shared engine, one gate
        pollers = [p for p in built if isinstance(p, snmp_poller.SnmpDevicePoller)]
        if len(pollers) != len(built) or not pollers:
            raise S.BenchError(f"expected only SNMP pollers, got {[type(p).__name__ for p in built]}")
        received: dict[int, int] = {}                          # per client (one per device)
        short: dict[int, str] = {}
        asked: dict[tuple[tuple[int, ...], ...], int] = {}      # (GET oids, walked columns) → devices
        real_fetch = snmp_poller.fetch

        started = time.monotonic()

        async def counting_fetch(client: Any, *rest: Any, **kwargs: Any) -> Any:
            """What `poll()` got back: every GET answer and every walked cell is a varbind received.

            snmpsim serves the recorded sysUpTime, frozen; a real device's ticks. Frozen, any two polls
            more than 10 s apart look like a reboot to the extractor (boot time moved later), which then
            forgets every counter and computes no rates. So the uptime handed on advances with the clock,
            as of the moment the GET is sent (a real device answers it first, beside the walks).
            """
            ticks = int((time.monotonic() - started) * 100)
            scalars, table = await real_fetch(client, *rest, **kwargs)
            scalars = [(oid, tag, value + ticks) if oid == SYS_UPTIME and tag == Tag.TIMETICKS else (oid, tag, value)
                       for oid, tag, value in scalars]
            received[id(client)] = received.get(id(client), 0) + len(scalars) + sum(len(c) for c in table.values())
            missing = [oid for oid, tag, _ in scalars if tag >= Tag.NO_SUCH_OBJECT]
            rows = {len(column) for column in table.values()}
            if missing or rows != {args.interfaces}:
                short[id(client)] = (f"{getattr(client, 'device', '?')}: {len(missing)} scalars missing, "
                                     f"column lengths {sorted(rows)}")
            key = (tuple(oid for oid, _, _ in scalars), *table)
            asked[key] = asked.get(key, 0) + 1
            return scalars, table

        snmp_poller.fetch = counting_fetch   # poll() looks `fetch` up in its module at call time

        async def poll_all(chosen: list[Any]) -> tuple[list[Any], float]:
            received.clear()
            short.clear()
            asked.clear()
            t0 = time.perf_counter()
            polls = await asyncio.gather(*(p.poll() for p in chosen), return_exceptions=True)
            wall = time.perf_counter() - t0
            failed = [(p.device_id, r) for p, r in zip(chosen, polls) if isinstance(r, BaseException)]
            if failed:
                device, error = failed[0]
                raise S.BenchError(f"{len(failed)} of {len(chosen)} polls failed; {device}: {type(error).__name__}: {error}")
            if short:
                raise S.BenchError(f"{len(short)} devices did not answer every object asked; {next(iter(short.values()))}")
            if len(received) != len(chosen):
                raise S.BenchError(f"{len(received)} of {len(chosen)} polls went through fetch()")
            return polls, wall

        say(f"built {len(pollers)} SnmpDevicePollers (one shared gate), max_in_flight "
            f"{config.pollers.snmp.max_in_flight}, timeout {config.pollers.snmp.timeout:g} s, retries "
            f"{config.pollers.snmp.retries}, max_repetitions {config.pollers.snmp.max_repetitions}")
        c0 = time.process_time()
        _, warm_wall = await poll_all(pollers)
        warm_cpu = time.process_time() - c0
        profiles = sorted({p.identity.profile.name for p in pollers if p.identity is not None})
        say(f"warm-up poll (identify + first counters): {warm_wall:.1f} s wall, {warm_cpu:.1f} CPU s, "
            f"{sum(received.values()):,} varbinds, {max(len(k) for k in asked) - 1} columns walked, profiles {profiles}")
        if profiles != [args.expect_profile]:
            raise S.BenchError(f"the devices were identified as {profiles}, not {args.expect_profile!r} (IF-MIB only)")
        await asyncio.sleep(1.0)          # rates need time between polls

        sims0 = [S.cpu_seconds(pid) for pid in sim_pids]
        proc0 = proc_self_cpu()
        c0 = time.process_time()
        polls, wall = await poll_all(pollers)
        cpu = time.process_time() - c0
        proc_cpu = proc_self_cpu() - proc0
        sims_cpu = sum(S.cpu_seconds(pid) for pid in sim_pids) - sum(sims0)
        varbinds = sum(received.values())
        if len(asked) != 1:
            raise S.BenchError(f"the devices were not all asked the same objects: {len(asked)} different requests")
        (plan,) = asked
        get_oids = [".".join(map(str, oid)) for oid in plan[0]]
        columns = [".".join(map(str, oid)) for oid in plan[1:]]
        samples = sum(len(p.samples) for p in polls)
        rates = sum(1 for p in polls for s in p.samples if s[0] == "net_recv_bits_per_second")
        rebooted = sum(1 for p in pollers if p.identity is None)
        say(f"timed poll: {len(pollers)} devices, {wall:.1f} s wall, {cpu:.2f} CPU s, {varbinds:,} varbinds "
            f"({len(get_oids)} scalars + {len(columns)} columns × {args.interfaces} rows per device), "
            f"{samples:,} samples ({rates:,} interface rates)")
        if rates != len(pollers) * args.interfaces or rebooted:
            raise S.BenchError(f"the timed poll gave {rates} interface rates (expected {len(pollers) * args.interfaces}); "
                               f"{rebooted} devices looked rebooted")

        profiled = pollers[: max(1, min(args.profile_devices, len(pollers)))]
        profile: dict[str, Any] = {}
        if args.profile_devices > 0:
            await asyncio.sleep(1.0)
            # Wall clock: cheap to read (a CPU clock costs a system call per event and inflated the profile
            # 8×). The time the event loop waits in epoll for replies is taken out as idle.
            profiler = cProfile.Profile()
            c0 = time.process_time()
            profiler.enable()
            _, p_wall = await poll_all(profiled)
            profiler.disable()
            p_cpu = time.process_time() - c0
            profile = profile_groups(profiler)
            profile.update(devices=len(profiled), wall_s=p_wall, cpu_s=p_cpu, varbinds=sum(received.values()))
            say(f"profiled poll: {len(profiled)} devices, {p_cpu:.1f} CPU s under cProfile")
        return {
            "devices": len(pollers), "varbinds": varbinds, "samples": samples, "wall_s": wall, "cpu_s": cpu,
            "proc_cpu_s": proc_cpu, "simulators_cpu_s": sims_cpu, "warmup_wall_s": warm_wall,
            "warmup_cpu_s": warm_cpu,
            "profiles": profiles, "profile": profile, "get_oids": get_oids, "columns": columns,
        }

    try:
        result = asyncio.run(run())
    except S.BenchError as exc:
        result = {"error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - the parent reports it and fails
        import traceback

        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc} (traceback in the vigil poller's log)"}
    tmp = Path(args.out).with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    tmp.rename(args.out)
    return 0 if "error" not in result else 1


# ------------------------------------------------------------------ snmp_exporter


def exporter_version() -> str:
    done = subprocess.run([str(EXPORTER), "--version"], capture_output=True, text=True, timeout=10)
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def exporter_config(path: Path, communities: list[str], get_oids: list[str], walk_oids: list[str],
                    timeout_s: float, retries: int, max_repetitions: int) -> Path:
    """snmp.yml: one module per device (the 0.21 format keeps the community in the module's `auth:`).

    The first module holds the walk, get and metrics lists under YAML anchors;
    the others refer to them, so the file stays small.
    """
    def metric(oid: str, *, table: bool) -> list[str]:
        name, kind = IF_MIB.get(oid, ("oid_" + oid.replace(".", "_"), "gauge"))
        lines = [f"  - name: {name}", f"    oid: {oid.removesuffix('.0') if not table else oid}",
                 f"    type: {kind}", f"    help: {name} ({oid})"]
        if table:
            lines += ["    indexes:", "      - labelname: ifIndex", "        type: gauge", "    lookups:"]
            for lookup in (IF_NAME, IF_ALIAS):
                lines += ["      - labels: [ifIndex]", f"        labelname: {IF_MIB[lookup][0]}",
                          f"        oid: {lookup}", "        type: DisplayString"]
        return lines

    out: list[str] = []
    for n, community in enumerate(communities):
        out.append(f"if_mib_{community}:")
        if n == 0:
            out.append("  walk: &walk")
            out += [f"    - {oid}" for oid in walk_oids]
            out.append("  get: &get")
            out += [f"    - {oid}" for oid in get_oids]
            out.append("  metrics: &metrics")
            for oid in get_oids:
                out += ["  " + line for line in metric(oid, table=False)]
            for oid in walk_oids:
                out += ["  " + line for line in metric(oid, table=True)]
        else:
            out += ["  walk: *walk", "  get: *get", "  metrics: *metrics"]
        out += ["  version: 2", f"  max_repetitions: {max_repetitions}", f"  retries: {retries}",
                f"  timeout: {timeout_s:g}s", "  auth:", f"    community: {community}"]
    path.write_text("\n".join(out) + "\n")
    return path


_SCRAPE_STATS = re.compile(r"^snmp_scrape_(pdus_returned|packets_sent|packets_retried)(?:\{[^}]*\})? (\S+)$", re.M)


def scrape(url: str, timeout_s: float) -> tuple[int, int, float, int, int]:
    """One /snmp scrape → (varbinds the exporter says it got, sample lines, seconds, packets sent, retried)."""
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        body = response.read().decode()
    took = time.perf_counter() - t0
    stats = {name: int(float(value)) for name, value in _SCRAPE_STATS.findall(body)}
    if "pdus_returned" not in stats:
        raise S.BenchError(f"{url}: no snmp_scrape_pdus_returned in the answer:\n{body[-1500:]}")
    samples = sum(1 for line in body.splitlines() if line and not line.startswith("#"))
    return stats["pdus_returned"], samples, took, stats.get("packets_sent", -1), stats.get("packets_retried", -1)


# ------------------------------------------------------------------ the run


def write_agent_config(path: Path, devices: list[tuple[str, int]], args: argparse.Namespace) -> Path:
    snmp = []
    if args.max_in_flight is not None:
        snmp.append(f"max_in_flight: {args.max_in_flight}")
    if args.timeout is not None:
        snmp.append(f"timeout: {args.timeout:g}s")
    lines = [
        "agent: {id: bench-snmp, customer: bench, site: bench}",
        "collector: {address: '127.0.0.1:1', insecure: true}",
        f"state_dir: {path.parent / 'agent-state'}",
        "pollers:",
        "  host: {enabled: false}",
        f"  snmp: {{{', '.join(snmp)}}}",
        "devices:",
    ]
    for community, port in devices:
        lines.append(f"  - {{id: {community}, kind: switch, address: 127.0.0.1, "
                     f"snmp: {{community: {community}, port: {port}}}}}")
    path.write_text("\n".join(lines) + "\n")
    return path


def run_vigil(workdir: Path, agent_yaml: Path, sims: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    out = workdir / "vigil-result.json"
    child = S.Child(
        "vigil poller",
        [sys.executable, str(Path(__file__).resolve()), "--role", "vigil", "--config", str(agent_yaml),
         "--out", str(out), "--profile-devices", str(args.profile_devices),
         "--sim-pids", ",".join(str(s._process.pid) for s in sims),  # noqa: SLF001
         "--interfaces", str(INTERFACES), "--expect-profile", PROFILE],
        workdir / "vigil.log",
    )
    try:
        print(f"  vigil poller pid {child.pid} (--role vigil)", flush=True)
        shown = 0
        deadline = time.monotonic() + args.vigil_timeout
        while not out.exists():
            lines = child.log.read_text(errors="replace").splitlines() if child.log.exists() else []
            for line in lines[shown:]:
                print(f"    vigil: {line}", flush=True)
            shown = len(lines)
            if not child.alive() and not out.exists():
                raise S.BenchError(f"the vigil poller exited with {child.process.returncode}:\n{child.tail()}")
            if time.monotonic() > deadline:
                raise S.BenchError(f"the vigil poller did not finish within {args.vigil_timeout:.0f} s:\n{child.tail()}")
            time.sleep(0.2)
        child.process.wait(30)
        for line in child.log.read_text(errors="replace").splitlines()[shown:]:
            print(f"    vigil: {line}", flush=True)
    finally:
        child.stop()
    result: dict[str, Any] = json.loads(out.read_text())
    if "error" in result:
        raise S.BenchError(f"vigil poller: {result['error']}")
    return result


def run_exporter(workdir: Path, children: list[S.Child], communities: list[str], ports: list[int],
                 sims: list[Any], get_oids: list[str], walk_oids: list[str], expected: int,
                 args: argparse.Namespace) -> dict[str, Any]:
    from agent.config import SnmpPoller

    defaults = SnmpPoller()
    config = exporter_config(workdir / "snmp.yml", communities, get_oids, walk_oids,
                             args.timeout if args.timeout is not None else defaults.timeout,
                             defaults.retries, defaults.max_repetitions)
    port = S.free_port()
    exporter = S.Child("snmp_exporter", [str(EXPORTER), f"--config.file={config}",
                                         f"--web.listen-address=127.0.0.1:{port}"], workdir / "snmp_exporter.log")
    children.append(exporter)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/", timeout=2):
                break
        except OSError:
            if not exporter.alive() or time.monotonic() > deadline:
                raise S.BenchError(f"snmp_exporter did not answer on {base}:\n{exporter.tail()}") from None
            time.sleep(0.1)
    print(f"  snmp_exporter pid {exporter.pid} on 127.0.0.1:{port} ({exporter_version()}), "
          f"{len(communities)} modules in {config.name}", flush=True)
    urls = [f"{base}/snmp?target=127.0.0.1:{p}&module=if_mib_{c}" for c, p in zip(communities, ports)]

    def scrape_all(chosen: list[str]) -> tuple[list[tuple[int, int, float, int, int]], float]:
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(len(chosen), args.exporter_concurrency)) as pool:
            answers = list(pool.map(lambda u: scrape(u, args.scrape_timeout), chosen))
        wall = time.perf_counter() - t0
        wrong = [(u, a) for u, a in zip(chosen, answers) if a[0] != expected]
        if wrong:
            url, (pdus, *_) = wrong[0]
            raise S.BenchError(f"{len(wrong)} scrapes returned other than {expected} varbinds; {url}: {pdus} "
                               f"(see {exporter.log}):\n{exporter.tail(5)}")
        return answers, wall

    try:
        warm = urls[: min(len(urls), 8)]
        _, warm_wall = scrape_all(warm)
        print(f"  warm-up: {len(warm)} scrapes in {warm_wall:.1f} s", flush=True)
        time.sleep(1.0)
        sims0 = sum(S.cpu_seconds(s._process.pid) for s in sims)  # noqa: SLF001
        cpu0 = S.cpu_seconds(exporter.pid)
        answers, wall = scrape_all(urls)
        cpu = S.cpu_seconds(exporter.pid) - cpu0
        sims_cpu = sum(S.cpu_seconds(s._process.pid) for s in sims) - sims0  # noqa: SLF001
    except urllib.error.URLError as exc:
        raise S.BenchError(f"a scrape failed: {exc}:\n{exporter.tail(5)}") from None
    if cpu < 2 / S.CLOCK_TICKS:
        raise S.BenchError(f"snmp_exporter used {cpu:.2f} CPU s over the timed scrapes: too little to measure "
                           "(use more --devices)")
    if not exporter.alive():
        raise S.BenchError(f"snmp_exporter exited with {exporter.process.returncode}:\n{exporter.tail()}")
    varbinds = sum(a[0] for a in answers)
    samples = sum(a[1] for a in answers)
    packets, retried = sum(a[3] for a in answers), sum(a[4] for a in answers)
    print(f"  timed scrape: {len(urls)} devices, {wall:.1f} s wall, {cpu:.2f} CPU s, {varbinds:,} varbinds, "
          f"{samples:,} sample lines; {packets:,} SNMP requests sent ({packets / len(urls):.0f} per device), "
          f"{retried} retried; slowest scrape {max(a[2] for a in answers):.1f} s", flush=True)
    exporter.stop()
    return {"devices": len(urls), "varbinds": varbinds, "samples": samples, "wall_s": wall, "cpu_s": cpu,
            "packets": packets, "retried": retried,
            "simulators_cpu_s": sims_cpu, "version": exporter_version()}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help=f"{QUICK_DEVICES} devices instead of {FULL_DEVICES}; "
                   f"poll_cpu_s is scaled to {FULL_DEVICES}")
    p.add_argument("--devices", type=int, help=f"switches to poll (default {FULL_DEVICES}, quick {QUICK_DEVICES})")
    p.add_argument("--simulators", type=int, default=4, help="snmpsim processes (default 4)")
    p.add_argument("--profile-devices", type=int,
                   help="devices polled once more under cProfile (default 50, quick 10; 0: no profile)")
    p.add_argument("--max-in-flight", type=int, help="pollers.snmp.max_in_flight (default: the agent's, 32)")
    p.add_argument("--timeout", type=float, help="SNMP timeout per request, s, for both (default: the agent's, 2)")
    p.add_argument("--exporter-concurrency", type=int,
                   help="scrapes in flight at once (default: the agent's max_in_flight, 32; every device at "
                        "once overloads the simulators past the 2 s SNMP timeout)")
    p.add_argument("--scrape-timeout", type=float, default=120.0, help="HTTP timeout of one scrape, s")
    p.add_argument("--no-exporter", action="store_true", help="measure Vigil only")
    p.add_argument("--vigil-timeout", type=float, default=900.0, help="bound on the whole Vigil process, s")
    p.add_argument("--keep", action="store_true", help="keep the work directory (configs, logs)")
    # --role vigil: the poller process this script starts
    p.add_argument("--role", choices=["main", "vigil"], default="main", help=argparse.SUPPRESS)
    p.add_argument("--config", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--sim-pids", default="", help=argparse.SUPPRESS)
    p.add_argument("--interfaces", type=int, default=INTERFACES, help=argparse.SUPPRESS)
    p.add_argument("--expect-profile", default=PROFILE, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.devices is None:
        args.devices = QUICK_DEVICES if args.quick else FULL_DEVICES
    if args.profile_devices is None:
        args.profile_devices = 10 if args.quick else 50
    if args.exporter_concurrency is None:
        from agent.config import SnmpPoller

        args.exporter_concurrency = args.max_in_flight or SnmpPoller().max_in_flight
    if args.devices < 1 or args.simulators < 1:
        p.error("--devices and --simulators must be at least 1")
    return args


def start_simulators(workdir: Path, count: int, switches: int) -> tuple[list[Any], list[str], dict[str, Any]]:
    """`count` snmpsim processes, each serving every synthetic switch; the first start indexes them if needed."""
    from tests.peers.snmp import Snmpsim, ensure_switch_recordings, shared_snmpsim_folder

    sims: list[Any] = []
    info: dict[str, Any] = {}
    with shared_snmpsim_folder() as shared:
        t0 = time.monotonic()
        folder = ensure_switch_recordings(shared, switches, INTERFACES)
        if time.monotonic() - t0 > 0.5:
            print(f"  wrote {switches} switch recordings in {time.monotonic() - t0:.1f} s", flush=True)
        cache = shared / "cache"
        last = folder / f"switch-{switches - 1:03d}.snmprec"
        key = str(last.with_suffix(".dbm")).replace(os.sep, "_")
        info["indexed_before"] = cache.is_dir() and any(f.name.startswith(key) for f in cache.iterdir())
        for n in range(count):
            t0 = time.monotonic()
            sim = Snmpsim(workdir / f"snmpsim-{n}", [folder], cache)
            sims.append(sim)
            sim.start()
            took = time.monotonic() - t0
            if n == 0:
                info["first_start_s"] = took
            print(f"  snmpsim {n} pid {sim._process.pid} on 127.0.0.1:{sim.port} serving {len(sim.communities)} "  # noqa: SLF001
                  f"recordings, up in {took:.1f} s"
                  + ("" if n or info["indexed_before"] else " (built the indexes: first run on this machine)"), flush=True)
    info["folder"], info["recordings"] = str(folder), len(sims[0].communities)
    return sims, sims[0].communities, info


def main() -> int:
    args = parse_args()
    if args.role == "vigil":
        return vigil_role(args)
    S.sigterm_as_exit()
    started = time.monotonic()
    code_under_test = S.code_version()
    mode = "quick" if args.quick else "full"
    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-snmp-"))
    print(f"SNMP poll benchmark ({mode}): {args.devices} switches × {INTERFACES} interfaces, "
          f"{args.simulators} snmpsim processes")
    print(f"  work directory {workdir}")
    children: list[S.Child] = []
    sims: list[Any] = []
    try:
        installed = False if args.no_exporter else S.ensure_debian_package("prometheus-snmp-exporter", EXPORTER)
        sims, communities, sim_info = start_simulators(workdir, args.simulators, max(RECORDED_SWITCHES, args.devices))
        communities = communities[: args.devices]
        ports = [sims[n % len(sims)].port for n in range(len(communities))]
        agent_yaml = write_agent_config(workdir / "agent.yaml", list(zip(communities, ports)), args)

        print("Vigil: the agent's SnmpDevicePollers (agent.pollers.build) in a process of their own", flush=True)
        vigil = run_vigil(workdir, agent_yaml, sims, args)
        exporter: dict[str, Any] | None = None
        if not args.no_exporter:
            # The same objects the agent asked for in its timed poll (its learned walk plan), same order.
            get_oids, columns = vigil["get_oids"], vigil["columns"]
            expected = len(get_oids) + len(columns) * INTERFACES
            print(f"prometheus-snmp-exporter: GET the same {len(get_oids)} scalars, walk the same {len(columns)} "
                  f"columns ({expected:,} varbinds per device); one scrape per device, "
                  f"{args.exporter_concurrency} in flight", flush=True)
            exporter = run_exporter(workdir, children, communities, ports, sims, get_oids, columns, expected, args)
    except S.BenchError as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        for sim in sims:
            sim.stop()
        S.cleanup(children, workdir, args.keep)

    S.print_provenance(code_under_test)
    from importlib.metadata import version

    print("packages: " + ", ".join(f"{name} {version(name)}" for name in ("pysnmp", "pyasn1", "snmpsim"))
          + (f"; {exporter['version']}" if exporter else ""))
    if installed:
        print("prometheus-snmp-exporter was installed by this run (apt-get)")
    print(f"snmpsim: {len(sims)} processes serving {sim_info['recordings']} recordings from {sim_info['folder']}; "
          + (f"indexes reused (first start {sim_info['first_start_s']:.1f} s)" if sim_info["indexed_before"]
             else f"indexes built by this run: first start {sim_info['first_start_s']:.1f} s (paid once per machine)"))
    print(f"Vigil: {vigil['devices']} devices; warm-up poll "
          f"{vigil['warmup_wall_s']:.1f} s wall, {vigil['warmup_cpu_s']:.1f} CPU s; timed poll CPU by /proc "
          f"{vigil['proc_cpu_s']:.2f} s (process_time {vigil['cpu_s']:.2f} s)\n")

    def row(name: str, r: dict[str, Any]) -> list[str]:
        return [name, f"{r['devices']}", f"{r['varbinds']:,}", f"{r['wall_s']:.1f}", f"{r['cpu_s']:.2f}",
                f"{r['devices'] / r['wall_s']:.2f}", f"{r['varbinds'] / r['wall_s']:,.0f}",
                f"{10_000 * r['cpu_s'] / r['varbinds']:.3f}", f"{r['varbinds'] / r['cpu_s']:,.0f}",
                f"{r['simulators_cpu_s']:.1f}"]

    rows = [row("vigil SnmpDevicePoller", vigil)]
    if exporter is not None:
        rows.append(row("prometheus-snmp-exporter", exporter))
    print(S.table(rows, ["client", "devices", "varbinds", "wall s", "CPU s", "devices/s", "varbinds/s",
                         "CPU s / 10k varbinds", "varbinds / CPU-s", "snmpsim CPU s"]))

    per_cpu = vigil["varbinds"] / vigil["cpu_s"]
    poll_cpu_200 = vigil["cpu_s"] * FULL_DEVICES / vigil["devices"]
    scaled = vigil["devices"] != FULL_DEVICES
    ratio = None
    if exporter is not None:
        ex_per_cpu = exporter["varbinds"] / exporter["cpu_s"] if exporter["cpu_s"] > 0 else float("inf")
        ratio = per_cpu / ex_per_cpu
        print(f"\nratio (Vigil ÷ snmp_exporter): varbinds per CPU-s {ratio:.3f}×; CPU s per 10k varbinds "
              f"{1 / ratio:.1f}× snmp_exporter's")
    print()
    print(f"poller CPU for one full poll of {FULL_DEVICES} devices: {poll_cpu_200:.1f} s"
          + (f" (scaled from {vigil['devices']} devices: {vigil['cpu_s']:.2f} s × {FULL_DEVICES}/{vigil['devices']})"
             if scaled else ""))
    cpu_ok = poll_cpu_200 <= CPU_TARGET_S
    print(f"target poller CPU for {FULL_DEVICES} devices ≤ {CPU_TARGET_S:.0f} CPU-s: {'met' if cpu_ok else 'MISSED'} "
          f"({poll_cpu_200:.1f} s{', scaled' if scaled else ''}; one core per 60 s interval would be "
          f"{100 * poll_cpu_200 / 60:.0f} % busy)")
    if ratio is not None:
        print(f"target ≥ {RATIO_TARGET}× snmp_exporter's varbinds per CPU-s: {'met' if ratio >= RATIO_TARGET else 'MISSED'} "
              f"({ratio:.3f}×: {per_cpu:,.0f} vs {exporter['varbinds'] / exporter['cpu_s']:,.0f})")  # type: ignore[index]

    prof = vigil.get("profile") or {}
    if prof:
        total = prof["total_s"]
        unprofiled = vigil["cpu_s"] * prof["varbinds"] / vigil["varbinds"]
        print(f"\nwhere the poller's CPU goes: cProfile of {prof['devices']} devices polled once more "
              f"({prof['varbinds']:,} varbinds): {total:.1f} s busy under the profiler, {prof['idle_s']:.1f} s waiting "
              f"in epoll (left out); the same work costs {unprofiled:.2f} CPU s unprofiled, so the profiler "
              f"inflates it {total / unprofiled:.1f}× (most where calls are many and short). "
              f"Self time by group; a C function counts for its caller's group:")
        print(S.table([[name, f"{seconds:.2f}", f"{100 * seconds / total:.1f} %"]
                       for name, seconds in prof["groups"].items() if seconds >= 0.0005],
                      ["group (self time)", "s", "share"]))
        if prof.get("phases"):
            print("\nsteps of a poll (cumulative time of their entry function, share of busy time; calls per device):")
            print(S.table([[what, f"{seconds:.2f}", f"{100 * seconds / total:.1f} %", f"{calls / prof['devices']:.1f}"]
                           for what, calls, seconds in prof["phases"]], ["step", "s", "share", "calls"]))
        print("\ntop functions by self time:")
        print(S.table([[name, f"{calls:,}", f"{tt:.2f}", f"{ct:.2f}"] for name, calls, tt, ct in prof["top_tottime"][:15]],
                      ["function", "calls", "self s", "cumulative s"]))
        print("\ntop functions by cumulative time:")
        print(S.table([[name, f"{calls:,}", f"{tt:.2f}", f"{ct:.2f}"] for name, calls, tt, ct in prof["top_cumtime"][:20]],
                      ["function", "calls", "self s", "cumulative s"]))
    print(f"\ntotal time {time.monotonic() - started:.0f} s")
    result: dict[str, Any] = {
        "poll_cpu_s": round(poll_cpu_200, 2),
        "full_poll_s": round(vigil["wall_s"], 2),
        "devices_per_s": round(vigil["devices"] / vigil["wall_s"], 2),
        "varbinds_per_s": round(vigil["varbinds"] / vigil["wall_s"]),
        "varbinds_per_cpu_s": round(per_cpu),
        "exporter_varbinds_per_cpu_s": round(exporter["varbinds"] / exporter["cpu_s"]) if exporter else None,
        "varbinds_per_cpu_s_ratio": round(ratio, 3) if ratio is not None else None,
        "devices": vigil["devices"],
    }
    print(S.result_line(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
