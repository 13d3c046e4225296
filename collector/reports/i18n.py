"""Every word a report prints, in Chinese and English, and how numbers, times and durations are written.

Chinese is the default (the customers' language); English is on request.
Check titles, analyses and advice come from the check library (both
languages); everything else is here, so a translation is one table.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

LANGUAGES = ("zh", "en")

_WORDS: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "report_title": ("设备巡检报告", "Inspection report"),
    "report_subtitle": ("服务质量及风险管控 · 定期巡检", "Service quality and risk control · periodic inspection"),
    "customer": ("客户", "Customer"),
    "sites": ("站点", "Sites"),
    "period": ("巡检周期", "Period"),
    "provider": ("服务提供方", "Service provider"),
    "number": ("报告编号", "Report number"),
    "generated": ("生成时间", "Generated"),
    "time_zone": ("时区", "Time zone"),
    "contents": ("目录", "Contents"),
    "page": ("第 {n} 页", "Page {n}"),
    "confidential": ("仅供客户内部使用", "For the customer's internal use"),
    # sections
    "s_summary": ("执行摘要", "Executive summary"),
    "s_service": ("服务摘要", "Service summary"),
    "s_devices": ("设备巡检详情", "Devices"),
    "s_outlook": ("容量展望", "Capacity outlook"),
    "s_appendix": ("附录：全部检查结果", "Appendix: every check's result"),
    "s_method": ("附录：巡检方法", "Appendix: how the inspection reads the data"),
    # summary
    "health_score": ("总体健康评分", "Overall health score"),
    "score_band_good": ("良好", "Good"),
    "score_band_fair": ("一般", "Fair"),
    "score_band_poor": ("较差", "Poor"),
    "score_how": (
        "计算方法：每台设备满分 100 分，每个未通过的检查项按其最严重发现扣分（{penalties}），同一检查项的多个实例只扣一次；"
        "“提示”不扣分。总体评分为全部设备得分的平均值。90 分及以上为良好，70–89 分为一般，70 分以下为较差。",
        "How it is computed: each device starts at 100; each check with findings takes off the points of its worst "
        "finding ({penalties}), once per check however many instances it has; notes take nothing off. The overall "
        "score is the mean of the devices' scores. 90 and above is good, 70–89 fair, below 70 poor.",
    ),
    "devices_inspected": ("巡检设备", "Devices inspected"),
    "checks_run": ("检查项次", "Checks run"),
    "findings": ("发现问题", "Findings"),
    "findings_by_severity": ("按严重程度统计的发现", "Findings by severity"),
    "incidents": ("事件", "Incidents"),
    "availability": ("可用性", "Availability"),
    "coverage": ("监控覆盖率", "Monitoring coverage"),
    "sla_compliance": ("SLA 达成率", "SLA compliance"),
    "top_risks": ("主要风险", "Top risks"),
    "no_risks": ("本周期未发现需要处理的问题。", "Nothing needs attention this period."),
    "changes": ("与上期报告相比", "Since the last report"),
    "no_previous": ("这是该客户的第一份巡检报告，暂无可比较的上期报告。",
                    "This is the customer's first inspection report: there is no earlier one to compare with."),
    "previous_report": ("上期报告 {number}（{period}），健康评分 {score}。", "Last report {number} ({period}), health score {score}."),
    "score_change": ("健康评分变化", "Score change"),
    "new_findings": ("新增问题", "New findings"),
    "resolved_findings": ("已消除问题", "Resolved since"),
    "persisting_findings": ("持续存在的问题", "Still present"),
    "devices_added": ("新增设备", "Devices added"),
    "devices_removed": ("移除设备", "Devices removed"),
    "and_more": ("等 {n} 项", "and {n} more"),
    # service
    "sla_policy": (
        "合同约定：紧急故障 {response} 内响应、{plan} 内给出解决方案；适用于{severities}级别事件；计时方式：{calendar}。"
        "计时自 Vigil 首次发现事件起算，响应以确认或方案为准，方案以提交方案为准；未确认即已恢复的事件以恢复时间停止计时。",
        "Contract: an emergency fault is responded to within {response} and has a resolution plan within {plan}; "
        "for {severities} incidents; clock: {calendar}. Clocks start when Vigil first saw the incident; the response "
        "stops at the acknowledgement or plan, the plan clock at the plan; an incident that recovered first stops both.",
    ),
    "calendar_24x7": ("7×24 小时", "7×24"),
    "response": ("响应", "Response"),
    "plan": ("解决方案", "Resolution plan"),
    "target": ("目标", "Target"),
    "met": ("达成", "Met"),
    "missed": ("未达成", "Missed"),
    "running": ("计时中", "Running"),
    "mean_time": ("平均用时", "Mean time"),
    "p90_time": ("90% 用时", "90th percentile"),
    "compliance": ("达成率", "Compliance"),
    "overall_compliance": ("总体达成率", "Overall compliance"),
    "not_covered": ("另有 {n} 起事件不在 SLA 约定范围内（严重程度较低）。", "{n} more incident(s) are not covered by the SLA (lower severity)."),
    "no_incidents": ("本周期没有事件。", "No incidents this period."),
    "availability_by_site": ("各站点可用性", "Availability per site"),
    "site": ("站点", "Site"),
    "devices": ("设备数", "Devices"),
    "incidents_of_period": ("本周期事件", "Incidents of the period"),
    "id": ("编号", "ID"),
    "device": ("设备", "Device"),
    "item": ("检查项", "Check"),
    "severity": ("级别", "Severity"),
    "seen": ("发现时间", "Seen"),
    "status": ("状态", "Status"),
    "state_met": ("达成", "met"),
    "state_breached": ("超时", "breached"),
    "state_on_track": ("计时中", "running"),
    "state_at_risk": ("即将超时", "at risk"),
    "state_": ("—", "—"),
    "status_open": ("待处理", "open"),
    "status_acknowledged": ("已响应", "acknowledged"),
    "status_planned": ("已出方案", "planned"),
    "status_resolved": ("已恢复", "resolved"),
    "status_closed": ("已关闭", "closed"),
    "not_sla": ("不计 SLA", "not under SLA"),
    # devices
    "device_overview": ("设备一览", "Devices at a glance"),
    "kind": ("类型", "Kind"),
    "model": ("型号", "Model"),
    "software": ("软件版本", "Software"),
    "address": ("地址", "Address"),
    "uptime": ("运行时长", "Uptime"),
    "score": ("评分", "Score"),
    "identity": ("设备信息", "Identity"),
    "check_status": ("检查结果", "Checks"),
    "trends": ("趋势", "Trends"),
    "device_findings": ("发现与建议", "Findings and remediation"),
    "no_findings": ("所有检查均已通过。", "Every check passed."),
    "analysis": ("分析", "Analysis"),
    "advice": ("处理建议", "Remediation"),
    "evidence": ("依据", "Evidence"),
    "related_incidents": ("相关事件", "Incidents"),
    "diagnosis": ("现场诊断", "Live diagnosis"),
    "no_diagnosis": ("本次巡检未执行现场诊断。", "No live diagnosis was taken during this inspection."),
    "diagnosis_note": ("设备支持健康检查脚本时，巡检期间现场执行并摘录其结果。", "Where a device has a health playbook, it was run during the inspection and its result is quoted."),
    "instances": ("{n} 个实例", "{n} instances"),
    "instances_summary": ("{n} 个实例：{parts}", "{n} instances: {parts}"),
    "limit": ("阈值", "Limit"),
    "traps_quiet": ("SNMP Trap 告警 {n} 项：未收到", "SNMP trap alarms ({n} checks): none received"),
    "key_figure": ("关键数据", "Key figure"),
    "no_data": ("无数据", "no data"),
    "unknown": ("未知", "unknown"),
    "chart_usage": ("CPU 与内存使用率", "CPU and memory"),
    "short_cpu": ("CPU", "CPU"),
    "short_memory": ("内存", "memory"),
    "chart_cpu": ("CPU 使用率", "CPU usage"),
    "chart_memory": ("内存使用率", "Memory usage"),
    "chart_filesystem": ("文件系统使用率", "Filesystem usage"),
    "chart_interface": ("接口利用率", "Interface utilisation"),
    "chart_traffic": ("接口流量", "Interface traffic"),
    "chart_note": ("趋势图横轴为巡检周期（{start} 至 {end}，刻度为每日零点，长刻度为周一），纵轴范围见图题；曲线为每 {step}均值，"
                   "单条曲线的浅色区域为小时峰值，红色虚线为告警阈值。",
                   "Trend charts span the period ({start} to {end}; ticks at midnight, long ones on Mondays), their scale is in "
                   "the title; lines are {step} means, a single line's shaded band the hourly peaks, the dashed red line the alarm limit."),
    # outlook
    "outlook_intro": (
        "以本周期每小时均值拟合直线（最小二乘），按当前增长速度推算到达告警阈值的时间；只列出 {days} 天内将到达阈值的项目。",
        "A least-squares line through the period's hourly means, projected to the alarm limit at the current rate of "
        "growth; only items that reach it within {days} days are listed.",
    ),
    "current": ("当前", "Now"),
    "growth_per_day": ("日增长", "Growth per day"),
    "days_left": ("剩余天数", "Days left"),
    "already_there": ("已超过", "already past"),
    "no_outlook": ("按当前趋势，{days} 天内没有项目会到达告警阈值。", "At the current trends nothing reaches its limit within {days} days."),
    # appendix
    "figures": ("数据", "Figures"),
    "appendix_intro": ("每台设备每个检查项（含每个实例）的原始结果：状态、检查项与实例、全部数据。",
                       "The raw result of every check on every device and instance: status, check and instance, every figure."),
    "method_intro": ("巡检以每小时汇总数据（样本数、总和、最小值、最大值、最后值）评估本周期，各类规则的读法如下：",
                     "The inspection reads the period from hourly rollups (count, sum, min, max, last of each hour):"),
    "m_level": ("阈值类（如 CPU、内存、文件系统）：峰值为最高的小时最大值；P95 为小时均值的第 95 百分位；若任一小时均值超过阈值，按检查项级别记为问题；"
                "否则 P95 高于恢复线记为“警告”（持续接近阈值）；仅有短时峰值超过阈值记为“提示”。",
                "Levels (CPU, memory, filesystems …): the peak is the highest hourly max; p95 the 95th percentile of the "
                "hourly means. An hour whose mean is past the limit is a finding at the check's severity; otherwise a p95 "
                "past the recover level is a warning (running close to the limit); a max past the limit only is a note."),
    "m_state": ("状态类（如设备不可达、接口中断）：异常时长 = 每小时异常样本比例 × 1 小时之和；达到检查项的持续时间即记为问题，更短记为“提示”；"
                "接口只统计管理状态为启用的小时。",
                "States (unreachable, interface down …): time in the bad state = Σ of each hour's share of bad samples × 1 h; "
                "as long as the check's `for` or longer is a finding, shorter a note; interfaces count only in hours they were admin-up."),
    "m_restart": ("重启：由每小时最后一次运行时长推算启动时间，启动时间前移超过 2 分钟即为一次重启。",
                  "Restarts: each hour's boot time is its last reading's time less its uptime; a boot time that moves on by more than 2 minutes is a restart."),
    "m_gap": ("数据缺失：首末两个有数据的小时之间没有数据的小时数。", "Gaps: hours without data between the first and the last hour with data."),
    "m_forecast": ("写满预测：按检查项规则逐小时重放（近 3 天趋势），周期结束时仍预测 7 天内写满记为问题。",
                   "Forecasts: the check's own rule replayed hour by hour (3-day trend); still predicting full within 7 days at the end of the period is a finding."),
    "m_event": ("告警事件（SNMP Trap）：本周期收到的触发事件数。", "Events (SNMP traps): the firing events received in the period."),
    "m_incident": ("此外，实时检测在本周期为同一检查项开出的事件单，至少按检查项级别记为问题（原始数据可见、小时均值可能看不到的情况）。",
                   "Besides, an incident the live checks opened for the same check and instance in the period makes it at least a finding at the check's severity (raw points see what hourly means can hide)."),
    "m_availability": ("可用性 = 采集成功次数 ÷ 采集总次数；监控覆盖率 = 有数据的小时数 ÷ 周期小时数。",
                       "Availability = successful polls ÷ all polls; monitoring coverage = hours with data ÷ hours of the period."),
    # statuses and severities
    "st_pass": ("通过", "pass"),
    "st_warn": ("警告", "warn"),
    "st_fail": ("未通过", "fail"),
    "st_nodata": ("无数据", "no data"),
    "sev_critical": ("严重", "critical"),
    "sev_major": ("重要", "major"),
    "sev_minor": ("次要", "minor"),
    "sev_warning": ("警告", "warning"),
    "sev_info": ("提示", "note"),
    "kind_host": ("主机", "host"),
    "kind_server": ("服务器", "server"),
    "kind_switch": ("交换机", "switch"),
    "kind_router": ("路由器", "router"),
    "kind_firewall": ("防火墙", "firewall"),
    "kind_ups": ("UPS", "UPS"),
    "kind_storage": ("存储", "storage"),
    "kind_other": ("其他", "other"),
    # figures
    "f_peak": ("峰值", "peak"),
    "f_low": ("最低", "lowest"),
    "f_p95": ("P95", "p95"),
    "f_p5": ("P5", "p5"),
    "f_mean": ("均值", "mean"),
    "f_hours_above": ("超限时长", "time above"),
    "f_hours_below": ("低于阈值时长", "time below"),
    "f_hours_touching": ("触及阈值时长", "time touching"),
    "f_bad_time": ("异常时长", "time in bad state"),
    "f_episodes": ("异常次数", "episodes"),
    "f_restarts": ("重启次数", "restarts"),
    "f_uptime_after": ("重启后运行", "uptime after"),
    "f_restart_at": ("重启", "restart"),
    "f_rise": ("增量", "rise"),
    "f_hours_rising": ("增长时长", "time rising"),
    "f_missing_hours": ("数据缺失", "missing"),
    "f_days_left": ("预计写满", "full in"),
    "f_fires": ("预测告警", "forecast fires"),
    "f_events": ("告警次数", "alarms"),
    "f_last_event": ("最近告警", "last alarm"),
    "f_incidents": ("事件单", "incidents"),
    "f_samples": ("样本数", "samples"),
    # mail
    "mail_subject": ("【巡检报告】{customer} {period}（{number}）", "Inspection report: {customer}, {period} ({number})"),
    "mail_greeting": ("您好，", "Hello,"),
    "mail_intro": ("附件为 {customer} {period} 的设备巡检报告（{number}），要点如下：",
                   "Attached is the inspection report of {customer} for {period} ({number}). In short:"),
    "mail_outro": ("完整的检查结果、趋势与处理建议见附件 PDF。如有疑问，请回复本邮件。",
                   "The attached PDF has every check, the trends and the remediation advice. Reply to this mail with any question."),
    "mail_signature": ("{provider} 运维服务团队", "The {provider} operations team"),
}

UNITS = {"h": ("小时", "h"), "d": ("天", "days")}


def word(key: str, lang: str, **values: object) -> str:
    zh, en = _WORDS[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def has(key: str) -> bool:
    return key in _WORDS


def when(ms: int, tz: ZoneInfo, seconds: bool = False) -> str:
    """`11-05 14:00` in the customer's zone."""
    if not ms:
        return "—"
    return dt.datetime.fromtimestamp(ms / 1000, tz).strftime("%m-%d %H:%M:%S" if seconds else "%m-%d %H:%M")


