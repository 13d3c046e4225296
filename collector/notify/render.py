"""A notice in words: subject and body in the customer's language (Chinese, English, or both), and as data.

Subject: severity, what happened (opened, resolved, SLA at risk …),
customer, device, check and the incident id, so a mail list reads like an
incident list. Body: the analysis and advice rendered when the incident
opened, the diagnosis findings if a playbook run is attached, the SLA
clock for an escalation, and how to open it (`vigil incident show ID`, and
a link if `notify.incident_url` is set). Templates are Jinja2, HTML
autoescaped; they live here as strings so the package needs no data files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import jinja2
from sqlalchemy import Row

from collector.notify import Message
from collector.notify.diagnosis import DiagnosisFinding
from collector.sla.clocks import Clock, hours

SEVERITY = {
    "critical": ("CRITICAL", "严重"), "major": ("MAJOR", "重要"), "minor": ("MINOR", "次要"),
    "warning": ("WARNING", "警告"), "info": ("INFO", "提示"),
}
KIND = {
    "opened": ("", ""),
    "reopened": ("Re-opened", "再次发生"),
    "flapping": ("Flapping, notifications paused", "频繁抖动，暂停通知"),
    "resolved": ("Resolved", "已恢复"),
    "settled": ("Settled after flapping, closed", "抖动已平息，事件关闭"),
    "response_at_risk": ("SLA response at risk", "响应时限即将到期"),
    "response_breached": ("SLA response breached", "响应已超时"),
    "plan_at_risk": ("SLA plan at risk", "方案时限即将到期"),
    "plan_breached": ("SLA plan breached", "方案已超时"),
}
CLOCK = {"response": ("response (acknowledge)", "响应（确认）"), "plan": ("resolution plan", "解决方案")}
STATUS = {"open": "待处理", "acknowledged": "已确认", "planned": "已给出方案", "resolved": "已恢复", "closed": "已关闭"}

_TEXT = {
    "en": """\
{{ headline }}

{{ incident.title_en }} on {{ where }}
Severity:  {{ severity[0] }}
Status:    {{ incident.status }}
Happened:  {{ happened }}
{%- if value %}
Value:     {{ value }}{% endif %}
{%- if clock %}

SLA: the {{ clock_name[0] }} clock has used {{ clock_used }} of its {{ clock_target }} target (deadline {{ deadline }}).
{%- endif %}

Analysis:
{{ incident.analysis_en }}

Advice:
{{ incident.advice_en }}
{%- if findings %}

Diagnosis ({{ findings|length }} finding{{ '' if findings|length == 1 else 's' }}):
{%- for f in findings %}
- [{{ f.severity }}] {{ f.title }}{% if f.detail %}: {{ f.detail }}{% endif %}
{%- endfor %}
{%- elif playbook %}

Diagnosis: the {{ playbook }} playbook runs on the device; its findings are attached to the incident.
{%- endif %}

Incident {{ incident.incident_id }}: vigil incident show {{ incident.incident_id }}{% if link %}
{{ link }}{% endif %}
""",
    "zh": """\
{{ headline }}

{{ where }}：{{ incident.title_zh }}
级别：{{ severity[1] }}
状态：{{ status_zh }}
发生时间：{{ happened }}
{%- if value_zh %}
当前值：{{ value_zh }}{% endif %}
{%- if clock %}

SLA：{{ clock_name[1] }}时限已用 {{ clock_used }}，目标 {{ clock_target }}（截止 {{ deadline }}）。
{%- endif %}

分析：
{{ incident.analysis_zh }}

建议：
{{ incident.advice_zh }}
{%- if findings %}

诊断结果（{{ findings|length }} 项）：
{%- for f in findings %}
- [{{ f.severity }}] {{ f.title_zh or f.title }}{% if f.detail_zh or f.detail %}：{{ f.detail_zh or f.detail }}{% endif %}
{%- endfor %}
{%- elif playbook %}

诊断：已在设备上运行 {{ playbook }} 诊断剧本，结果将附在事件中。
{%- endif %}

