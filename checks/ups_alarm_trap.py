"""A UPS raised an alarm in its UPS-MIB alarm table (upsTrapAlarmEntryAdded; ...Removed clears it).

The alarm table holds what no polled metric shows: a bad battery, an
overload, a charger or fan failure, a pending shutdown. One incident per
alarm (`alarm`: the well-known alarm's OID, the same in both traps).
Resolves when the UPS removes the alarm, or a day after it was raised if
that trap was lost.
"""

from checks.rules import OnEvent
from checks.spec import Applies, Check, Text

CHECK = Check(
    id="ups_alarm_trap",
    title=Text("UPS alarm", "UPS 告警"),
    severity="major",
    applies=Applies("snmp_trap", instance=("alarm",)),
    rule=OnEvent(fires=("ups_alarm",), clears=("ups_alarm_cleared",)),
    thresholds={"resolve_after": 86400.0},
    analysis=Text(
        "{device} raised an alarm (a battery, overload, charger, fan or input/output fault). "
        "The UPS may not protect its load as it should.",
        "{device} 产生告警（电池、过载、充电器、风扇或输入/输出故障），UPS 可能无法正常保护其负载。",
    ),
    advice=Text(
        "Read the active alarms on the UPS's display or web page; a bad battery or an overload needs action soon "
        "(replace the battery, move load to another UPS).",
        "在 UPS 的面板或网页上查看当前告警；电池故障或过载需尽快处理（更换电池、将部分负载转移到其他 UPS）。",
    ),
    tags=("power",),
)
