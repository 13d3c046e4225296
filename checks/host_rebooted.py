"""A server restarted: its uptime (psutil, or HOST-RESOURCES hrSystemUptime over SNMP) started over.

`Restart` fires on the first point after the restart and resolves itself
after 30 minutes, long enough for the incident to be seen and a planned
reboot to be acknowledged. It takes a restart only when the new uptime is
shorter than the time since the previous point, so a clock that NTP stepped
back (psutil's uptime is now − boot time) or hrSystemUptime's TimeTicks
wrap after 497 days is not a reboot.
"""

from checks.rules import Restart
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="host_rebooted",
    title=Text("Host rebooted", "主机重启"),
    severity="warning",
    applies=Applies("system_uptime_seconds"),
    rule=Restart(),
    thresholds={"hold": 1800.0},
    analysis=Text(
        "{device} restarted: it has been up for only {value:.0f} seconds. "
        "Unless the reboot was planned, it may have crashed or lost power.",
        "{device} 已重新启动，目前仅运行了 {value:.0f} 秒。若非计划内重启，可能发生了崩溃或断电。",
    ),
    advice=Text(
        "Confirm whether the reboot was planned (patching, maintenance); if not, read the previous boot's last log "
        "lines (journalctl -b -1 -e, Windows System event log) for a crash, a watchdog or a power loss.",
        "确认是否为计划内重启（打补丁、维护）；若不是，请查看上一次启动的最后日志"
        "（journalctl -b -1 -e，或 Windows 系统事件日志），排查崩溃、看门狗或断电。",
    ),
    playbook="reboot_reason",
    tags=("availability",),
)