事件编号 {{ incident.incident_id }}：vigil incident show {{ incident.incident_id }}{% if link %}
{{ link }}{% endif %}
""",
}

_HTML = """\
<!doctype html>
<html><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: sans-serif; font-size: 14px">
{%- for s in sections %}
<div lang="{{ s.lang }}" style="margin-bottom: 24px">
<h2 style="color: {{ colour }}; margin: 0 0 8px">{{ s.headline }}</h2>
<table style="border-collapse: collapse">
{%- for label, value in s.facts %}
<tr><th style="text-align: left; padding: 2px 12px 2px 0">{{ label }}</th><td>{{ value }}</td></tr>
{%- endfor %}
</table>
{%- if s.clock %}<p><b>SLA</b>: {{ s.clock }}</p>{% endif %}
<h3>{{ s.labels[0] }}</h3><p>{{ s.analysis }}</p>
<h3>{{ s.labels[1] }}</h3><p>{{ s.advice }}</p>
{%- if findings %}
<h3>{{ s.labels[2] }}</h3>
<ul>{% for f in findings %}{% set title = f.title_zh or f.title if s.lang == "zh" else f.title %}{% set detail = f.detail_zh or f.detail if s.lang == "zh" else f.detail %}<li><b>[{{ f.severity }}] {{ title }}</b>{% if detail %}<pre>{{ detail }}</pre>{% endif %}</li>{% endfor %}</ul>
{%- elif s.playbook_note %}<p>{{ s.playbook_note }}</p>{% endif %}
<p>{{ s.labels[3] }} <b>{{ incident.incident_id }}</b>: <code>vigil incident show {{ incident.incident_id }}</code>
{%- if link %} · <a href="{{ link }}">{{ link }}</a>{% endif %}</p>
</div>
{%- endfor %}
</body></html>
"""

_text_env = jinja2.Environment(autoescape=False, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
_html_env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEXT_TEMPLATES = {lang: _text_env.from_string(source) for lang, source in _TEXT.items()}
_HTML_TEMPLATE = _html_env.from_string(_HTML)
COLOURS = {"critical": "#b00020", "major": "#d35400", "minor": "#b7950b", "warning": "#b7950b", "info": "#2e86c1"}


def where(incident: Row) -> str:
    instance = incident.instance.partition("=")[2]
    return f"{incident.customer or '?'} / {incident.device_id}" + (f" {instance}" if instance else "")


def subject(incident: Row, kind: str, language: str) -> str:
    sev_en, sev_zh = SEVERITY.get(incident.severity, (incident.severity.upper(), incident.severity))
    kind_en, kind_zh = KIND.get(kind, (kind, kind))
    place = where(incident)
    if language == "en":
        return f"[{sev_en}] {kind_en + ': ' if kind_en else ''}{place}: {incident.title_en} (incident {incident.incident_id})"
    if language == "zh":
        return f"【{sev_zh}】{kind_zh + '：' if kind_zh else ''}{place}：{incident.title_zh}（事件 {incident.incident_id}）"
    kinds = f"{kind_en} {kind_zh}: " if kind_en else ""
    return f"[{sev_en} {sev_zh}] {kinds}{place}: {incident.title_en} / {incident.title_zh} (#{incident.incident_id})"


def render(incident: Row, kind: str, language: str, *, findings: Sequence[DiagnosisFinding] = (), playbook: str = "",
           clock: Clock | None = None, tz: dt.tzinfo = dt.UTC, link: str = "", level: int = 0) -> Message:
    languages = ("zh", "en") if language == "both" else (language,)
    happened = _time(incident.happened_ms, tz)
    value = "" if incident.value is None else f"{incident.value:g}" + (
        "" if incident.threshold is None else f" (threshold {incident.threshold:g})")
    value_zh = "" if incident.value is None else f"{incident.value:g}" + (
        "" if incident.threshold is None else f"（阈值 {incident.threshold:g}）")
    common: dict[str, Any] = {
        "incident": incident, "where": where(incident), "severity": SEVERITY.get(incident.severity, (incident.severity,) * 2),
        "happened": happened, "value": value, "value_zh": value_zh, "findings": list(findings), "playbook": playbook, "link": link,
        "clock": clock, "status_zh": STATUS.get(incident.status, incident.status),
        "clock_name": CLOCK[clock.name] if clock else ("", ""),
        "clock_used": hours(clock.elapsed_ms) if clock else "", "clock_target": hours(clock.target_ms) if clock else "",
        "deadline": _time(clock.deadline_ms, tz) if clock else "",
    }
    texts, sections = [], []
    for lang in languages:
        headline = subject(incident, kind, lang)
        texts.append(_TEXT_TEMPLATES[lang].render(headline=headline, **common))
        sections.append(_section(lang, headline, common))
    text = "\n――――――――――――――――――――――――――――――――\n\n".join(texts)
    the_subject = subject(incident, kind, language)
    html = _HTML_TEMPLATE.render(subject=the_subject, sections=sections, colour=COLOURS.get(incident.severity, "#333"), **common)
    data = {
        "kind": kind, "level": level, "incident_id": incident.incident_id, "severity": incident.severity,
        "status": incident.status, "customer": incident.customer, "site": incident.site, "agent_id": incident.agent_id,
        "device_id": incident.device_id, "instance": incident.instance, "check_id": incident.check_id,
        "title": {"en": incident.title_en, "zh": incident.title_zh},
        "analysis": {"en": incident.analysis_en, "zh": incident.analysis_zh},
        "advice": {"en": incident.advice_en, "zh": incident.advice_zh},
        "happened_ms": incident.happened_ms, "value": incident.value, "threshold": incident.threshold,
        "subject": the_subject, "link": link,
        "findings": [{"title": {"en": f.title, "zh": f.title_zh or f.title}, "detail": {"en": f.detail, "zh": f.detail_zh or f.detail},
                      "severity": f.severity, "playbook": f.playbook, "step": f.step} for f in findings],
    }
    if clock is not None:
        data["sla"] = {"clock": clock.name, "state": clock.state, "elapsed_ms": clock.elapsed_ms,
                       "target_ms": clock.target_ms, "deadline_ms": clock.deadline_ms}
    return Message(the_subject, text, html, data)


def _section(lang: str, headline: str, c: dict[str, Any]) -> dict[str, Any]:
    incident = c["incident"]
    zh = lang == "zh"
    facts = [
        ("位置" if zh else "Where", c["where"]),
        ("级别" if zh else "Severity", c["severity"][1 if zh else 0]),
        ("状态" if zh else "Status", c["status_zh"] if zh else incident.status),
        ("发生时间" if zh else "Happened", c["happened"]),
    ]
    if c["value"]:
        facts.append(("当前值" if zh else "Value", c["value_zh"] if zh else c["value"]))
    clock = c["clock"]
    clock_text = ""
    if clock is not None:
        clock_text = (f"{c['clock_name'][1]}时限已用 {c['clock_used']}，目标 {c['clock_target']}（截止 {c['deadline']}）" if zh else
                      f"the {c['clock_name'][0]} clock has used {c['clock_used']} of its {c['clock_target']} target (deadline {c['deadline']})")
    note = ""
    if c["playbook"]:
        note = (f"诊断：已在设备上运行 {c['playbook']} 诊断剧本，结果将附在事件中。" if zh else
                f"Diagnosis: the {c['playbook']} playbook runs on the device; its findings are attached to the incident.")
    return {
        "lang": lang, "headline": headline, "facts": facts, "clock": clock_text,
        "analysis": incident.analysis_zh if zh else incident.analysis_en,
        "advice": incident.advice_zh if zh else incident.advice_en,
        "labels": ("分析", "建议", "诊断结果", "事件编号") if zh else ("Analysis", "Advice", "Diagnosis", "Incident"),
        "playbook_note": note,
    }


def _time(ms: int, tz: dt.tzinfo) -> str:
    moment = dt.datetime.fromtimestamp(ms / 1000, tz)
    name = getattr(tz, "key", None) or moment.tzname() or "UTC"
    return moment.strftime("%Y-%m-%d %H:%M:%S ") + name