def date(ms: int, tz: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m-%d")


def datetime(ms: int, tz: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz).strftime("%Y-%m-%d %H:%M")


def duration(ms: float | None, lang: str) -> str:
    """`2 h 30 min` / `2小时30分`, `45 min`, `3 d 4 h`."""
    if ms is None:
        return "—"
    minutes = int(round(ms / 60_000))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if lang == "zh":
        parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "", f"{mins}分" if mins and not days else ""]
        return "".join(parts) or "0分"
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if mins and not days else ""]
    return " ".join(p for p in parts if p) or "0 min"


def number(value: float | None, unit: str = "", lang: str = "zh") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "s":
        return duration(value * 1000, lang)
    if unit in UNITS:
        zh, en = UNITS[unit]
        text = f"{value:.1f}".rstrip("0").rstrip(".")
        return f"{text} {zh if lang == 'zh' else en}" if lang == "en" else f"{text}{zh}"
    if abs(value) >= 1e9:
        text = f"{value / 1e9:.2f} G"
    elif abs(value) >= 1e6:
        text = f"{value / 1e6:.2f} M"
    elif abs(value) >= 100 or value == int(value):
        text = f"{value:.0f}"
    elif abs(value) >= 1:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("%", "°C") else f"{text} {unit}"


def percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return "100%"
    return f"{value:.{digits}f}%"


def availability(value: float | None) -> str:
    """Availability needs more digits near 100 %: 99.65 %, 99.999 %."""
    if value is None:
        return "—"
    if value >= 100:
        return "100%"
    digits = 3 if value >= 99.9 else 2
    return f"{math.floor(value * 10**digits) / 10**digits:.{digits}f}%"
