"""A Huawei device says, by SNMP trap, that a power supply switched off (hwPowerOff; hwPowerOn clears it).

Older VRP releases have no power-supply status table to poll, so for them
this trap is the only word of a lost supply; on CE switches it arrives
before `psu_failed`'s polls confirm it. Cisco's redundant-supply trap is
left out on purpose: it reports the ENVMON table that `psu_failed` already
polls, and would only open a second incident for the same supply. Resolves
on hwPowerOn, or a day after the last hwPowerOff if that trap was lost.
"""

from checks.rules import OnEvent
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="power_supply_trap",
    title=Text("Power supply off (trap)", "电源关闭告警"),
    severity="major",
    applies=Applies("snmp_trap", instance=("entity",)),
    rule=OnEvent(fires=("power_supply_off",), clears=("power_supply_on",)),
    thresholds={"resolve_after": 86400.0},
    analysis=Text(
        "{device} reported by SNMP trap that power supply {instance} switched off. "
        "If it has a second supply it keeps running, but without redundancy.",
        "{device} 通过 SNMP Trap 报告电源 {instance} 已关闭。若有冗余电源，设备可继续运行，但已失去冗余保护。",
    ),
    advice=Text(
        "Check the supply's power cord, PDU and circuit; look at display power on the device; replace the supply "
        "if its feed is fine.",
        "检查该电源的电源线、PDU 及供电回路，并在设备上执行 display power 查看状态；若供电正常，请更换电源模块。",
    ),
    playbook="environment_status",
    tags=("hardware", "power"),
)
