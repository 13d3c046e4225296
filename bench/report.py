"""Report: a monthly inspection report of a 200-device customer from 30 days of hourly rollups.

    .venv/bin/python bench/report.py            # full: 200 devices × 30 days (about 2 min with the setup)
    .venv/bin/python bench/report.py --quick    # 200 devices × 7 days

Setup (outside the clock): a fresh SQLite store, migrated, filled straight
through SQL with what a real collector would hold after a month: one agent
per site (4 sites), 160 servers (CPU, memory, swap, 3 filesystems, 2 NICs'
traffic in and out, uptime, poll status: 12 series) and 40 24-port switches
(per port oper/admin status, utilisation in and out, input errors; CPU,
memory pool, temperature, uptime, poll status, sysDescr: 126 series), 6,960
series, an hourly rollup per series and hour (plus the 3 days before the period the
filesystem forecast looks back on), with anomalies planted on about one
device in eight (CPU hours at 95 %, filesystems filling up, reboots, ports
down, an unreachable switch, busy uplinks) and an incident with its
timeline for each, so the report has findings, SLA figures and forecasts
to show, as a real one would.

Measured, in a child process of its own (so its peak RSS is the report's
alone): `collector.inspections.job.run` for the customer and the period in
Chinese — claim, read and judge every device (data), the view with its
trend charts (charts), HTML and the PDF through WeasyPrint (pdf), storing
the result and the report. The PDF is left on disk (`pdf_path`) and checked:
pages, fonts embedded (pdffonts), Chinese text present (pdftotext).

Beside it, the reason the trend charts are not drawn by matplotlib: the
same device charts made both ways for 20 devices, and WeasyPrint drawing
them, extrapolated to the 200 devices.

Targets: total < 60 s and peak RSS < 1 GiB on this machine (2 shared cores).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _support as S  # noqa: E402  (puts the repo root on sys.path)

CUSTOMER = "华东制造股份有限公司"
SITES = ("上海机房", "北京机房", "广州机房", "成都机房")
TZ = "Asia/Shanghai"
HOUR = 3_600_000
MIN = 60_000
LOOKBACK_H = 72
TARGET_S = 60.0
TARGET_RSS_MIB = 1024.0
SYS_DESCR = "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E8, RELEASE SOFTWARE (fc1)"


# =================================================================== setup


def populate(url: str, servers: int, switches: int, period_start_ms: int, hours: int) -> dict[str, int]:
    """Fill the store; returns counts. Rows go in through the DB-API's executemany (C speed), in big transactions."""
    import numpy as np
    from sqlalchemy import insert

    from collector.store import database, schema

    engine = database.open_store(url)
    rng = np.random.default_rng(7)
    first_hour = -LOOKBACK_H
    hour_ms = period_start_ms + np.arange(first_hour, hours, dtype=np.int64) * HOUR
    n = len(hour_ms)
    day_phase = np.sin((np.arange(first_hour, hours) % 24) / 24 * 2 * np.pi - np.pi / 2)
    now = period_start_ms + (hours + 8) * HOUR
    per_site = (servers + switches + len(SITES) - 1) // len(SITES)
    counts = {"series": 0, "rollups": 0, "incidents": 0}
    series_rows: list[tuple] = []
    incidents: list[dict] = []
    timeline: list[dict] = []
    raw = engine.raw_connection()
    cursor = raw.cursor()
    next_sid = [1]

    def put(agent: str, device: str, metric: str, labels: dict[str, str], mean, spread=0.0, last=None, count: int = 60) -> None:  # type: ignore[no-untyped-def]
        sid = next_sid[0]
        next_sid[0] += 1
        series_rows.append((sid, agent, device, metric, json.dumps(sorted([k, v] for k, v in labels.items()), ensure_ascii=False)))
        mean = np.broadcast_to(np.asarray(mean, dtype=np.float64), (n,))
        low = np.maximum(mean - spread, 0.0)
        high = mean + spread
        if metric.endswith("_percent"):
            high = np.minimum(high, 100.0)
        final = mean if last is None else np.broadcast_to(np.asarray(last, dtype=np.float64), (n,))
        cursor.executemany(
            "INSERT INTO rollups_hourly (series_id, hour_ms, count, sum, min, max, last, last_ts_ms) VALUES (?,?,?,?,?,?,?,?)",
            zip([sid] * n, hour_ms.tolist(), [count] * n, (mean * count).tolist(), low.tolist(), high.tolist(),
                final.tolist(), (hour_ms + 59 * MIN).tolist()))
        counts["rollups"] += n

    def incident(agent: str, device: str, site: str, check_id: str, instance: str, severity: str, at_hour: float) -> None:
        seen = period_start_ms + int(at_hour * HOUR)
        ack = seen + int(rng.choice([20, 45, 90, 150]) * MIN)
        plan = seen + int(rng.choice([4, 20, 40, 60]) * HOUR)
        number = len(incidents) + 1
        incidents.append(dict(incident_id=number, agent_id=agent, device_id=device, check_id=check_id, instance=instance,
                              customer=CUSTOMER, site=site, severity=severity, status="planned", happened_ms=seen - MIN,
                              seen_ms=seen, last_fired_ms=seen, acknowledged_ms=ack, plan_ms=plan, acknowledged_by="值班工程师",
                              plan_by="值班工程师", plan_text="更换/扩容", title_en=check_id, title_zh=check_id,
                              analysis_en="", analysis_zh="", advice_en="", advice_zh=""))
        timeline.extend([dict(incident_id=number, at_ms=seen - MIN, kind="opened", who="vigil"),
                         dict(incident_id=number, at_ms=ack, kind="acknowledged", who="值班工程师"),
                         dict(incident_id=number, at_ms=plan, kind="plan", who="值班工程师", text="更换/扩容")])

    with engine.begin() as connection:
        for s, site in enumerate(SITES):
            connection.execute(insert(schema.agents).values(agent_id=f"agent-{s + 1}", customer=CUSTOMER, site=site, hostname=f"probe-{s + 1}",
                                                            first_seen_ms=period_start_ms - 90 * 24 * HOUR, last_seen_ms=now))
        devices = []
        for index in range(servers + switches):
            kind = "server" if index < servers else "switch"
            agent = f"agent-{index // per_site + 1}"
            name = f"srv-{index + 1:03d}" if kind == "server" else f"sw-{index - servers + 1:02d}"
            devices.append((index, kind, agent, SITES[index // per_site], name))
            connection.execute(insert(schema.devices).values(
                agent_id=agent, device_id=name, name=name, kind=kind, address=f"10.{index // 250}.{index % 250}.10",
                platform="linux" if kind == "server" else "cisco_ios", pollers="snmp",
                labels=json.dumps({"model": "PowerEdge R740", "version": "CentOS 7.9"} if kind == "server" else {}),
                first_seen_ms=period_start_ms - 90 * 24 * HOUR, last_seen_ms=now))
    booted = (hour_ms + 59 * MIN - (period_start_ms - 40 * 24 * HOUR)) / 1000
    for index, kind, agent, site, name in devices:
        noise = lambda scale: rng.normal(0, scale, n)  # noqa: E731
        up = np.ones(n)
        if kind == "server":
            cpu = np.clip(25 + 12 * day_phase + noise(3), 1, 100)
            if index % 10 == 0:
                at = 100 + index % 400
                cpu[LOOKBACK_H + at:LOOKBACK_H + at + 3] = 95.0
                incident(agent, name, site, "cpu_high", "cpu=cpu-total", "major", at + 0.1)
            put(agent, name, "cpu_usage_percent", {"cpu": "cpu-total"}, cpu, 8.0)
            put(agent, name, "mem_used_percent", {}, np.clip(55 + noise(2), 0, 100), 2.0)
            put(agent, name, "swap_used_percent", {}, 35.0 if index % 25 == 7 else 2.0, 0.5)
            for path, base in (("/", 35.0), ("/var", 50.0), ("/data", 60.0)):
                level = base + 5 * np.arange(n) / n + noise(0.2)
                if path == "/data" and index % 15 == 3:
                    level = 60 + 36 * np.arange(n) / n
                    incident(agent, name, site, "filesystem_usage", "path=/data", "major", hours - 60)
                put(agent, name, "disk_used_percent", {"path": path}, np.clip(level, 0, 100), 0.3)
            for nic in ("eth0", "eth1"):
                put(agent, name, "net_recv_bits_per_second", {"interface": nic}, np.abs(2e7 + 1e7 * day_phase + noise(2e6)), 5e6)
                put(agent, name, "net_sent_bits_per_second", {"interface": nic}, np.abs(1e7 + 5e6 * day_phase + noise(1e6)), 2e6)
            uptime = booted.copy()
            if index % 20 == 5:
                boot = period_start_ms + (300 + index) * HOUR + 30 * MIN
                after = hour_ms + 59 * MIN >= boot
                uptime[after] = (hour_ms[after] + 59 * MIN - boot) / 1000
            put(agent, name, "snmp_uptime_seconds", {}, uptime, 0.0)
        else:
            j = index - servers
            if j % 13 == 6:
                up[LOOKBACK_H + 200:LOOKBACK_H + 202] = 0.0
                incident(agent, name, site, "device_unreachable", "", "critical", 200.05)
            put(agent, name, "snmp_info", {"sys_descr": SYS_DESCR, "sys_name": name}, 1.0)
            put(agent, name, "cpu_usage_percent", {"cpu": "1"}, np.clip(15 + 5 * day_phase + noise(2), 0, 100), 5.0)
            put(agent, name, "mem_used_percent", {"pool": "Processor"}, 40.0 + noise(0.5), 0.5)
            put(agent, name, "sensors_temperature_celsius", {"sensor": "inlet"}, 32 + 2 * day_phase + noise(0.3), 1.0)
            put(agent, name, "snmp_uptime_seconds", {}, booted, 0.0)
            for port in range(1, 25):
                interface = f"Gi1/0/{port}"
                used = port <= 16
                oper = np.ones(n) if used else np.zeros(n)
                if used and port == 3 and j % 5 == 0:
                    oper[LOOKBACK_H + 400:LOOKBACK_H + 405] = 0.0
                    incident(agent, name, site, "interface_down", f"interface={interface}", "major", 400.02)
                put(agent, name, "net_admin_up", {"interface": interface}, 1.0 if used else 0.0)
                put(agent, name, "net_oper_up", {"interface": interface}, oper)
                busy = 20 + 10 * day_phase + noise(2) if used else np.zeros(n)
                put(agent, name, "net_utilisation_percent", {"interface": interface, "direction": "in"}, np.clip(busy, 0, 100), 6.0 if used else 0.0)
                out = np.clip(busy * 0.8, 0, 100)
                if port == 1 and j % 4 == 1:
                    out = np.full(n, 86.0)
                put(agent, name, "net_utilisation_percent", {"interface": interface, "direction": "out"}, out, 4.0 if used else 0.0)
                put(agent, name, "net_errors_in_per_second", {"interface": interface}, 0.0)
        put(agent, name, "vigil_poll_up", {"poller": "snmp"}, up, 0.0)
    cursor.executemany("INSERT INTO series (series_id, agent_id, device_id, metric, labels) VALUES (?,?,?,?,?)", series_rows)
    raw.commit()
    cursor.close()
    raw.close()
    with engine.begin() as connection:
        if incidents:
            connection.execute(insert(schema.incidents), incidents)
            connection.execute(insert(schema.incident_timeline), timeline)
    engine.dispose()
    counts["series"] = len(series_rows)
    counts["incidents"] = len(incidents)
    return counts


# =================================================================== the measured run (child process)


def child(url: str, period_label: str, now_ms: int, pdf_path: Path) -> None:
    """Run the inspection and print what it took as one JSON line."""
    clock = time.perf_counter()
    from collector.inspections import job, period
    from collector.store import database

    engine = database.connect(url)
    imported = time.perf_counter() - clock
    request = job.Request(CUSTOMER, period.parse(period_label, TZ, now_ms), ("zh",))
    started, cpu = time.perf_counter(), time.process_time()
    outcome = job.run(engine, request, job.Environment(), "bench", now_ms)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    if outcome.status != "done":
        raise S.BenchError(f"the inspection failed: {outcome.error}")
    from collector.inspections import store

    row = store.report(engine, outcome.reports["zh"])
    pdf_path.write_bytes(bytes(row.pdf))
    t = outcome.timings
    print(json.dumps({
        "total_s": total, "cpu_s": cpu, "imports_s": imported, "devices": len(outcome.inspection.devices),
        "data_s": t.get("inspect", 0.0), "read_s": t.get("read", 0.0), "judge_s": t.get("judge", 0.0),
        "charts_s": t.get("view:zh", 0.0), "html_s": t.get("html:zh", 0.0),
        "pdf_s": t.get("pdf_layout:zh", 0.0) + t.get("pdf_write:zh", 0.0),
        "pdf_layout_s": t.get("pdf_layout:zh", 0.0), "pdf_write_s": t.get("pdf_write:zh", 0.0),
        "pages": row.pages, "pdf_bytes": row.pdf_bytes, "findings": row.findings,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
    engine.dispose()


# =================================================================== beside it: matplotlib for the same charts


def chart_comparison(url: str, devices: int = 20) -> dict[str, float]:
    """The trend charts of `devices` devices: as the report writes them, and drawn by matplotlib; making and WeasyPrint drawing."""
    import base64
    import io
    from zoneinfo import ZoneInfo

    import matplotlib
    import weasyprint
    from sqlalchemy import select

    from collector.inspections.model import Inspection
    from collector.reports import charts
    from collector.store import database, schema

    engine = database.connect(url)
    with engine.connect() as connection:
        data = connection.execute(select(schema.inspections.c.result).order_by(schema.inspections.c.inspection_id.desc()).limit(1)).scalar()
    engine.dispose()
    inspection = Inspection.from_json(data)
    tz = ZoneInfo(TZ)
    titles = {"chart_usage": "CPU 与内存使用率", "short_cpu": "CPU", "short_memory": "内存", "chart_filesystem": "文件系统使用率",
              "chart_interface": "接口利用率", "chart_traffic": "接口流量"}
    chosen = [d for d in inspection.devices if d.trends]
    chosen = chosen[: devices // 2] + chosen[-(devices - devices // 2):]
    clock = time.perf_counter()
    ours = [charts.device_svg(d.trends, titles, inspection.end_ms, tz)[0] for d in chosen]
    ours_s = time.perf_counter() - clock

    matplotlib.use("svg")
    from matplotlib.figure import Figure

    matplotlib.rcParams.update({"svg.fonttype": "none", "font.sans-serif": ["WenQuanYi Micro Hei"], "font.size": 7,
                                "axes.unicode_minus": False})
    theirs = []
    clock = time.perf_counter()
    for device in chosen:
        shown = charts.panels(device.trends, titles)
        figure = Figure(figsize=(7.1, 1.3))
        for n, panel in enumerate(shown):
            axes = figure.add_subplot(1, 3, n + 1)
            for line in panel.lines:
                axes.plot([v if v is not None else float("nan") for v in line.values], lw=1, label=line.label)
            if panel.threshold is not None:
                axes.axhline(panel.threshold, color="red", ls="--", lw=0.7)
            axes.set_title(f"{panel.title} ({panel.unit})", loc="left", fontsize=7)
            axes.legend(fontsize=6, frameon=False)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight")
        theirs.append(buffer.getvalue())
    theirs_s = time.perf_counter() - clock

    def draw(svgs: list[str]) -> float:
        """CPU seconds for WeasyPrint to lay out and write these SVGs, less the same document without them."""
        def seconds(images: bool) -> float:
            body = "<p>图表 chart</p>" + "".join(
                f'<img style="width:180mm" src="data:image/svg+xml;base64,{base64.b64encode(s.encode()).decode()}">'
                for s in (svgs if images else ()))
            clock = time.process_time()
            weasyprint.HTML(string=f"<html><body style='font-family:WenQuanYi Micro Hei'>{body}</body></html>").write_pdf()
            return time.process_time() - clock
        return max(0.0, seconds(True) - seconds(False))

    return {"devices": len(chosen), "ours_make_s": ours_s, "mpl_make_s": theirs_s, "ours_draw_s": draw(ours), "mpl_draw_s": draw(theirs)}


# =================================================================== main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="7 days of rollups instead of 30 (still 200 devices)")
    parser.add_argument("--servers", type=int, default=160)
    parser.add_argument("--switches", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the working folder (store, logs)")
    parser.add_argument("--role", choices=("main", "child"), default="main", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--period", help=argparse.SUPPRESS)
    parser.add_argument("--now", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pdf", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "child":
        child(args.db, args.period, args.now, args.pdf)
        return 0
    S.sigterm_as_exit()
    code_at_start = S.code_version()
    days = 7 if args.quick else 30
    hours = days * 24
    from collector.inspections import period as periods

    label = "2026-11-01..2026-11-07" if args.quick else "2026-11"
    chosen = periods.parse(label, TZ, 0)
    now = chosen.start_ms + (hours + 8) * HOUR
    workdir = Path(tempfile.mkdtemp(prefix="vigil-bench-report-"))
    url = f"sqlite:///{workdir / 'vigil.db'}"
    pdf_path = Path(tempfile.gettempdir()) / f"vigil-bench-report-{'quick' if args.quick else 'full'}.pdf"
    try:
        devices = args.servers + args.switches
        print(f"setup: {devices} devices ({args.servers} servers, {args.switches} switches × 24 ports), {days} days of hourly rollups …", flush=True)
        clock = time.perf_counter()
        counts = populate(url, args.servers, args.switches, chosen.start_ms, hours)
        print(f"  {counts['series']:,} series, {counts['rollups']:,} hourly rollups, {counts['incidents']} incidents "
              f"in {time.perf_counter() - clock:.1f} s; store {(workdir / 'vigil.db').stat().st_size / 2**20:.0f} MiB", flush=True)
        print("report: inspection + charts + HTML + PDF (zh) in a child process …", flush=True)
        done = subprocess.run([sys.executable, __file__, "--role", "child", "--db", url, "--period", label, "--now", str(now),
                               "--pdf", str(pdf_path)], capture_output=True, text=True, cwd=S.REPO, timeout=900)
        if done.returncode != 0:
            raise S.BenchError(f"the report child failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        check = _check_pdf(pdf_path)
        print("beside it: the same trend charts of 20 devices drawn by matplotlib …", flush=True)
        comparison = chart_comparison(url)
    except S.BenchError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        S.cleanup([], workdir, args.keep)
        return 1
    S.cleanup([], workdir, args.keep)

    per_device = result["total_s"] / result["devices"]
    scale = devices / max(1, comparison["devices"])
    print()
    print(S.table([
        ["total (claim → stored PDF)", f"{result['total_s']:.1f} s", f"< {TARGET_S:.0f} s; CPU {result['cpu_s']:.1f} s of 1 core"],
        ["  data: read + judge", f"{result['data_s']:.1f} s", f"read {result['read_s']:.1f} s, judge {result['judge_s']:.1f} s"],
        ["  charts + view", f"{result['charts_s']:.1f} s", ""],
        ["  HTML (Jinja2)", f"{result['html_s']:.1f} s", ""],
        ["  PDF (WeasyPrint)", f"{result['pdf_s']:.1f} s", f"layout {result['pdf_layout_s']:.1f} s, write {result['pdf_write_s']:.1f} s"],
        ["per device", f"{per_device * 1000:.0f} ms", ""],
        ["peak RSS (report process)", f"{result['peak_rss_mib']:.0f} MiB", f"< {TARGET_RSS_MIB:.0f} MiB"],
        ["PDF", f"{result['pdf_bytes'] / 2**20:.1f} MiB, {result['pages']} pages", check],
        ["findings", str(result["findings"]), ""],
    ], ["", "figure", "note"]))
    print()
    print(f"trend charts of {comparison['devices']} devices, extrapolated to {devices} devices (×{scale:g}):")
    print(S.table([
        ["written directly (charts.py)", f"{comparison['ours_make_s'] * scale:.1f} s", f"{comparison['ours_draw_s'] * scale:.1f} s"],
        ["matplotlib (svg backend)", f"{comparison['mpl_make_s'] * scale:.1f} s", f"{comparison['mpl_draw_s'] * scale:.1f} s"],
    ], ["", "make (wall)", "WeasyPrint draws (CPU)"]))
    S.print_provenance(code_at_start)
    ok = result["total_s"] < TARGET_S and result["peak_rss_mib"] < TARGET_RSS_MIB
    print(f"targets: {'met' if ok else 'NOT met'}")
    print(S.result_line({
        "total_s": round(result["total_s"], 2), "per_device_s": round(per_device, 4),
        "peak_rss_mib": round(result["peak_rss_mib"], 1), "pdf_bytes": result["pdf_bytes"], "pdf_path": str(pdf_path),
        "cpu_s": round(result["cpu_s"], 2), "data_s": round(result["data_s"], 2), "charts_s": round(result["charts_s"], 2), "pdf_s": round(result["pdf_s"], 2),
        "pages": result["pages"], "devices": result["devices"], "days": days,
    }))
    return 0


def _check_pdf(path: Path) -> str:
    if not shutil.which("pdffonts") or not shutil.which("pdftotext"):
        return "not checked (poppler-utils missing)"
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, timeout=120).stdout.splitlines()[2:]
    if not fonts or any(line.split()[-5] != "yes" for line in fonts):
        raise S.BenchError("fonts not all embedded:\n" + "\n".join(fonts))
    text = subprocess.run(["pdftotext", "-l", "3", str(path), "-"], capture_output=True, text=True, timeout=120).stdout
    if "巡检" not in text:
        raise S.BenchError("the PDF's first pages do not contain the Chinese title")
    return f"{len(fonts)} font(s), embedded; Chinese text found"


if __name__ == "__main__":
    sys.exit(main())
