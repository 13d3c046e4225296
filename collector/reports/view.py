"""An inspection as the report shows it: every figure formatted, every word in the report's language.

The templates only lay out what this module prepares; nothing in them
computes. That keeps the HTML and the PDF (the same template, two
stylesheets) and the mail's summary saying the same thing.
"""

from __future__ import annotations

import base64
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import checks
from checks.spec import Check
from collector.inspections.evaluate import instance_text
from collector.inspections.model import (
    SEVERITY_RANK,
    CheckResult,
    DeviceResult,
    Figure,
    Finding,
    Inspection,
)
from collector.reports import charts, i18n

SEVERITIES = ("critical", "major", "minor", "warning", "info")
KEY_FIGURES = ("peak", "low", "bad_time", "restarts", "rise", "missing_hours", "days_left", "events", "incidents")
TIME_ONLY = ("restart_at", "last_event")
TOP_RISKS = 8
LIST_LIMIT = 12


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


class View:
    def __init__(self, inspection: Inspection, lang: str, library: Mapping[str, Check] | None = None) -> None:
        if lang not in i18n.LANGUAGES:
            raise ValueError(f"language {lang!r}: use zh or en")
        self.i = inspection
        self.lang = lang
        self.tz = ZoneInfo(inspection.timezone)
        self.library = library if library is not None else checks.library()

    # ------------------------------------------------------------ words and figures

    def w(self, key: str, **values: object) -> str:
        return i18n.word(key, self.lang, **values)

    def sev(self, severity: str) -> str:
        return self.w(f"sev_{severity}")

    def status(self, status: str) -> str:
        return self.w(f"st_{status}")

    def title(self, check_id: str, finding: Finding | None = None) -> str:
        if finding is not None:
            return finding.title_zh if self.lang == "zh" else finding.title_en
        check = self.library.get(check_id)
        if check is None:
            return check_id
        return check.title.zh if self.lang == "zh" else check.title.en

    def figure(self, f: Figure) -> str:
        label = self.w(f"f_{f.name}") if i18n.has(f"f_{f.name}") else f.name
        at = i18n.when(f.at_ms, self.tz) if f.at_ms else ""
        if f.name in TIME_ONLY:
            return f"{label} {at}"
        value = i18n.number(f.value, f.unit, self.lang)
        if f.name == "days_left":
            value = self.w("already_there") if f.value <= 0 else i18n.number(f.value, "d", self.lang)
        if not at:
            return f"{label} {value}"
        return f"{label} {value}（{at}）" if self.lang == "zh" else f"{label} {value} ({at})"

    def key_figure(self, result: CheckResult) -> str:
        for name in KEY_FIGURES:
            f = result.figure(name)
            if f is not None and (f.value or name in ("peak", "low")):
                return self.figure(f)
        return self.w("no_data") if result.status == "nodata" else ""

    # ------------------------------------------------------------ the whole report

    def context(self, with_charts: bool = True) -> dict[str, Any]:
        i = self.i
        findings = [(d, f) for d in i.devices for f in d.findings]
        counts = Counter(f.severity for _, f in findings)
        ctx: dict[str, Any] = {
            "lang": self.lang, "w": self.w, "title": self.w("report_title"),
            "customer": i.display_name, "provider": i.provider, "number": i.number, "tz": i.timezone,
            "sites": [s.site for s in i.sites],
            "period": f"{i18n.date(i.start_ms, self.tz)} – {i18n.date(i.end_ms - 1, self.tz)}",
            "period_label": i.period_label, "generated": i18n.datetime(i.generated_ms, self.tz),
            "score": _score(i.score), "score_band": _band(i.score),
            "score_how": self.w("score_how", penalties=self._penalties()),
            "severity_counts": [(s, self.sev(s), counts.get(s, 0)) for s in SEVERITIES],
            "kpis": self._kpis(findings),
            "top_risks": self._top_risks(findings),
            "changes": self._changes(),
            "service": self._service(),
            "incidents": self._incidents(),
            "site_rows": self._sites(),
            "overview": [self._overview(d, n) for n, d in enumerate(i.devices)],
            "devices": [self._device(d, n, with_charts) for n, d in enumerate(i.devices)],
            "outlook": self._outlook(), "chart_note": self._chart_note(),
            "any_diagnosis": any(d.diagnosis is not None for d in i.devices),
            "outlook_intro": self.w("outlook_intro", days=180), "no_outlook": self.w("no_outlook", days=180),
            "appendix": [(d.name, d.site, "\n".join(self._raw(r) for r in d.checks)) for d in i.devices],
            "method": [self.w(k) for k in ("m_level", "m_state", "m_restart", "m_gap", "m_forecast", "m_event", "m_incident", "m_availability")],
            "severity_chart": "", "sla_chart": "", "site_chart": "",
        }
        if with_charts:
            ctx.update(self._summary_charts(counts))
        return ctx

    def _penalties(self) -> str:
        sep = "、" if self.lang == "zh" else ", "
        unit = " 分" if self.lang == "zh" else ""
        return sep.join(f"{self.sev(s)} {self.i.penalties.get(s, 0):g}{unit}" for s in SEVERITIES[:4])

    def _kpis(self, findings: list[tuple[DeviceResult, Finding]]) -> list[tuple[str, str, str]]:
        i = self.i
        known = [d.availability for d in i.devices if d.availability is not None]
        compliance = i.service.compliance
        scored = [f for _, f in findings if f.severity != "info"]
        return [
            (self.w("devices_inspected"), str(len(i.devices)), ""),
            (self.w("checks_run"), str(sum(len(d.checks) for d in i.devices)), ""),
            (self.w("findings"), str(len(scored)), "bad" if scored else "good"),
            (self.w("incidents"), str(len(i.incidents)), ""),
            (self.w("sla_compliance"), i18n.percent(compliance), "" if compliance is None else ("good" if compliance >= 95 else "bad")),
            (self.w("availability"), i18n.availability(sum(known) / len(known) if known else None), ""),
        ]

    def _top_risks(self, findings: list[tuple[DeviceResult, Finding]]) -> list[dict[str, str]]:
        ranked = sorted((p for p in findings if p[1].severity != "info"),
                        key=lambda p: (-SEVERITY_RANK[p[1].severity], p[0].score, p[0].name, p[1].check_id))
        return [self._finding_row(d, f) for d, f in ranked[:TOP_RISKS]]

    def _finding_row(self, device: DeviceResult, f: Finding) -> dict[str, str]:
        return {"severity": f.severity, "severity_text": self.sev(f.severity), "device": device.name, "site": device.site,
                "title": self.title(f.check_id, f), "instance": instance_text(f.instance),
                "evidence": "；".join(self.figure(e) for e in f.evidence[:3]) if self.lang == "zh"
                else "; ".join(self.figure(e) for e in f.evidence[:3])}

    def _changes(self) -> dict[str, Any] | None:
        c = self.i.changes
        if c is None:
            return None

        def names(keys: list[str]) -> list[str]:
            shown = []
            for key in keys[:LIST_LIMIT]:
                device, _, rest = key.partition("|")
                check_id, _, instance = rest.partition("|")
                where = instance_text(instance)
                shown.append(f"{device.split('/', 1)[-1]} · {self.title(check_id)}" + (f" · {where}" if where else ""))
            if len(keys) > LIST_LIMIT:
                shown.append(self.w("and_more", n=len(keys)))
            return shown

        delta = None if c.previous_score is None or self.i.score is None else self.i.score - c.previous_score
        return {
            "previous": self.w("previous_report", number=c.previous_number, period=c.previous_period,
                               score=_score(c.previous_score)),
            "delta": "—" if delta is None else f"{delta:+.0f}", "delta_class": "" if not delta else ("good" if delta > 0 else "bad"),
            "lists": [(self.w(k), len(v), names(v)) for k, v in (
                ("new_findings", c.new_findings), ("resolved_findings", c.resolved_findings),
                ("persisting_findings", c.persisting_findings), ("devices_added", c.devices_added),
                ("devices_removed", c.devices_removed)) if v or k in ("new_findings", "resolved_findings")],
        }

    def _service(self) -> dict[str, Any]:
        s = self.i.service
        sep = "、" if self.lang == "zh" else " and "
        calendar = self.w("calendar_24x7") if s.calendar == "24x7" else s.calendar
        clocks = []
        for key, c in (("response", s.response), ("plan", s.plan)):
            clocks.append({"name": self.w(key), "target": i18n.duration(c.target_ms, self.lang), "met": c.met, "missed": c.missed,
                           "running": c.running, "percent": i18n.percent(c.percent), "mean": i18n.duration(c.mean_ms, self.lang),
                           "p90": i18n.duration(c.p90_ms, self.lang),
                           "class": "" if c.percent is None else ("good" if c.percent >= 95 else "bad")})
        return {
            "policy": self.w("sla_policy", response=i18n.duration(s.response.target_ms, self.lang),
                             plan=i18n.duration(s.plan.target_ms, self.lang),
                             severities=sep.join(self.sev(x) for x in s.severities), calendar=calendar),
            "clocks": clocks, "compliance": i18n.percent(s.compliance),
            "not_covered": self.w("not_covered", n=s.not_covered) if s.not_covered else "",
        }

    def _incidents(self) -> list[dict[str, str]]:
        names = {(d.agent_id, d.device_id): d.name for d in self.i.devices}
        rows = []
        for x in sorted(self.i.incidents, key=lambda x: (x.seen_ms, x.incident_id)):
            rows.append({
                "id": str(x.incident_id), "device": names.get((x.agent_id, x.device_id), x.device_id),
                "title": x.title_zh if self.lang == "zh" else x.title_en, "instance": instance_text(x.instance),
                "severity": x.severity, "severity_text": self.sev(x.severity), "seen": i18n.when(x.seen_ms, self.tz),
                "response": i18n.duration(x.response_ms, self.lang) if x.covered else self.w("not_sla"),
                "response_state": x.response_state, "response_text": self.w(f"state_{x.response_state}") if x.covered else "",
                "plan": i18n.duration(x.plan_elapsed_ms, self.lang) if x.covered else "",
                "plan_state": x.plan_state, "plan_text": self.w(f"state_{x.plan_state}") if x.covered else "",
                "status": self.w(f"status_{x.status}") if i18n.has(f"status_{x.status}") else x.status,
            })
        return rows

    def _sites(self) -> list[dict[str, str]]:
        return [{"site": s.site, "devices": str(s.devices), "availability": i18n.availability(s.availability),
                 "incidents": str(s.incidents), "findings": str(s.findings)} for s in self.i.sites]

    def _overview(self, d: DeviceResult, n: int) -> dict[str, Any]:
        counts = Counter(f.severity for f in d.findings if f.severity != "info")
        return {"anchor": f"device-{n}", "name": d.name, "site": d.site, "kind": self._kind(d.kind), "model": d.model or "—",
                "availability": i18n.availability(d.availability), "score": _score(d.score), "band": _band(d.score),
                "counts": [(s, counts[s]) for s in SEVERITIES[:4] if counts.get(s)]}

    def _kind(self, kind: str) -> str:
        return self.w(f"kind_{kind}") if i18n.has(f"kind_{kind}") else kind

    def _device(self, d: DeviceResult, n: int, with_charts: bool) -> dict[str, Any]:
        sep = " · "
        identity = sep.join(f"{label} {value}" for label, value in (
            (self.w("model"), d.model or "—"), (self.w("software"), d.software or "—"), (self.w("address"), d.address or "—"),
            (self.w("uptime"), i18n.duration(d.uptime_s * 1000, self.lang) if d.uptime_s is not None else "—"),
            (self.w("availability"), i18n.availability(d.availability)), (self.w("coverage"), i18n.percent(d.coverage)),
        ))
        chart, captions = "", []
        if with_charts and d.trends:
            end = min(self.i.end_ms, max(self.i.start_ms + 3_600_000, self.i.generated_ms))
            titles = {k: self.w(k) for k in ("chart_usage", "short_cpu", "short_memory", "chart_filesystem", "chart_interface",
                                              "chart_traffic")}
            svg, captions = charts.device_svg(d.trends, titles, end, self.tz)
            chart = data_uri(svg)
        rows = self._status_rows(d)
        problems = [r for r in rows if r["status"] in ("fail", "warn")]
        passed = [r for r in rows if r["status"] not in ("fail", "warn")]
        return {
            "anchor": f"device-{n}", "name": d.name, "key": d.key, "site": d.site, "kind": self._kind(d.kind),
            "score": _score(d.score), "band": _band(d.score), "identity": identity, "status_rows": problems,
            "passed": self._passed(passed), "passed_count": len(passed), "checks_count": len(rows),
            "chart": chart, "captions": captions,
            "findings": [self._finding(f) for f in d.findings],
            "compact": not any(f.severity != "info" for f in d.findings),
            "diagnosis": None if d.diagnosis is None else {
                "playbook": d.diagnosis.playbook, "ran": i18n.datetime(d.diagnosis.ran_ms, self.tz),
                "summary": d.diagnosis.summary_zh if self.lang == "zh" else d.diagnosis.summary_en,
                "excerpt": d.diagnosis.excerpt},
        }

    def _chart_note(self) -> str:
        step_h = next((d.trends[0].lines[0].step_ms // 3_600_000 for d in self.i.devices if d.trends), 1)
        if self.lang == "zh":
            step = f"{step_h} 小时" if step_h > 1 else "小时"
        else:
            step = f"{step_h}-hour" if step_h > 1 else "hourly"
        return self.w("chart_note", step=step, start=i18n.when(self.i.start_ms, self.tz),
                      end=i18n.when(min(self.i.end_ms, max(self.i.start_ms + 3_600_000, self.i.generated_ms)), self.tz))

    def _passed(self, rows: list[dict[str, Any]]) -> str:
        """The checks that passed, one run of text: "CPU 使用率过高 峰值 45% · 内存使用率过高 峰值 60% · …".

        Trap checks that heard nothing are one item ("SNMP Trap 告警 6 项：无"), not six names.
        """
        quiet = [r for r in rows if r.get("trap") and not r["figure"]]
        parts = [self.w("traps_quiet", n=len(quiet))] if quiet else []
        for r in rows:
            if r in quiet:
                continue
            text = r["title"]
            if r["figure"]:
                text += f" {r['figure']}"
            if r["status"] == "nodata":
                text += f" ({r['status_text']})"
            parts.append(text)
        return " · ".join(parts)

    def _status_rows(self, d: DeviceResult) -> list[dict[str, Any]]:
        by_check: dict[str, list[CheckResult]] = defaultdict(list)
        for r in d.checks:
            by_check[r.check_id].append(r)
        rows = []
        for check_id, results in by_check.items():
            worst = max(results, key=lambda r: (_status_rank(r.status), SEVERITY_RANK.get(r.severity or "", -1)))
            where = instance_text(worst.instance)
            if len(results) > 1:
                tally = Counter(r.status for r in results)
                sep = "，" if self.lang == "zh" else ", "
                parts = sep.join(f"{self.status(s)} {tally[s]}" for s in ("fail", "warn", "pass", "nodata") if tally.get(s))
                scope = self.w("instances_summary", n=len(results), parts=parts)
            else:
                scope = where
            figure = self.key_figure(worst)
            if where and (len(results) > 1 or worst.status in ("pass", "nodata")):
                figure = f"{where} {figure}".strip()
            check = self.library.get(check_id)
            limit = ""
            if worst.threshold is not None and check is not None and check.applies.metric != "snmp_trap":
                limit = i18n.number(worst.threshold, worst.unit, self.lang)
            rows.append({"title": self.title(check_id), "scope": scope, "status": worst.status, "status_text": self.status(worst.status),
                         "figure": figure, "limit": limit, "trap": check is not None and check.applies.metric == "snmp_trap"})
        rows.sort(key=lambda r: (-_status_rank(r["status"]), r["title"]))
        return rows

    def _finding(self, f: Finding) -> dict[str, Any]:
        return {
            "severity": f.severity, "severity_text": self.sev(f.severity), "title": self.title(f.check_id, f),
            "instance": instance_text(f.instance), "evidence": [self.figure(e) for e in f.evidence],
            "analysis": f.analysis_zh if self.lang == "zh" else f.analysis_en,
            "advice": f.advice_zh if self.lang == "zh" else f.advice_en,
            "incidents": ", ".join(f"#{n}" for n in f.incidents),
        }

    def _outlook(self) -> list[dict[str, str]]:
        rows = []
        for o in self.i.outlook:
            rows.append({"device": o.device_name, "title": self.title(o.check_id), "instance": instance_text(o.instance),
                         "current": i18n.number(o.current, o.unit, self.lang),
                         "growth": ("+" if o.slope_per_day > 0 else "") + i18n.number(o.slope_per_day, o.unit, self.lang),
                         "limit": i18n.number(o.limit, o.unit, self.lang),
                         "days": self.w("already_there") if not o.days_left else i18n.number(o.days_left, "d", self.lang),
                         "urgent": "bad" if (o.days_left or 0) <= 30 else ""})
        return rows

    def _raw(self, r: CheckResult) -> str:
        """One line of the appendix, kept short (a month of 200 devices is thousands of them): status, check, instance, figures."""
        label = r.check_id + (f" {r.instance}" if r.instance else "")
        figures = " ".join(self._raw_figure(f) for f in r.figures)
        return f"[{self.status(r.status)}] {label}: {figures}"

    def _raw_figure(self, f: Figure) -> str:
        label = self.w(f"f_{f.name}") if i18n.has(f"f_{f.name}") else f.name
        if f.name == "samples":
            return f"n={f.value:.0f}"
        at = f"@{i18n.when(f.at_ms, self.tz)}" if f.at_ms else ""
        if f.name in TIME_ONLY:
            return f"{label}{at}"
        if f.name == "days_left" and f.value <= 0:
            return f"{label}={self.w('already_there')}{at}"
        if f.unit == "s":
            value = i18n.duration(f.value * 1000, self.lang)
        elif f.unit in ("h", "d"):
            value = f"{f.value:g}{f.unit}"
        else:
            value = i18n.number(f.value, f.unit, self.lang).replace(" ", "")
        return f"{label}={value}{at}"

    def _summary_charts(self, counts: Counter[str]) -> dict[str, str]:
        found = {}
        labels = [self.sev(s) for s in SEVERITIES]
        values = [counts.get(s, 0) for s in SEVERITIES]
        found["severity_chart"] = data_uri(charts.bars_svg(labels, values, [charts.SEVERITY_COLORS[s] for s in SEVERITIES],
                                                           [str(v) for v in values]))
        s = self.i.service
        if s.response.met + s.response.missed + s.response.running + s.plan.met + s.plan.missed + s.plan.running:
            found["sla_chart"] = data_uri(charts.stacked_svg(
                [self.w("response"), self.w("plan")],
                [(self.w("met"), charts.STATUS_COLORS["pass"], [s.response.met, s.plan.met]),
                 (self.w("missed"), charts.STATUS_COLORS["fail"], [s.response.missed, s.plan.missed]),
                 (self.w("running"), charts.STATUS_COLORS["nodata"], [s.response.running, s.plan.running])]))
        sites = [x for x in self.i.sites if x.availability is not None]
        if sites:
            found["site_chart"] = data_uri(charts.bars_svg(
                [x.site for x in sites], [x.availability or 0.0 for x in sites],
                [charts.STATUS_COLORS["pass"] if (x.availability or 0) >= 99.9 else charts.STATUS_COLORS["warn"] for x in sites],
                [i18n.availability(x.availability) for x in sites]))
        return found


def _score(score: float | None) -> str:
    """59.5 stays 59.5 (a rounded 60 would not match the hand count); 61.0 is 61."""
    if score is None:
        return "—"
    return f"{score:.0f}" if score == int(score) else f"{score:.1f}"


def _band(score: float | None) -> str:
    if score is None:
        return ""
    return "good" if score >= 90 else ("fair" if score >= 70 else "poor")


def _status_rank(status: str) -> int:
    return {"nodata": 0, "pass": 1, "warn": 2, "fail": 3}[status]

