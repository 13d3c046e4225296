"""An agent dropped monitoring data: its buffer was full or too old during a long outage.

`vigil_buffer_dropped_points_total` is the points dropped since the agent
started, so `Rise`, not a rate. Defaults: any rise fires; resolved after an
hour without another. The gap is permanent, in reports and SLA evidence
alike, so even one dropped point is worth a look; the hour keeps a buffer
that drops a little every poll as one incident.
"""

from checks.rules import Rise
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="agent_buffer_overflow",
    title=Text("Agent buffer overflow (data lost)", "代理缓存溢出（数据丢失）"),
    severity="major",
    applies=Applies("vigil_buffer_dropped_points_total"),
    rule=Rise(),
    thresholds={"threshold": 0.0, "hold": 3600.0},
    analysis=Text(
        "The Vigil agent on {device} dropped {value:.0f} points of monitoring data because its buffer was full or "
        "the data was older than its limit. That period is missing from charts and reports for good.",
        "{device} 上的 Vigil 代理因缓存已满或数据超过保留期限，丢弃了 {value:.0f} 个监控数据点，"
        "这段时间的数据将永久缺失于图表和报告中。",
    ),
    advice=Text(
        "Find why the agent could not deliver (vigil agents shows its link and backlog); give the buffer more room "
        "(buffer.max_bytes, buffer.max_age in the agent config) if outages this long are expected at this site.",
        "查明代理无法上送数据的原因（vigil agents 可查看连接与积压情况）；若该站点预计会出现这样长的中断，"
        "请在代理配置中加大缓存（buffer.max_bytes、buffer.max_age）。",
    ),
    tags=("monitoring",),
)
