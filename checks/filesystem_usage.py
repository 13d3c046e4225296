"""A filesystem nearly full: writes will soon fail, and databases and logs with them.

Defaults: above 90 % for 5 minutes, recovered below 85 % for 5. The host
poller's percentage counts only the space a non-root user can write, so
100 % is where applications fail, not where root's reserve is gone; 90 %
leaves room to act on all but the smallest volumes. Recovering at 85 %
keeps a volume that a cleanup brought to 89 % from re-opening the incident
with the next log rotation. Per-volume overrides suit very large disks,
where 90 % is still terabytes; `filesystem_full_forecast` watches the trend.
"""

from checks.rules import Above
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="filesystem_usage",
    title=Text("Filesystem nearly full", "文件系统空间不足"),
    severity="major",
    applies=Applies("disk_used_percent", instance=("path",)),
    rule=Above(),
    thresholds={"threshold": 90.0, "recover": 85.0, "for": 300.0, "recover_for": 300.0},
    analysis=Text(
        "Filesystem {instance} on {device} is {value:.0f} % full (limit {threshold:.0f} %). "
        "When it is full, applications writing to it fail.",
        "{device} 的文件系统 {instance} 已使用 {value:.0f}%（阈值 {threshold:.0f}%），"
        "写满后向其写入数据的应用将会出错。",
    ),
    advice=Text(
        "Find what grew (du -xh --max-depth=2, large or deleted-but-open files with lsof +L1); "
        "clear old logs, dumps and backups or move them elsewhere; extend the volume if the data is needed.",
        "查找增长的内容（du -xh --max-depth=2，以及 lsof +L1 查看已删除但仍被占用的文件）；"
        "清理或迁移旧日志、转储文件和备份；如数据确需保留，请扩容该卷。",
    ),
    playbook="disk_usage",
    playbook_params={"mount": "path"},
    tags=("capacity",),
)
