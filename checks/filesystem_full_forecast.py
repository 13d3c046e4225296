"""A filesystem that, at its recent rate of growth, will be full within a week.

Fed hourly means (see `checks.rules.Forecast`). Defaults: a straight line
through the last 3 days that reaches 100 % within 7 days fires; it resolves
once the line puts that more than 14 days away. Three days follow a new
trend (a log that started growing) within a day or two yet smooth the daily
backup-and-cleanup cycle; seven days is enough warning to order and fit a
disk; at least a day of history is needed before anything is said, so a new
volume's first hours are not taken for a trend.
"""

from checks.rules import Forecast
from checks.spec import Applies, Check, Text

DAY_S = 86400.0

CHECK = Check(
    id="filesystem_full_forecast",
    title=Text("Filesystem will be full soon", "文件系统即将写满"),
    severity="warning",
    applies=Applies("disk_used_percent", instance=("path",)),
    rule=Forecast(),
    thresholds={"threshold": 100.0, "horizon": 7 * DAY_S, "recover_horizon": 14 * DAY_S,
                "lookback": 3 * DAY_S, "min_history": DAY_S},
    analysis=Text(
        "At the rate filesystem {instance} on {device} has grown recently, it will reach {threshold:.0f} % "
        "in about {value:.1f} days.",
        "按近期增长速度，{device} 的文件系统 {instance} 约 {value:.1f} 天后将达到 {threshold:.0f}%。",
    ),
    advice=Text(
        "Find what is growing (du over the largest directories, application logs, backups kept on the same volume); "
        "set up rotation or clean-up, or plan to extend the volume before it is full.",
        "查找持续增长的内容（大目录的 du、应用日志、存放在同一卷上的备份）；"
        "配置日志轮转或定期清理，或在写满之前安排扩容。",
    ),
    playbook="disk_usage",
    playbook_params={"mount": "path"},
    tags=("capacity",),
)
