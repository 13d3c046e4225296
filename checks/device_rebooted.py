"""A network device, UPS or appliance restarted: its SNMP uptime (sysUpTime) went back.

For devices whose only uptime is sysUpTime; servers have their OS uptime
(`host_rebooted`), and on them sysUpTime also goes back when just the SNMP
daemon restarts. `Restart` fires on the first poll after the restart and
resolves itself after 30 minutes. sysUpTime is TimeTicks and wraps after
497 days, which switches outlive; a drop exactly where that wrap would land
is not taken for a restart.
"""

from checks.rules import Restart
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="device_rebooted",
    title=Text("Device rebooted", "设备重启"),
    severity="warning",
    applies=Applies("snmp_uptime_seconds",
                    device_kinds=frozenset({"switch", "router", "firewall", "ups", "storage", "other"})),
    rule=Restart(),
    thresholds={"hold": 1800.0},
    analysis=Text(
        "{device} restarted: it has been up for only {value:.0f} seconds. "
        "Unless the reload was planned, it may have crashed, lost power or been reset by a watchdog.",
        "{device} 已重新启动，目前仅运行了 {value:.0f} 秒。若非计划内重启，可能发生了崩溃、断电或看门狗复位。",
    ),
    advice=Text(
        "Confirm whether the reload was planned; if not, read the device's reload reason and crash information "
        "(show version, show logging; display reboot-info) and check its power supplies.",
        "确认是否为计划内重启；若不是，请查看设备的重启原因和崩溃信息（show version、show logging；"
        "display reboot-info），并检查其电源。",
    ),
    playbook="reboot_reason",
    tags=("availability",),
)
