"""A Cisco device says it is shutting itself down: an environmental reading reached its shutdown limit.

ciscoEnvMonShutdownNotification is sent just before the device powers off
to protect itself (overheating, a failed supply's voltage). Polling will
only see the device go silent, which `device_unreachable` reports minutes
later without the reason. Resolves an hour after the trap: by then the
device is either back (`device_rebooted`) or still unreachable.
"""

from checks.rules import OnEvent
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="environment_shutdown_trap",
    title=Text("Device shutting down (environment)", "设备因环境异常关机"),
    severity="critical",
    applies=Applies("snmp_trap"),
    rule=OnEvent(fires=("env_shutdown",)),
    thresholds={"resolve_after": 3600.0},
    analysis=Text(
        "{device} announced that it is shutting itself down because a temperature or voltage reached its shutdown "
        "limit. Everything connected through it loses service.",
        "{device} 通告因温度或电压达到关机阈值而正在自动关机，经由该设备连接的所有业务都将中断。",
    ),
    advice=Text(
        "Check the room's cooling and the device's power feeds before powering it on again; once it is up, read "
        "show environment and show logging for the reading that caused it.",
        "重新上电前先检查机房制冷和设备供电；设备启动后，查看 show environment 和 show logging 以确认触发关机的参数。",
    ),
    tags=("hardware", "environment", "availability"),
)
